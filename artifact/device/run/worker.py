"""The worker: measures one model's pending cells, in a process of its own.

    python -m artifact.device.run.worker <profile> <model> <results dir> [KEY,KEY... [prepare|quiet]]

With cell keys (the parent always gives them: its pending cells of the model, `run --cells` included), only
those of the model's pending cells are measured; without, every pending cell of the model. A two-stage run
(`run --two-stage`, run/stages.py) names the stage after the keys: prepare (every meter that needs no quiet
machine, into prepared/) or quiet (timing, power, op profile of the prepared cells, then the record).

It trains (or loads) the model's baseline, then for each pending cell applies the technique,
writes the deployable file, loads that file back, runs the meters on it, and saves the record
atomically. A pruned cell's fine-tuned model comes from its model package (ARTIFACT_RETRAINED, else
results/<profile>/retrained/); a mini-zoo cell without one is fine-tuned here by the retraining step's
own code, which writes the package this worker then loads. Prints `STEP <what>` and `CELL <key> <seconds>`
lines for the parent's progress bar.
"""
import gc
import os
import sys
import time
import traceback
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ArtifactError, UnsupportedError
from artifact.core.inputs import RETRAINED_ENV, inputs_from_env
from artifact.core.packages import PACKAGED_TECHNIQUES, find_package
from artifact.core.profiles import Cell, load_profile  # noqa: F401 (Cell: a name of the type comments)
from artifact.core.records import Record, rail_set
from artifact.core.results import as_results, timestamp
from artifact.core.techniques import retrains
from artifact.device.run.memory_probe import ProbeServer
from artifact.device.run.meters import STAGES, Deployed, measure_all, needs_quiet
from artifact.device.run.parent import pending_cells
from artifact.device.run.prepared import discard_prepared, load_prepared, save_prepared

TWO_STAGES_NOTE = ("two stages: sizes, parameters, depth, memory and accuracy measured while other cells were "
                   "prepared beside it; time, power and the op profile measured alone, after every preparation")


class CellMeasurer(object):
    """Measures one model's cells inside a worker process."""

    def __init__(self, profile, model_name, results):
        # type: (Any, str, Any) -> None
        from artifact.device.measure.busy import load_average
        from artifact.device.measure.environment import collect_environment, sysfs_root
        from artifact.device.measure.power import discover_power_sensor
        from artifact.device.models.tasks import task_for

        self.profile = profile
        self.model_name = model_name
        self.results = as_results(results)
        self.packages_in = os.environ.get(RETRAINED_ENV) or None  # `run --retrained DIR`
        inputs = inputs_from_env()
        eval_samples = int(inputs.pop("eval_samples") or profile.measurement["eval_samples"])
        self.settings = dict(profile.measurement, eval_samples=eval_samples)
        self.task = task_for(model_name, inputs, eval_samples)
        self.environment = collect_environment()
        self.environment["load_average_at_start"] = str(load_average())
        self.sysfs_root = sysfs_root()  # an emulated tree in tests
        self.sensor, self.no_sensor_reason = discover_power_sensor(self.sysfs_root)
        self._keep_to_the_runs_rails()
        self.memory_probes = ProbeServer(self.results.logs)  # started at the first memory probe
        self._baseline = None  # type: Any  # (model, its baseline_identity) once loaded
        self.last_prepared_s = 0.0  # the last cell prepared (stage "prepare"): its seconds, for the progress line
        if self.sensor is not None:
            self.environment["power_sensor"] = self.sensor.name
            if self.sysfs_root != "/":
                self.environment["power_sensor_emulated"] = self.sysfs_root

    def _keep_to_the_runs_rails(self):
        # type: () -> None
        """The sensor found here against the rail set `run` pinned (run.json `power_rails`): a rail that appeared
        or went since (a VDD_IN) would mix two kinds of power number in one run, so this worker measures none."""
        if self.sensor is None or not os.path.exists(self.results.run_json):
            return
        pinned, found = self.results.read_run_info().get("power_rails"), rail_set(self.sensor.describe())
        if pinned is not None and pinned != found:
            self.sensor.close()
            self.sensor = None
            self.no_sensor_reason = ("one on this run's rails ({} pins {}); the one this worker found reads {} (a "
                                     "rail appeared or went after the run began), so power and energy are not "
                                     "measured".format(self.results.run_json, pinned, found))

    def close(self):
        # type: () -> None
        self.memory_probes.close()

    @property
    def results_dir(self):
        # type: () -> str
        return self.results.path

    def model_path(self, key, technique="baseline"):
        # type: (str, str) -> str
        return self.results.model_file(key, technique)

    def baseline(self):
        return self.loaded_baseline()[0]

    def loaded_baseline(self):
        """(the model's fp32 baseline, its baseline_identity), loaded once per worker and given to every cell that
        needs it (to compress, to check a package against, and to pair its timing with): loading VGG-19's file
        for each of its cells, twice, was minutes of a paper run, and each pruned cell digested it again. Its
        weights' digest is checked at each hand-out; a cell that had changed them in place would get the file
        loaded again, never a changed baseline."""
        from artifact.device.train.package import baseline_identity, weights_sha256
        from artifact.device.train.retrain import baseline_model

        if self._baseline is not None:
            model, identity = self._baseline
            if weights_sha256(model) == identity["weights_sha256"]:
                return self._baseline
            sys.stderr.write("the baseline's weights changed in place during a cell: loading its file again\n")
        model = baseline_model(self.task, self.results, self.model_name, self.settings["train_epochs_scale"],
                               lambda what: print("STEP " + what, flush=True))
        self._baseline = (model, baseline_identity(self.task, model))
        return self._baseline

    def _provenance(self, cell):
        # type: (Cell) -> Dict[str, Any]
        provenance = {"weights": self.task.weights, "data": self.task.description}  # type: Dict[str, Any]
        if self.settings["train_epochs_scale"] != 1.0 and self.task.trains_baseline:
            provenance["train_epochs_scale"] = self.settings["train_epochs_scale"]
        if retrains(cell.technique):
            provenance["retrained"] = cell.technique not in PACKAGED_TECHNIQUES and bool(self.task.can_retrain)
            if not provenance["retrained"]:
                provenance["retrain_note"] = self.task.retrain_note if not self.task.can_retrain else (
                    "no model package measured")
        return provenance

    def fine_tuned(self, cell, baseline, identity, record):
        """`fine_tuned(pruned)` for apply_technique: the cell's package (given, or written here by the retraining
        step for a task trainable here), checked against this run's pruning; None when there is none."""
        from artifact.device.train.package import load_package, provenance_of
        from artifact.device.train.retrain import retrain_cell, retraining_settings

        def fine_tuned(pruned):
            directory = find_package(self.packages_in, cell.key) or find_package(self.results.retrained, cell.key)
            if directory is None and self.task.can_retrain:
                print("STEP retraining {}".format(cell.key), flush=True)
                settings = retraining_settings(self.task, self.profile, self.model_name)
                start = time.perf_counter()
                directory = retrain_cell(self.task, cell, baseline, self.results.retrained, settings,
                                         pruned=pruned, identity=identity)   # trains `pruned` in place
                record.phases["retrain"] = time.perf_counter() - start
            if directory is None:
                return None
            model, manifest = load_package(directory, cell, identity, pruned)
            record.provenance.update(retrained=True, package=provenance_of(directory, manifest))
            record.provenance.pop("retrain_note", None)
            return model

        return fine_tuned

    def measure(self, cell, stage=None):
        # type: (Cell, Optional[str]) -> Optional[Record]
        """The cell's record; `stage` "prepare" (a two-stage run's first stage): the record when no quiet meter is
        asked for, else None once its partial is saved (artifact.device.run.prepared); "quiet": the prepared
        cell timed and its record completed."""
        from artifact.device.compat import keras
        from artifact.device.compress.deploy import load_deployable, save_deployable
        from artifact.device.compress.techniques import RETRAIN_EPOCHS, apply_technique
        from artifact.device.models.architectures.mini_zoo import scaled_epochs

        if stage == "quiet":
            return self._time_prepared(cell)
        t0 = time.perf_counter()
        record = Record(cell.to_dict(), self.environment, started_at=timestamp(), provenance=self._provenance(cell))
        path = self.model_path(cell.key, cell.technique)
        if cell.technique != "baseline" and os.path.exists(path):
            # a pending cell's file was saved by a run killed before its record: nothing says how it was made
            # (from which package, retrained or not), so it is made again, never measured as this cell
            os.remove(path)
        if not os.path.exists(path):
            say(cell.key + ": baseline")
            epochs = scaled_epochs(RETRAIN_EPOCHS, self.settings["train_epochs_scale"]) if self.task.can_retrain else 0
            start = time.perf_counter()
            baseline, identity = self.loaded_baseline()
            record.phases["baseline"] = time.perf_counter() - start
            try:
                say(cell.key + ": compressing")
                start = time.perf_counter()
                variant = apply_technique(cell.technique, cell.setting, baseline, self.task, epochs,
                                          fine_tuned=self.fine_tuned(cell, baseline, identity, record))
                # the fine-tuning inside it (a mini-zoo cell without a package) is its own phase
                record.phases["compress"] = time.perf_counter() - start - record.phases.get("retrain", 0.0)
            except UnsupportedError as exc:
                record.provenance["technique_unsupported"] = str(exc)
                for metric in cell.metrics:
                    record.skip(metric, "{} cannot be applied to {} yet: {}".format(
                        cell.technique, self.model_name, exc))
                record.duration_s = time.perf_counter() - t0
                return record
            say(cell.key + ": saving")
            start = time.perf_counter()
            save_deployable(variant, path, cell.to_dict())
            record.phases["save"] = time.perf_counter() - start
            del variant, baseline
        keras.backend.clear_session()
        gc.collect()
        say(cell.key + ": loading")
        start = time.perf_counter()
        model = load_deployable(path)
        deployed = Deployed(cell, path, model, self.task.predict_fn(model), getattr(model, "is_litert", False))
        record.phases["load"] = time.perf_counter() - start
        measure_all(self, deployed, record, lambda meter: say("{}: {}".format(cell.key, meter.replace("_", " "))),
                    stage=stage)
        record.duration_s = time.perf_counter() - t0
        if stage == "prepare" and needs_quiet(cell):
            save_prepared(self.results, record, path)   # the quiet stage times this file, then removes it
            self.last_prepared_s = record.duration_s
            return None
        del model, deployed
        self.remove_variant(cell, path)
        return record

    def remove_variant(self, cell, path):
        # type: (Cell, str) -> None
        if not self.settings["keep_model_files"] and cell.technique != "baseline":
            os.remove(path)  # its size is in the record; the baseline stays for the next cells

    def _time_prepared(self, cell):
        # type: (Cell) -> Record
        """A two-stage run's quiet stage: the prepared cell's file loaded and timed (the quiet meters), its
        record completed; the environment is this stage's (where the timing ran), with the stages said."""
        from artifact.device.compress.deploy import load_deployable

        prepared = load_prepared(self.results, cell)
        if prepared is None:
            raise RuntimeError("{}: not prepared (its first stage failed or its partial was stale); run again to "
                               "prepare it".format(cell.key))
        record, path = prepared
        t0 = time.perf_counter()
        say(cell.key + ": loading")
        model = load_deployable(path)
        deployed = Deployed(cell, path, model, self.task.predict_fn(model), getattr(model, "is_litert", False))
        record.phases["load"] = record.phases.get("load", 0.0) + time.perf_counter() - t0
        measure_all(self, deployed, record, lambda meter: say("{}: {}".format(cell.key, meter.replace("_", " "))),
                    stage="quiet")
        record.duration_s += time.perf_counter() - t0
        record.environment = dict(self.environment, run_stages=TWO_STAGES_NOTE)
        del model, deployed
        self.remove_variant(cell, path)   # as measure() does: the prepared partial, now stale, is discarded
        return record



def say(what):
    # type: (str) -> None
    """The phase a cell is in, for the parent's progress line (`STEP ...` on stdout)."""
    print("STEP " + what, flush=True)

def worker_main(argv):
    # type: (List[str]) -> int
    """argv: profile, model, results directory[, the cell keys to measure, comma-separated (default: every
    pending cell of the model; a listed cell is measured only if it is pending)[, stage: "prepare" or "quiet" (a
    two-stage run), else every meter]]. Prints `CELL <key> <seconds>` per record saved, `PREPARED <key>
    <seconds>` per cell prepared for the quiet stage, `FAILED <key> <why>` per cell that failed."""
    profile_source, model_name, results_path = argv[:3]
    selected = set(argv[3].split(",")) if len(argv) > 3 else None   # the parent's cells (`run --cells`)
    stage = argv[4] if len(argv) > 4 else None
    if stage is not None and stage not in STAGES:
        raise ArtifactError("stage {}: one of {}".format(stage, ", ".join(STAGES)))
    profile = load_profile(profile_source)
    results = as_results(results_path)
    pending = {c.key for c in pending_cells(profile, results, packages=os.environ.get(RETRAINED_ENV) or None)}
    if selected is not None:
        pending &= selected
    cells = [c for c in profile.cells_of(model_name) if c.key in pending]
    if stage is not None:   # prepare: the cells not prepared yet; quiet: the prepared ones
        prepared = {c.key for c in cells if load_prepared(results, c) is not None}
        cells = [c for c in cells if (c.key in prepared) == (stage == "quiet")]
    if not cells:
        return 0
    measurer = CellMeasurer(profile, model_name, results)
    failed = 0
    try:
        for cell in cells:
            try:
                record = measurer.measure(cell, stage)
            except ArtifactError:
                raise  # a user's mistake (a missing input): the same for every cell, one line from __main__
            except Exception as exc:  # one cell's failure never stops the model's other cells
                traceback.print_exc()  # into the log the parent names
                print("FAILED {} {}: {}".format(cell.key, type(exc).__name__, str(exc).splitlines()[0][:300]
                                                if str(exc) else "no message"), flush=True)
                failed += 1
                continue
            if record is None:   # prepared: timed by the quiet stage
                print("PREPARED {} {:.2f}".format(cell.key, measurer.last_prepared_s), flush=True)
                continue
            results.save_record(record)
            discard_prepared(results, cell.key)   # the record is in: a partial of the cell is done with
            print("CELL {} {:.2f}".format(cell.key, record.duration_s), flush=True)
    finally:
        measurer.close()
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(worker_main(sys.argv[1:]))
    except ArtifactError as exc:
        sys.stderr.write("error: {}\n".format(exc))
        sys.exit(2)
