"""The search: Optuna's multivariate TPE sampler (seeded) over technique and settings; each trial a cell.

Space: the techniques whose registry row (artifact.core.techniques) is explored on the model's kind, each
setting drawn from its row's `search` range (floats to two decimals), named apart per technique so every
parameter keeps one distribution, then mended to hold the technique's rule (quantize_mixed: low_bits below
bits; prune_blocks: one block above 0). Today: quantize bits 2..16; prune threshold 0.05..0.90; quantize_prune
both; quantize_mixed bits 4..16, low_bits 2..15, low_fraction 0.10..0.90; prune_blocks first, middle, last 0..0.90
each (per-third filter-pruning ratios); litert mode fp32 | dynamic | float16 | int8; prune_litert threshold and
mode (pruned, fine-tuned, then converted: fewer channels on the same runtime).
Objectives, all minimised, from the records (artifact.host.advise.from_records): size (MB), latency
(ms) and the accuracy drop against fp32 (top-1 points; BLEU for translators).

The sampler is TPE, multivariate and grouped (the settings depend on the technique), its first
STARTUP_TRIALS trials random: the budgets here are a handful of measurements, far below the population x
generations an evolutionary sampler needs (docs/advisor.md). A proposal equal to a configuration this
study already measured is told PRUNED (marked `duplicate_of`) and asked again, up to ASK_TRIES times: a
restarted study, whose seeded sampler starts again from the same seed, never spends a trial on a
configuration it has; duplicates do not count as trials. Records of the model already in the results
directory (the paper's grid, say) whose technique is searched and whose setting lies in the search range are
added to the study as known trials (marked `known`) when it opens: the sampler learns from them, they are
never proposed again, and they do not count as the search's trials. With `known=False` (`explore --no-known`)
none is added: the sampler starts knowing nothing, as a search from scratch (`invoke bench --only advisor`)
must; a proposal equal to a cell already measured is then told from its record, a trial like any other.

A round asks up to `batch` trials, writes them as [[group]]s appended to the profile's own text
(results/<dir>/explore/<model>.toml), runs `python -m artifact run --cells` on it for the round's trials and the
model's baseline (the accuracy drop needs it) only: the profile's other pending cells are not the search's to
measure; a trial equal to a cell already measured costs nothing. Then it tells Optuna each trial's
objectives. A trial's cell key is stored on it; a search killed mid-round finds, when run again, its
running trials, tells those whose record exists and re-asks the others (nothing lost, nothing measured
twice). The round's `run` dies with the search (artifact.core.children), so a killed search leaves no run
holding the lock beside its re-run; the re-run takes the lock to recover, which sweeps the killed round's
temporary files.
"""
import os
import subprocess
import sys
import time
import warnings

from artifact.core.atomic import write_atomic
from artifact.core.catalog import MINI_ZOO
from artifact.core.children import dies_with
from artifact.core.errors import ConfigError, MissingInputError
from artifact.core.profiles import cell_key, load_profile
from artifact.core.results import ResultsDir
from artifact.core.techniques import CNN, SEARCH_DECIMALS, TECHNIQUES, TRANSLATOR, explored_on, grid_techniques, mend
from artifact.host.advise.from_records import configs_by_model
from artifact.host.advise.pareto import Config, front, hypervolume_2d

CNN_TECHNIQUES = explored_on(CNN)
TRANSLATOR_TECHNIQUES = explored_on(TRANSLATOR)  # the paper quantizes CNNs only; LiteRT does not convert them
GRID_TECHNIQUES = grid_techniques()  # the paper's own grid
STUDY_KIND = "artifact-explore"  # the user attribute that marks a study as this artifact's
STARTUP_TRIALS = 4  # random trials before TPE models the results (Optuna's default, 10, exceeds most budgets here)
ASK_TRIES = 50  # proposals asked for one new configuration before the round gives up (a small space is exhausted)
KNOWN = "known"  # user attribute of a trial added from a record the study did not measure (the grid's, say)
DUPLICATE = "duplicate_of"  # user attribute of a proposal told PRUNED because its cell was measured already
CNN_METRICS = ("params", "storage_bytes", "inference_time_s", "top1", "top5")
TRANSLATOR_METRICS = ("params", "storage_bytes", "inference_time_s", "bleu")


def is_translator(model: str) -> bool:
    return MINI_ZOO.get(model) == "translation" or model == "nmt"


def objectives_for(model: str) -> tuple[str, str, str]:
    return ("size_mb", "latency_ms", "bleu_drop" if is_translator(model) else "top1_drop")


def suggest(trial, techniques: tuple) -> tuple[str, dict]:
    """(technique, setting) of a trial; settings rounded so that a cell key is stable."""
    technique = trial.suggest_categorical("technique", list(techniques))
    row = TECHNIQUES.get(technique)
    if row is None or not row.explore:
        raise ConfigError(f"--techniques: {technique!r} cannot be explored; choose from {', '.join(CNN_TECHNIQUES)}")
    setting = {}
    for spec in row.settings:
        name = f"{technique}.{spec.name}"
        if spec.kind == "choice":
            setting[spec.name] = trial.suggest_categorical(name, list(spec.search))
        elif spec.kind == "int":
            setting[spec.name] = trial.suggest_int(name, *spec.search)
        else:
            setting[spec.name] = round(trial.suggest_float(name, *spec.search), SEARCH_DECIMALS)
    return technique, mend(technique, setting)


def _toml_value(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def trial_groups(model: str, cells: list[tuple[str, dict]]) -> str:
    metrics = TRANSLATOR_METRICS if is_translator(model) else CNN_METRICS
    out = []
    for technique, setting in cells:
        inline = ", ".join(f"{k} = {_toml_value(v)}" for k, v in sorted(setting.items()))
        out.append(f'\n[[group]]  # explore\ntechnique = "{technique}"\nmodels = ["{model}"]\n'
                   f"settings = [{{{inline}}}]\nmetrics = {list(metrics)!r}\n".replace("'", '"'))
    return "".join(out)


class Explorer:
    """One model's search in one results directory."""

    def __init__(self, profile_name: str, results: ResultsDir, model: str, techniques: tuple | None = None,
                 seed: int = 0, batch: int = 3, allow_busy: bool = False, python: str = sys.executable,
                 known: bool = True):
        import optuna

        self.profile = load_profile(profile_name)
        if model not in self.profile.models:
            raise ConfigError(f"--model {model}: not in profile {self.profile.name}; its models: "
                              f"{', '.join(self.profile.models)}")
        self.results, self.model, self.seed, self.batch = results, model, seed, batch
        allowed = TRANSLATOR_TECHNIQUES if is_translator(model) else CNN_TECHNIQUES
        self.techniques = techniques or allowed
        for technique in self.techniques:
            if technique not in allowed:
                raise ConfigError(f"--techniques {technique}: cannot be explored for {model}; choose from "
                                  f"{', '.join(allowed)}")
        if not 0 <= seed < 2 ** 32 or batch < 1:
            raise ConfigError(f"--seed {seed} --batch {batch}: the seed must be 0 to 2**32-1, the batch 1 or more")
        self.objectives = objectives_for(model)
        self.allow_busy, self.python = allow_busy, python
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # every check passed, and the lock taken (a second writer refused), before anything is written
        with self.results.writer("artifact explore --profile {} --model {}".format(profile_name, model)):
            self.study = self._open_study(optuna)
            os.makedirs(self.folder, exist_ok=True)
            if known:
                self.add_known(optuna)

    @property
    def database(self) -> str:
        return self.results.explore_db

    def _open_study(self, optuna):
        """This model's study in explore.db, created if absent; a corrupt file or a study that is not ours is refused
        (one line), never counted as trials."""
        path, fix = self.database, "remove it (or move it away) or give --results ANOTHER_DIR"
        if os.path.isdir(path):
            raise ConfigError(f"{path}: is a directory, not explore's database; {fix}")
        if os.path.exists(path):
            with open(path, "rb") as handle:
                head = handle.read(16)
            if head and head != b"SQLite format 3\x00":
                raise ConfigError(f"{path}: not an SQLite database (explore's Optuna storage); {fix}")
        if not os.path.exists(path):  # a new results directory: made here, after every check passed
            os.makedirs(os.path.dirname(path), exist_ok=True)
        storage = f"sqlite:///{path}"
        try:
            names = {s.study_name: s for s in optuna.get_all_study_summaries(storage)} if os.path.exists(path) else {}
            existing = names.get(self.model)
            if existing is not None:
                directions = [d.name for d in existing.directions]
                ours = existing.user_attrs.get("kind") == STUDY_KIND or not existing.user_attrs  # older runs: unmarked
                if directions != ["MINIMIZE"] * len(self.objectives) or not ours:
                    raise ConfigError(f"{path}: study {self.model!r} is not an explore study of this artifact "
                                      f"(directions {', '.join(directions).lower()}); {fix}")
            with warnings.catch_warnings():  # multivariate and group are marked experimental by Optuna
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, group=True,
                                                     n_startup_trials=STARTUP_TRIALS, constant_liar=True)
            study = optuna.create_study(
                study_name=self.model, storage=storage, load_if_exists=True,
                directions=["minimize"] * len(self.objectives), sampler=sampler)
        except ConfigError:
            raise
        except Exception as exc:  # SQLAlchemy's and Optuna's own errors for a file they cannot use
            raise ConfigError(f"{path}: cannot be opened as explore's database ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); {fix}") from None
        from optuna.trial import TrialState

        marked = study.user_attrs.get("kind") == STUDY_KIND  # then a trial without a cell is one a kill cut short
        strangers = [t.number for t in study.trials if "cell" not in t.user_attrs and t.state == TrialState.COMPLETE]
        if strangers and not marked:  # an unmarked study (older runs) is ours only if each trial done names its cell
            raise ConfigError(f"{path}: study {self.model!r} is not an explore study of this artifact (trial "
                              f"{strangers[0]} names no cell); {fix}")
        study.set_user_attr("kind", STUDY_KIND)
        return study

    @property
    def folder(self) -> str:
        return self.results.explore

    @property
    def profile_file(self) -> str:
        return self.results.explore_profile(self.model)

    def grid_keys(self) -> set[str]:
        return {c.key for c in self.profile.cells_of(self.model)}

    def completed(self) -> list:
        """The search's own completed trials (known ones, added from records, are not among them)."""
        from optuna.trial import TrialState

        return [t for t in self.study.trials if t.state == TrialState.COMPLETE and KNOWN not in t.user_attrs]

    def _distributions(self, optuna, technique: str) -> dict:
        """Parameter name -> the distribution `suggest` draws it from."""
        d = optuna.distributions
        out: dict = {"technique": d.CategoricalDistribution(list(self.techniques))}
        for spec in TECHNIQUES[technique].settings:
            name = f"{technique}.{spec.name}"
            out[name] = (d.CategoricalDistribution(list(spec.search)) if spec.kind == "choice" else
                         d.IntDistribution(*spec.search) if spec.kind == "int" else d.FloatDistribution(*spec.search))
        return out

    def add_known(self, optuna) -> int:
        """Add each record of this model the study has no trial for, as a known trial; returns how many."""
        configs = self._configs()
        have = {t.user_attrs.get("cell") for t in self.study.trials}
        added = 0
        for key, record in sorted(self.results.load_records().items()):
            cell = record.cell
            if cell["model"] != self.model or cell["technique"] not in self.techniques or key in have:
                continue
            values = self._values(key, configs)
            setting = dict(cell.get("setting") or {})
            if values is None or mend(cell["technique"], dict(setting)) != setting:
                continue
            params = dict({f"{cell['technique']}.{k}": v for k, v in setting.items()}, technique=cell["technique"])
            try:
                trial = optuna.trial.create_trial(
                    params=params, distributions=self._distributions(optuna, cell["technique"]), values=values,
                    user_attrs={"cell": key, "technique": cell["technique"], "setting": setting, KNOWN: True})
            except ValueError:  # a setting outside the search range (or not one of its parameters): not added
                continue
            self.study.add_trial(trial)
            added += 1
        return added

    def _values(self, key: str, configs: dict) -> list[float] | None:
        config = configs.get(key)
        if config is None:
            return None
        values = [config.get(o) for o in self.objectives]
        return None if any(v is None for v in values) else [float(v) for v in values]  # type: ignore[arg-type]

    def _configs(self) -> dict[str, Config]:
        return {c.evidence[0]: c for c in configs_by_model(self.results.load_records()).get(self.model, [])}

    def recover(self) -> int:
        """Trials left running by a killed search: told from their record, else failed and asked again."""
        from optuna.trial import TrialState

        configs, recovered = self._configs(), 0
        for frozen in [t for t in self.study.trials if t.state == TrialState.RUNNING]:
            values = self._values(frozen.user_attrs.get("cell", ""), configs)
            if values is not None:
                self.study.tell(frozen.number, values)
            else:
                self.study.tell(frozen.number, state=TrialState.FAIL)
                self.study.enqueue_trial(frozen.params, skip_if_exists=False)
            recovered += 1
        return recovered

    def _write_profile(self, extra: list[tuple[str, dict]]) -> None:
        with open(self.profile.source) as handle:
            text = handle.read()
        known = set(self.grid_keys())
        cells = []
        for technique, setting in extra:
            key = cell_key(self.model, technique, setting)
            if key not in known:
                known.add(key)
                cells.append((technique, setting))
        write_atomic(self.profile_file, text + "\n# ---- explore: trials of " + self.model + "\n"
                     + trial_groups(self.model, cells))

    def trial_cells(self) -> list[tuple[str, dict]]:
        return [(t.user_attrs["technique"], t.user_attrs["setting"]) for t in self.study.trials
                if "technique" in t.user_attrs and DUPLICATE not in t.user_attrs]

    def _ask_new(self, taken: set):
        """(trial, cell key) of a proposal whose cell is not in `taken`; None when ASK_TRIES proposals all were."""
        from optuna.trial import TrialState

        for _ in range(ASK_TRIES):
            trial = self.study.ask()
            technique, setting = suggest(trial, self.techniques)
            key = cell_key(self.model, technique, setting)
            if key in taken:
                trial.set_user_attr(DUPLICATE, key)
                self.study.tell(trial, state=TrialState.PRUNED)
                continue
            for name, value in (("cell", key), ("technique", technique), ("setting", setting)):
                trial.set_user_attr(name, value)
            return trial, key
        return None

    def run_round(self, count: int) -> int:
        """Ask `count` trials, measure their cells, tell the results; returns how many completed."""
        from optuna.trial import TrialState

        asked: list = []
        taken = {t.user_attrs.get("cell") for t in self.study.trials if t.state == TrialState.COMPLETE}
        for _ in range(count):
            new = self._ask_new(taken)
            if new is None:
                break
            asked.append(new)
            taken.add(new[1])
        if not asked:
            return 0
        self._write_profile(self.trial_cells())
        cells = [c.key for c in self.profile.cells_of(self.model) if c.technique == "baseline"] + [k for _, k in asked]
        command = [self.python, "-m", "artifact", "run", "--profile", self.profile_file, "--results",
                   self.results.path, "--cells", ",".join(cells)] + (["--allow-busy"] if self.allow_busy else [])
        proc = subprocess.run(command, capture_output=True, text=True, preexec_fn=dies_with(os.getpid()))
        if proc.returncode == 2:  # a user's mistake (inputs, a busy machine): one line, as from run itself
            raise MissingInputError((proc.stderr.strip().splitlines() or ["run failed"])[-1].replace("error: ", "", 1))
        configs, done = self._configs(), 0
        for trial, key in asked:
            values = self._values(key, configs)
            if values is None:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, values)
                done += 1
        return done

    def explore(self, trials: int, minutes: float, progress=None) -> dict:
        """Measure up to `trials` completed trials in all (earlier runs count), within `minutes`."""
        with self.results.writer("explore"):  # the lock: what a killed round left (.tmp-*) is swept, no run beside
            self.recover()
        deadline = time.monotonic() + 60.0 * minutes
        failures_in_a_row = 0
        while len(self.completed()) < trials and time.monotonic() < deadline and failures_in_a_row < 3:
            done = self.run_round(min(self.batch, trials - len(self.completed())))
            failures_in_a_row = 0 if done else failures_in_a_row + 1
            if progress is not None:
                progress(self.summary())
        return self.summary()

    def summary(self) -> dict:
        """The explored front against the paper's grid: hypervolumes in two planes, same reference point."""
        configs = self._configs()
        grid = [c for k, c in configs.items() if k in self.grid_keys() and c.name.split(" ")[0] in GRID_TECHNIQUES]
        explored_keys = {t.user_attrs.get("cell") for t in self.completed()}
        explored = [c for k, c in configs.items() if k in explored_keys]
        size, latency, accuracy = self.objectives
        out = {"model": self.model, "seed": self.seed, "trials": len(self.completed()), "grid_points": len(grid),
               "objectives": list(self.objectives), "grid_records": sorted(c.evidence[0] for c in grid),
               "explored_records": sorted(c.evidence[0] for c in explored),
               "front": [{"config": c.name, **{o: c.get(o) for o in self.objectives}, "record": c.evidence[0],
                          "explored": c.evidence[0] in explored_keys}
                         for c in front(list({c.evidence[0]: c for c in grid + explored}.values()),
                                        list(self.objectives))]}
        for x, y in ((size, accuracy), (latency, accuracy)):
            points: dict[str, list[tuple[float, float]]] = {
                name: [(px, py) for c in group if (px := c.get(x)) is not None and (py := c.get(y)) is not None]
                for name, group in (("grid", grid), ("explored", explored))}
            every = points["grid"] + points["explored"]
            if not every:
                continue
            top = (max(p[0] for p in every), max(p[1] for p in every))
            span = (top[0] - min(p[0] for p in every), top[1] - min(p[1] for p in every))
            reference = (top[0] + 0.1 * span[0] + 1e-9, top[1] + 0.1 * span[1] + 1e-9)
            hv = {name: hypervolume_2d(pts, reference) for name, pts in points.items()}
            out[f"hypervolume_{x}_{y}"] = dict(hv, ratio=(hv["explored"] / hv["grid"]) if hv["grid"] else None)
        return out
