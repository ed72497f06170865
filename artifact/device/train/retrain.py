"""`artifact retrain`: fine-tune each pruned cell of a profile and hand it over as a model package.

For every cell of a technique in artifact.core.packages.PACKAGED_TECHNIQUES whose task can be trained
here (the mini-zoo always; a Table I CNN with --imagenet-train; the GNMT with --nmt-train): the model's
baseline (trained here for the mini-zoo, into results/<profile>/models/ where `run` finds it too; the
TF-Slim / nmt weights otherwise), pruned as the board prunes it, fine-tuned by `loop.fine_tune` with the
task's retraining settings (the profile's [retraining.<model>] over the task's defaults), optionally scored,
and written as a package. A cell whose package is already there and valid is kept; a run killed mid-way
resumes from the cell's last checkpoint. The worker calls `retrain_cell` too, for a mini-zoo cell that has
no package yet, so the default run and CI go through the same hand-over as the server.
"""
import os
import shutil
import time
from typing import Any, Callable, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ArtifactError, ConfigError
from artifact.core.packages import PACKAGED_TECHNIQUES, find_package, read_manifest
from artifact.core.profiles import RETRAINING_SETTINGS, Cell
from artifact.core.results import RETRAIN_WORK
from artifact.device.train.loop import fine_tune
from artifact.device.train.package import baseline_identity, checked_manifest, write_package

WORK = RETRAIN_WORK  # <packages>/.work/<cell key>/: checkpoints of a fine-tuning not finished yet


def baseline_model(task, results, model_name, epochs_scale, say=None):
    # type: (Any, Any, str, float, Optional[Callable[[str], None]]) -> Any
    """The model's fp32 baseline from results/<profile>/models/, trained (or loaded) and saved there first."""
    from artifact.device.compress.storage import load_model_file, save_model_file

    path = results.model_file(Cell(model_name, "baseline", {}, []).key, "baseline")
    if not os.path.exists(path):
        if say is not None:
            say("training {}".format(model_name))
        model = task.train(epochs_scale=epochs_scale)
        save_model_file(model, path, {"model": model_name, "technique": "baseline"})
    return load_model_file(path)[0]


def retraining_settings(task, profile, model_name, max_steps=None):
    # type: (Any, Any, str, Optional[int]) -> Dict[str, Any]
    """The task's defaults, the profile's [retraining.<model>] over them, --max-steps over both."""
    settings = dict(task.retraining_defaults(profile.measurement["train_epochs_scale"]))
    settings.update(profile.retraining.get(model_name, {}))
    unknown = sorted(set(settings) - set(RETRAINING_SETTINGS))
    if unknown:
        raise AssertionError("retraining setting {} is not in RETRAINING_SETTINGS".format(unknown[0]))
    if max_steps is not None:
        if max_steps < 1:
            raise ConfigError("--max-steps {}: give 1 or more steps".format(max_steps))
        settings["planned_steps"] = settings["steps"]
        settings["steps"] = min(settings["steps"], max_steps)
    return settings


def _training_provenance(source, settings, result, seconds):
    # type: (Any, Dict[str, Any], Any, float) -> Dict[str, Any]
    from artifact.device.measure.environment import collect_environment, git_commit

    env = collect_environment()
    return {"data": source.description, "data_path": os.path.abspath(source.path) if os.path.exists(source.path)
            else source.path, "data_index_sha256": source.index_sha256,
            "steps": result.steps, "planned_steps": settings.get("planned_steps", settings["steps"]),
            "batch_size": int(settings["batch_size"]), "optimizer": settings["optimizer"],
            "learning_rate": float(settings["learning_rate"]), "momentum": float(settings.get("momentum", 0.0)),
            "clip_norm": float(settings.get("clip_norm", 0.0)), "seed": int(settings.get("seed", 0)),
            "first_loss": result.first_loss, "final_loss": result.final_loss,
            "resumed_from_step": result.started_at_step, "seconds": seconds,
            "examples_per_s": result.examples / seconds if seconds > 0 else None,
            "device": env.get("tf_gpus") or "CPU ({} cores, {})".format(env.get("cpu_count"), env.get("machine")),
            "tensorflow": env.get("tensorflow"), "python": env.get("python"),
            "code_revision": git_commit()}


def retrain_cell(task, cell, baseline, packages, settings, progress=None, pruned=None, identity=None):
    # type: (Any, Cell, Any, str, Dict[str, Any], Optional[Callable[[int, int, float, float], None]], Any, Optional[Dict[str, Any]]) -> Optional[str]
    """Fine-tune `cell`'s pruned model and write its package; returns the package's directory, or None when
    the run stopped before the last step (its checkpoint stays in <packages>/.work/<key>/ for the next run).
    `pruned`: the cell's pruned model when the caller has it (it is trained in place)."""
    from artifact.device.compress.techniques import pruned_for_fine_tuning
    from artifact.device.models.architectures.mini_zoo import seed_everything

    seed_everything(int(settings.get("seed", 0)))
    if pruned is None:
        pruned = pruned_for_fine_tuning(cell.technique, cell.setting, baseline)
    source = task.training_source()
    work = os.path.join(packages, WORK, cell.key)
    start = time.perf_counter()
    result = fine_tune(pruned, source, settings, work, progress)
    seconds = time.perf_counter() - start
    if result.steps < int(settings["steps"]):
        return None
    validation = {}  # type: Dict[str, Any]
    if task.accuracy_unavailable() is None:
        limit = int(settings.get("validation_samples", 0))
        validation = dict(task.evaluate(pruned, limit=limit), samples=limit or "all")
    directory = write_package(packages, cell, pruned, identity or baseline_identity(task, baseline),
                              _training_provenance(source, settings, result, seconds), validation)
    shutil.rmtree(work, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(work))  # the last cell's checkpoints gone: no empty .work left behind
    except OSError:
        pass
    return directory


def packaged_cells(profile, models=None):
    # type: (Any, Optional[List[str]]) -> List[Cell]
    return [c for c in profile.cells if c.technique in PACKAGED_TECHNIQUES and (not models or c.model in models)]


class _Reporting(list):
    """The outcomes list, calling `done(outcome, seconds since the last one)` as each is added."""

    def __init__(self, done):
        # type: (Optional[Callable[[Any, float], None]]) -> None
        super(_Reporting, self).__init__()
        self.done, self.since = done, time.perf_counter()

    def append(self, outcome):
        # type: (Any) -> None
        super(_Reporting, self).append(outcome)
        if self.done is not None:
            now = time.perf_counter()
            self.done(outcome, now - self.since)
            self.since = now

    def extend(self, outcomes):
        # type: (Any) -> None
        for outcome in outcomes:
            self.append(outcome)


class RetrainOutcome(object):
    def __init__(self, cell, status, detail, package=None):
        # type: (Cell, str, str, Optional[str]) -> None
        # status: written, kept (a valid package was there), skipped (detail says why) or stopped (before its
        # last step: its checkpoint stays for the next run)
        self.cell, self.status, self.detail, self.package = cell, status, detail, package


def retrain_profile(profile, results, packages, inputs, max_steps=None, models=None, bar=None, say=print,
                    done=None, keys=None):
    # type: (Any, Any, str, Dict[str, Any], Optional[int], Optional[List[str]], Any, Callable[[str], None], Optional[Callable[[RetrainOutcome, float], None]], Optional[List[str]]) -> List[RetrainOutcome]  # noqa: E501
    """Every packaged cell of `profile` (of `models` when given; of `keys` when given): written, kept (valid
    already) or skipped (why); `done(outcome, seconds)` after each cell (the progress line). A baseline's key in
    `keys` trains (or loads) that model's baseline only."""
    from artifact.device.compat import keras
    from artifact.device.models.tasks import task_for

    cells = [c for c in packaged_cells(profile, models) if keys is None or c.key in keys]
    baselines_only = [c.model for c in profile.cells
                      if keys is not None and c.key in keys and c.technique == "baseline"]
    outcomes = _Reporting(done)  # type: List[RetrainOutcome]
    for model_name in [m for m in profile.models if any(c.model == m for c in cells) or m in baselines_only]:
        task = task_for(model_name, inputs, int(inputs.get("eval_samples") or 0))
        mine = [c for c in cells if c.model == model_name]
        if not task.can_retrain:
            outcomes.extend(RetrainOutcome(c, "skipped", task.retrain_note) for c in mine)
            continue
        settings = retraining_settings(task, profile, model_name, max_steps)
        baseline = baseline_model(task, results, model_name, profile.measurement["train_epochs_scale"], say)
        identity = baseline_identity(task, baseline)
        for cell in mine:
            existing = find_package(packages, cell.key)
            if existing is not None:
                try:
                    manifest = checked_manifest(existing, cell, identity)
                    if manifest["training"]["steps"] >= settings["steps"]:
                        outcomes.append(RetrainOutcome(cell, "kept", "valid package already there", existing))
                        continue
                except ArtifactError as exc:
                    say("replacing {}: {}".format(existing, exc))
            if bar is not None:
                bar.reset(total=int(settings["steps"]))
                bar.set_description(cell.key)

            def progress(step, steps, loss, rate, bar=bar):
                if bar is not None:
                    bar.n = step
                    bar.set_postfix_str("loss {:.3f}, {:.0f} examples/s".format(loss, rate))
                    bar.refresh()

            directory = retrain_cell(task, cell, baseline, packages, settings, progress, identity=identity)
            if directory is None:  # stopped before its last step: the checkpoint stays for the next run
                outcomes.append(RetrainOutcome(cell, "stopped", "stopped before its last step; run again to resume",
                                               None))
                continue
            training = read_manifest(directory)["training"]
            detail = "{} steps{}, loss {:.3f} -> {:.3f}, {:.1f} s".format(
                training["steps"], " (resumed at step {})".format(training["resumed_from_step"])
                if training["resumed_from_step"] else "", training["first_loss"], training["final_loss"],
                training["seconds"])
            outcomes.append(RetrainOutcome(cell, "written", detail, directory))
        keras.backend.clear_session()
    return outcomes
