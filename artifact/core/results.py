"""The results directory of one run: the one owner of every path, kind and format version in it.

    results/<profile>/
        inputs.json       the inputs the records were measured on (kind artifact-inputs)
        run.json          the profile, environment, cell counts, step times (kind artifact-run)
        records/*.json    one record per cell (kind artifact-record, artifact.core.records)
        models/           the deployed file of each cell (suffix from artifact.core.techniques)
        prepared/<key>.json  a cell prepared by a two-stage run's first stage, not yet timed (kind
                          artifact-prepared-cell, artifact.device.run.prepared): never a record
        retrained/<key>/  the model package of each fine-tuned pruned cell (artifact.core.packages), and
                          retrained/.work/<key>/ its training checkpoints until the package is written
        logs/<model>.log  each worker's stderr
        verdicts.json     the claims judged against the records (kind artifact-verdicts)
        results.csv       every measured number, tidy: cell x metric x statistic (pandas.read_csv)
        report/           index.html, report.md, summary.json, figures/*.png
        explore/<model>.toml, explore/<model>.json, explore.db   `artifact explore`'s trials, summaries, study

The device side writes inputs.json, records/, models/, logs/ and run.json; the host side writes
verdicts.json and report/. Everything joins through these files, every one of them written by
artifact.core.atomic.write_atomic.
"""
import contextlib
import fcntl
import os
import shutil
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.atomic import write_atomic
from artifact.core.errors import ConfigError, FormatError
from artifact.core.evidence import describe_platform
from artifact.core.inputs import pinned
from artifact.core.jsonfile import FORMAT_VERSION, check_format, read_json, write_json_atomic
from artifact.core.packages import MANIFEST as PACKAGE_MANIFEST
from artifact.core.records import load_records, record_path, save_record
from artifact.core.schema import check, field
from artifact.core.techniques import suffix_for

DEFAULT_ROOT = "results"
LOCK_FILE = ".lock"  # who writes into the directory now (ResultsDir.writer)
TMP_PREFIX = ".tmp-"  # every atomic write's temporary file or directory, beside its target (swept at lock time)
RETRAIN_WORK = ".work"  # retrained/.work/<key>/: a fine-tuning's checkpoints until its package is written
RUN_KIND = "artifact-run"
INPUTS_KIND = "artifact-inputs"
VERDICTS_KIND = "artifact-verdicts"


class ResultsDir(object):
    """Paths and files of one results directory."""

    def __init__(self, path):
        # type: (str) -> None
        if os.path.exists(path) and not os.path.isdir(path):
            raise ConfigError("--results {}: is a file, not a directory; give a directory".format(path))
        self.path = path

    @classmethod
    def for_profile(cls, profile_name, results=None):
        # type: (str, Optional[str]) -> ResultsDir
        """`results` when given, else results/<profile> (a profile given as a path: its file's stem)."""
        if results:
            return cls(results)
        stem = os.path.splitext(os.path.basename(profile_name))[0]
        return cls(os.path.join(DEFAULT_ROOT, stem))

    def __repr__(self):
        return "ResultsDir({!r})".format(self.path)

    # ---- paths
    @property
    def records(self):
        # type: () -> str
        return os.path.join(self.path, "records")

    @property
    def models(self):
        # type: () -> str
        return os.path.join(self.path, "models")

    @property
    def retrained(self):
        # type: () -> str
        """Where `retrain` writes model packages and `run` looks for them unless given --retrained DIR."""
        return os.path.join(self.path, "retrained")

    @property
    def logs(self):
        # type: () -> str
        return os.path.join(self.path, "logs")

    @property
    def report(self):
        # type: () -> str
        return os.path.join(self.path, "report")

    @property
    def run_json(self):
        # type: () -> str
        return os.path.join(self.path, "run.json")

    @property
    def inputs_json(self):
        # type: () -> str
        return os.path.join(self.path, "inputs.json")

    @property
    def results_csv(self):
        # type: () -> str
        return os.path.join(self.path, "results.csv")

    @property
    def verdicts_json(self):
        # type: () -> str
        return os.path.join(self.path, "verdicts.json")

    @property
    def report_html(self):
        # type: () -> str
        return os.path.join(self.report, "index.html")

    @property
    def report_md(self):
        # type: () -> str
        return os.path.join(self.report, "report.md")

    @property
    def summary_json(self):
        # type: () -> str
        return os.path.join(self.report, "summary.json")

    @property
    def figures(self):
        # type: () -> str
        return os.path.join(self.report, "figures")

    @property
    def fleet(self):
        # type: () -> FleetDir
        return FleetDir(self.path)

    @property
    def summary(self):
        # type: () -> str
        """The summary page of this run alone (`artifact summary` over it: a quick run's, never the full run's)."""
        return os.path.join(self.path, "summary")

    def figure_file(self, stem):
        # type: (str) -> str
        return os.path.join(self.figures, stem + ".png")

    @property
    def explore(self):
        # type: () -> str
        """`artifact explore`'s folder: each model's trials as a profile (.toml) and its summary (.json)."""
        return os.path.join(self.path, "explore")

    @property
    def explore_db(self):
        # type: () -> str
        return os.path.join(self.path, "explore.db")

    def explore_profile(self, model):
        # type: (str) -> str
        return os.path.join(self.explore, model + ".toml")

    def explore_summary(self, model):
        # type: (str) -> str
        return os.path.join(self.explore, model + ".json")

    def log_file(self, model):
        # type: (str) -> str
        return os.path.join(self.logs, model + ".log")

    def model_file(self, cell_key, technique):
        # type: (str, str) -> str
        return os.path.join(self.models, cell_key + suffix_for(technique))

    def record_file(self, cell_key):
        # type: (str) -> str
        return record_path(self.records, cell_key)

    @property
    def prepared(self):
        # type: () -> str
        """A two-stage run's cells prepared but not yet timed (artifact.device.run.prepared): outside records/, so
        a kill between the stages leaves such a cell pending, never a half-measured record."""
        return os.path.join(self.path, "prepared")

    def prepared_file(self, cell_key):
        # type: (str) -> str
        return os.path.join(self.prepared, cell_key + ".json")

    def relative(self, path):
        # type: (str) -> str
        return os.path.relpath(path, self.path)

    # ---- one writer at a time
    @contextlib.contextmanager
    def writer(self, command):
        # type: (str) -> Iterator[None]
        """Hold the directory's lock while `command` writes into it: a second writer gets one line naming
        the holder. The lock is the kernel's (flock), so a killed holder leaves nothing stale behind; its
        half-written temporary files are removed here."""
        self.make()
        path = os.path.join(self.path, LOCK_FILE)
        try:  # never through a symbolic link: the lock's text would overwrite whatever it points at
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            handle = os.fdopen(fd, "r+")  # noqa: SIM115 (closed by the with below, after the except)
        except OSError as exc:
            if os.path.islink(path):
                raise ConfigError("{}: is a symbolic link; remove it (the lock file is the results directory's "
                                  "own)".format(path))
            raise ConfigError("{}: cannot create the lock file ({}); give a results directory you can write "
                              "to".format(path, exc.strerror))
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise ConfigError("{} is in use by {}; wait for it to finish (or stop it), or give --results "
                                  "ANOTHER_DIR".format(self.path, holder))
            handle.seek(0)
            handle.truncate()
            handle.write("pid {} (`{}`) since {}".format(os.getpid(), command, timestamp()))
            handle.flush()
            self.remove_leftovers()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def remove_leftovers(self):
        # type: () -> List[str]
        """What writes a kill interrupted left behind, swept only under the lock (the one cleaner): every `.tmp-*`
        file or directory anywhere in the directory (the agreed prefix of every atomic write: records, run.json,
        model files, packages being written, the report), the checkpoints of a cell whose package is already whole
        (retrained/.work/<key>), and a package renamed aside while being replaced (<key>.old-<pid>: removed when
        the new one is in, put back when it is not). A live resume checkpoint (no package yet) is kept. Returns
        the paths removed or restored, relative to the directory."""
        removed = []  # type: List[str]
        for base, folders, files in os.walk(self.path):
            for name in [n for n in files + folders if n.startswith(TMP_PREFIX)]:
                _remove(os.path.join(base, name))
                removed.append(self.relative(os.path.join(base, name)))
            folders[:] = [n for n in folders if not n.startswith(TMP_PREFIX)]
        if os.path.isdir(self.retrained):
            for name in sorted(os.listdir(self.retrained)):
                key, dot, pid = name.rpartition(".old-")
                if dot and key and pid.isdigit():
                    aside, package = os.path.join(self.retrained, name), os.path.join(self.retrained, key)
                    if os.path.isfile(os.path.join(package, PACKAGE_MANIFEST)):
                        _remove(aside)
                    else:
                        _remove(package)
                        os.rename(aside, package)
                    removed.append(self.relative(aside))
            work = os.path.join(self.retrained, RETRAIN_WORK)
            for key in sorted(os.listdir(work)) if os.path.isdir(work) else []:
                if os.path.isfile(os.path.join(self.retrained, key, PACKAGE_MANIFEST)):
                    _remove(os.path.join(work, key))
                    removed.append(self.relative(os.path.join(work, key)))
        return removed

    # ---- records
    def load_records(self, set_aside=False):
        # type: (bool) -> Dict[str, Any]
        return load_records(self.records, set_aside)

    def save_record(self, record):
        # type: (Any) -> str
        return save_record(self.records, record)

    # ---- inputs.json
    def pin_inputs(self, inputs):
        # type: (Mapping[str, Any]) -> None
        """Refuse to mix records measured on other weights or data into one directory; pin them the first time."""
        given = pinned(inputs)
        if os.path.exists(self.inputs_json):
            data = read_json(self.inputs_json, "inputs")
            fix = "remove it, or give --results NEWDIR"
            check_format(data, INPUTS_KIND, self.inputs_json, fix)
            before = field(data, "inputs", "a table", self.inputs_json, fix)
            if before != given:
                changed = sorted(k for k in set(before) | set(given) if before.get(k) != given.get(k))
                raise ConfigError(
                    "{} was measured with other inputs ({}: {} then, {} now); give --results NEWDIR "
                    "or remove {}".format(self.path, changed[0], before.get(changed[0]) or "none",
                                          given.get(changed[0]) or "none", self.path))
            return
        self.make()
        write_json_atomic(self.inputs_json, {"format_version": FORMAT_VERSION, "kind": INPUTS_KIND, "inputs": given})

    def make(self):
        # type: () -> None
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as exc:
            raise ConfigError("--results {}: cannot create it ({}); give a writable directory".format(
                self.path, exc.strerror))
        if not os.access(self.path, os.W_OK):
            raise ConfigError("--results {}: not writable; give a writable directory".format(self.path))

    # ---- run.json
    def read_run_info(self):
        # type: () -> Dict[str, Any]
        if not os.path.exists(self.run_json):
            raise FormatError("{}: no run here; run `invoke run` (or `invoke reproduce-all`) first".format(
                self.run_json))
        data = read_json(self.run_json, "run")
        fix = "remove it and run `invoke run` again (finished cells are kept)"
        check_format(data, RUN_KIND, self.run_json, fix)
        for name, kind in (("profile", "a string"), ("stands_for", "a table"), ("steps", "a table"),
                           ("environment", "a table"), ("power_rails", "a string")):
            field(data, name, kind, self.run_json, fix, required=False)
        for model, paper_models in (data.get("stands_for") or {}).items():
            check(paper_models, "a list", "{}: stands_for.{}".format(self.run_json, model), fix)
        return data

    def state_platform(self):
        # type: () -> bool
        """Write run.json's `environment.platform` as its own recorded facts give it (artifact.core.evidence:
        what a new run's device side writes), for a run recorded before run.json said it; nothing is measured
        again and a sentence already there is never trusted. True when the file changed (no environment: False)."""
        info = self.read_run_info()
        env = info.get("environment")
        if not env:
            return False
        stated = describe_platform({k: v for k, v in env.items() if k != "platform"})
        if env.get("platform") == stated:
            return False
        env["platform"] = stated
        write_json_atomic(self.run_json, info)
        return True

    def pin_power_rails(self, rails):
        # type: (str) -> None
        """Refuse to mix power read from other rails into one run (a VDD_IN that appeared, a sensor replaced);
        pin them in run.json the first time (`power_rails`, artifact.core.records.rail_set)."""
        info = {"format_version": FORMAT_VERSION, "kind": RUN_KIND}  # type: Dict[str, Any]
        if os.path.exists(self.run_json):
            info = self.read_run_info()
            before = info.get("power_rails")
            if before is not None and before != rails:
                raise ConfigError("{}: power was measured on {} and the sensor now reads {}; one run keeps one "
                                  "rail set: give --results NEWDIR (or restore the sensor)".format(
                                      self.run_json, before, rails))
            if before == rails:
                return
        info["power_rails"] = rails
        write_json_atomic(self.run_json, info)

    def update_run_info(self, profile=None, steps=None):
        # type: (Any, Optional[Mapping[str, float]]) -> Dict[str, Any]
        """Write run.json: the profile and what was measured (after `run`), step times (any step)."""
        info = {}  # type: Dict[str, Any]
        if os.path.exists(self.run_json):
            info = read_json(self.run_json, "run")
            check_format(info, RUN_KIND, self.run_json, "remove it and re-run `invoke run`")
        elif profile is None:
            return info  # nothing run here yet: a step time has nowhere to go
        if profile is not None:
            records = self.load_records()
            environment = next(iter(records.values())).environment if records else {}
            info.update(format_version=FORMAT_VERSION, kind=RUN_KIND, profile=profile.name, label=profile.label,
                        description=profile.description, stands_for=profile.stands_for,
                        profile_file=os.path.relpath(profile.source), environment=environment,
                        cells=len(profile.cells), records=len(records))
        info.setdefault("steps", {}).update(steps or {})
        write_json_atomic(self.run_json, info)
        return info

    # ---- verdicts.json (what is in it is the judge's: artifact.host.judge)
    def write_text_atomic(self, path, text):
        # type: (str, str) -> None
        """A text file beside the JSON ones, replaced whole (a reader never sees half of it)."""
        write_atomic(path, text)

    def write_verdicts(self, data):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        """Write verdicts.json; returns what was written (with its kind and format version)."""
        data = dict(data, format_version=FORMAT_VERSION, kind=VERDICTS_KIND)
        write_json_atomic(self.verdicts_json, data)
        return data

    def read_verdicts(self):
        # type: () -> Dict[str, Any]
        if not os.path.exists(self.verdicts_json):
            raise FormatError("{}: no verdicts yet; run `invoke check` first".format(self.verdicts_json))
        data = read_json(self.verdicts_json, "verdicts")
        check_format(data, VERDICTS_KIND, self.verdicts_json, "re-run `invoke check`")
        return data


class SummaryDir(object):
    """Paths of `artifact summary`'s folder (default results/summary): one verdict per claim over every run."""

    def __init__(self, path=None):
        # type: (Optional[str]) -> None
        self.path = path or os.path.join(DEFAULT_ROOT, "summary")

    @property
    def summary_json(self):
        # type: () -> str
        return os.path.join(self.path, "summary.json")

    @property
    def summary_md(self):
        # type: () -> str
        return os.path.join(self.path, "summary.md")

    @property
    def index_html(self):
        # type: () -> str
        return os.path.join(self.path, "index.html")

    def remove_leftovers(self):
        # type: () -> List[str]
        """What a summary killed mid-write left: its own temporary files (`.tmp-*-summary.json`, ...). summary
        takes no lock, so it sweeps only these, when it writes; the names of the folder's other files are kept."""
        if not os.path.isdir(self.path):
            return []
        own = tuple("-" + os.path.basename(p) for p in (self.summary_json, self.summary_md, self.index_html))
        removed = sorted(n for n in os.listdir(self.path) if n.startswith(TMP_PREFIX) and n.endswith(own))
        for name in removed:
            _remove(os.path.join(self.path, name))
        return removed


class FleetDir(object):
    """Paths of a fleet run inside its results directory (RESULTS/fleet/, artifact.host.fleet): each try of a task
    in attempts/<task>/<attempt>/ (a results directory of its own), records of later tries kept in aside/, the
    workers' logs, the profile the boards run, each machine's running markers."""

    def __init__(self, results_path):
        # type: (str) -> None
        self.path = os.path.join(results_path, "fleet")

    @property
    def attempts(self):
        # type: () -> str
        return os.path.join(self.path, "attempts")

    def attempt(self, task_dir, attempt):
        # type: (str, str) -> str
        return os.path.join(self.attempts, task_dir, attempt)

    @property
    def aside(self):
        # type: () -> str
        return os.path.join(self.path, "aside")

    def aside_record(self, cell_key, attempt):
        # type: (str, str) -> str
        return os.path.join(self.aside, "{}--{}.json".format(cell_key, attempt))

    @property
    def logs(self):
        # type: () -> str
        return os.path.join(self.path, "logs")

    @property
    def profile_file(self):
        # type: () -> str
        return os.path.join(self.path, "profile.toml")

    def running(self, machine):
        # type: (str) -> str
        return os.path.join(self.path, "machines", machine, "running")

    @property
    def references(self):
        # type: () -> str
        """Each board's reference cell (boards of one kind differ): references/<board>/<cell>.json."""
        return os.path.join(self.path, "references")

    def reference_record(self, board, cell_key):
        # type: (str, str) -> str
        return os.path.join(self.references, board, cell_key + ".json")

    @staticmethod
    def stamped_record(attempt_dir):
        # type: (str) -> str
        """The attempt's record with the board's identity: the file linked into records/."""
        return os.path.join(attempt_dir, "record.fleet.json")

    @staticmethod
    def attempt_log(attempt_dir):
        # type: (str) -> str
        return os.path.join(attempt_dir, "fleet.log")


def _remove(path):
    # type: (str) -> None
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def as_results(results):
    # type: (Any) -> ResultsDir
    """A ResultsDir from a ResultsDir or a path."""
    return results if isinstance(results, ResultsDir) else ResultsDir(results)


def timestamp():
    # type: () -> str
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
