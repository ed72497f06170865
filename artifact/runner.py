"""Run a profile: one fresh worker process per model, one atomic record per cell.

The parent (`run_profile`) works out which cells have no record yet, starts
`python -m artifact.runner <profile> <model> <results>` for each model that has any, shows
progress from the worker's `CELL <key> <seconds>` lines, and reports failures at the end.
A worker trains (or loads) the model's baseline, then for each cell applies the technique,
writes the deployable file, loads that file back, measures it, and saves the record.
Killing either at any moment loses at most the cell in progress; a re-run redoes only that.
"""
import gc
import os
import subprocess
import sys
import time

from artifact.errors import ArtifactError, ConfigError, MissingInputError, UnsupportedError
from artifact.profiles import INPUTS, Cell, load_profile
from artifact.records import (
    Measurement,
    Record,
    load_records,
    read_json,
    save_record,
    write_json_atomic,
)

POWER_METRICS = ("power_mean_w", "power_peak_w", "energy_j")
ACCURACY_METRICS = ("top1", "top5", "precision", "recall", "f1", "bleu")


def records_dir(results_dir):
    return os.path.join(results_dir, "records")


def models_dir(results_dir):
    return os.path.join(results_dir, "models")


def pending_cells(profile, results_dir):
    # type: (Any, str) -> List[Cell]
    """Cells without a record, and cells whose technique could not be applied when they ran
    (a newer version of the artifact may support it now)."""
    done = load_records(records_dir(results_dir))
    return [c for c in profile.cells
            if c.key not in done or done[c.key].provenance.get("technique_unsupported")]


# inputs given on the command line -> the environment variables a worker reads them from
INPUT_ENV = {"imagenet": "ARTIFACT_IMAGENET", "slim_checkpoints": "ARTIFACT_CHECKPOINTS",
             "nmt_data": "ARTIFACT_NMT", "eval_samples": "ARTIFACT_EVAL_SAMPLES"}


def inputs_from_env(environ=None):
    # type: (Optional[Dict[str, str]]) -> Dict[str, Optional[str]]
    environ = os.environ if environ is None else environ
    return {name: environ.get(var) or None for name, var in INPUT_ENV.items()}


def check_same_inputs(results_dir, inputs):
    # type: (str, Dict[str, Optional[str]]) -> None
    """Refuse to mix records measured on other weights or data into one results directory."""
    given = {k: (os.path.abspath(v) if v and k != "eval_samples" else v)
             for k, v in sorted(inputs.items()) if k in INPUT_ENV}
    path = os.path.join(results_dir, "inputs.json")
    if os.path.exists(path):
        before = read_json(path, "inputs").get("inputs", {})
        if before != given:
            changed = sorted(k for k in set(before) | set(given) if before.get(k) != given.get(k))
            raise ConfigError(
                "{} was measured with other inputs ({}: {} then, {} now); give --results NEWDIR "
                "or remove {}".format(results_dir, changed[0], before.get(changed[0]) or "none",
                                      given.get(changed[0]) or "none", results_dir))
        return
    os.makedirs(results_dir, exist_ok=True)
    write_json_atomic(path, {"format_version": 1, "kind": "artifact-inputs", "inputs": given})


def validate_inputs(models, inputs):
    # type: (List[str], Dict[str, Optional[str]]) -> None
    """Open the user's checkpoints and data sets for the Table I models before any worker starts,
    so a wrong path is one line now rather than a worker failure later. Each data set is read
    once here, not once per model."""
    from artifact.models.paper_architectures import PAPER_MODELS

    paper = sorted(set(m for m in models if m in PAPER_MODELS))
    limit = int(inputs.get("eval_samples") or 0)
    cnns = [m for m in paper if m != "nmt"]
    if inputs.get("slim_checkpoints"):
        from artifact.models.slim_checkpoint import find_checkpoint

        for model in cnns:
            find_checkpoint(inputs["slim_checkpoints"], model)
    if inputs.get("imagenet") and cnns:
        from artifact.models.imagenet import ImageNetVal

        ImageNetVal(inputs["imagenet"], limit=limit)
    if inputs.get("nmt_data") and "nmt" in paper:
        from artifact.models.nmt_data import NmtData

        NmtData.from_directory(inputs["nmt_data"], limit=limit or None)


def check_inputs(profile, inputs):
    # type: (Any, Dict[str, Optional[str]]) -> None
    missing = [need for need in profile.requires if not inputs.get(need)]
    if missing:
        raise MissingInputError("profile {!r} needs {}".format(
            profile.name, "; ".join(INPUTS[m] for m in missing)))


def run_profile(profile_name, results_dir, inputs=None, progress=None, python=sys.executable):
    """Measure every cell of the profile that has no record yet; returns (done, failures)."""
    profile = load_profile(profile_name)
    inputs = dict(inputs or {})
    check_inputs(profile, inputs)
    todo = pending_cells(profile, results_dir)
    validate_inputs([c.model for c in todo], inputs)
    check_same_inputs(results_dir, inputs)
    env = dict(os.environ)
    for name, var in INPUT_ENV.items():
        env.pop(var, None)
        if inputs.get(name):
            env[var] = str(inputs[name])
    failures = []
    log_dir = os.path.join(results_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    for model in [m for m in profile.models if any(c.model == m for c in todo)]:
        log_path = os.path.join(log_dir, model + ".log")
        cmd = [python, "-m", "artifact.runner", profile.source, model, results_dir]
        with open(log_path, "a") as log:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, universal_newlines=True,
                                    env=env)
            for line in proc.stdout:
                if line.startswith("CELL ") and progress is not None:
                    progress(model, line.split()[1], float(line.split()[2]))
                elif line.startswith("STEP ") and progress is not None:
                    progress(model, line[5:].strip(), None)
            code = proc.wait()
        if code != 0:
            failures.append("{} (exit {}; see {})".format(model, code, log_path))
    return len(todo), failures


class CellMeasurer(object):
    """Measures one model's cells inside a worker process."""

    def __init__(self, profile, model_name, results_dir):
        from artifact.environment import collect_environment, sysfs_root
        from artifact.measure.power import discover_power_sensor
        from artifact.models.tasks import task_for

        self.profile = profile
        self.model_name = model_name
        self.results_dir = results_dir
        self.settings = profile.measurement
        inputs = inputs_from_env()
        eval_samples = int(inputs.pop("eval_samples") or self.settings["eval_samples"])
        self.settings = dict(self.settings, eval_samples=eval_samples)
        self.task = task_for(model_name, inputs, eval_samples)
        self.environment = collect_environment()
        self.sysfs_root = sysfs_root()  # an emulated tree in tests
        self.sensor, self.no_sensor_reason = discover_power_sensor(self.sysfs_root)
        if self.sensor is not None:
            self.environment["power_sensor"] = self.sensor.name
            if self.sysfs_root != "/":
                self.environment["power_sensor_emulated"] = self.sysfs_root

    def model_path(self, key, technique="baseline"):
        from artifact.compress.deploy import suffix_for

        return os.path.join(models_dir(self.results_dir), key + suffix_for(technique))

    def baseline(self):
        from artifact.compress.storage import load_model_file, save_model_file

        path = self.model_path(Cell(self.model_name, "baseline", {}, []).key)
        if not os.path.exists(path):
            print("STEP training {}".format(self.model_name), flush=True)
            model = self.task.train(epochs_scale=self.settings["train_epochs_scale"])
            save_model_file(model, path, {"model": self.model_name, "technique": "baseline"})
        return load_model_file(path)[0]

    def measure(self, cell):
        # type: (Cell) -> Record
        from artifact.compat import keras
        from artifact.compress.deploy import load_deployable, save_deployable
        from artifact.compress.storage import parameter_count
        from artifact.compress.techniques import RETRAIN_EPOCHS, apply_technique
        from artifact.models.mini_zoo import scaled_epochs

        started, t0 = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
        retrains = cell.technique in ("prune", "quantize_prune")
        provenance = {"weights": self.task.weights, "data": self.task.description}
        if self.settings["train_epochs_scale"] != 1.0 and self.task.can_retrain:
            provenance["train_epochs_scale"] = self.settings["train_epochs_scale"]
        if retrains:
            provenance["retrained"] = bool(self.task.can_retrain)
            if not self.task.can_retrain:
                provenance["retrain_note"] = self.task.retrain_note
        record = Record(cell.to_dict(), self.environment, started_at=started, provenance=provenance)
        path = self.model_path(cell.key, cell.technique)
        if not os.path.exists(path):
            epochs = scaled_epochs(RETRAIN_EPOCHS, self.settings["train_epochs_scale"]) if self.task.can_retrain else 0
            try:
                variant = apply_technique(cell.technique, cell.setting, self.baseline(), self.task, epochs)
            except UnsupportedError as exc:
                record.provenance["technique_unsupported"] = str(exc)
                for metric in cell.metrics:
                    record.skip(metric, "{} cannot be applied to {} yet: {}".format(
                        cell.technique, self.model_name, exc))
                record.duration_s = time.perf_counter() - t0
                return record
            save_deployable(variant, path, cell.to_dict())
            del variant
        keras.backend.clear_session()
        gc.collect()
        model = load_deployable(path)
        litert = getattr(model, "is_litert", False)
        fn = self.task.predict_fn(model)
        metrics = set(cell.metrics)
        if "storage_bytes" in metrics:
            record.add(Measurement("storage_bytes", [os.path.getsize(path)],
                                   notes={"file": os.path.relpath(path, self.results_dir)}))
        if "storage_gzip_bytes" in metrics:
            from artifact.compress.sparsity import compressed_size

            record.add(Measurement("storage_gzip_bytes", [compressed_size(path)], notes={
                "what": "the deployable file through gzip -9: what unstructured zeros save when stored compressed"}))
        if "params" in metrics and litert:
            record.skip("params", "a LiteRT flatbuffer holds constants, not Keras weights; see the fp32 cell")
        elif "params" in metrics:
            record.add(Measurement("params", [parameter_count(model)]))
        if "depth" in metrics:
            from artifact.models.paper_architectures import depth

            record.add(Measurement("depth", [depth(model)], notes={
                "what": "weight layers on the longest input-to-output path (recurrent layers only for RNNs)"}))
        if metrics & set(("inference_time_s",) + POWER_METRICS):
            reference = self._reference_fn(cell) if "inference_time_s" in metrics else None
            self._time_and_power(record, fn, metrics, reference)
            del reference
        if "memory_peak_bytes" in metrics:
            self._memory(record, path)
        wanted = [m for m in ACCURACY_METRICS if m in metrics]
        unavailable = self.task.accuracy_unavailable() if wanted else None
        if unavailable:
            for metric in wanted:
                record.skip(metric, unavailable)
        elif wanted:
            scores = self.task.evaluate(model, self.settings["eval_samples"])
            for metric in wanted:
                if metric in scores:
                    record.add(Measurement(metric, [scores[metric]], notes={
                        "task": self.task.description, "scored": scores.get("scored")}))
                else:
                    record.skip(metric, "not defined for a {} model".format(self.task.kind))
        if litert and "inference_time_s" in record.measurements:
            record.measurements["inference_time_s"].notes["litert_ops_in_model"] = model.op_summary()
        if metrics & {"op_shares", "dequantize_share"} and litert:
            for metric in metrics & {"op_shares", "dequantize_share"}:
                record.skip(metric, "the TF step-stats profiler does not see inside the LiteRT interpreter; "
                                    "inference_time_s notes list the operators of its model")
        elif metrics & {"op_shares", "dequantize_share"}:
            self._op_profile(record, model, fn, metrics)
        record.duration_s = time.perf_counter() - t0
        if not self.settings["keep_model_files"] and cell.technique != "baseline":
            del model, fn
            os.remove(path)  # its size is in the record; the baseline stays for the next cells
        return record

    def _memory(self, record, path, inferences=3):
        """Footprint of loading `path` and running it, in a fresh process (memory_probe)."""
        import json

        cmd = [sys.executable, "-m", "artifact.measure.memory_probe", path, self.model_name, str(inferences)]
        # Python 3.6 (Jetson TX2) has neither capture_output nor text
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: UP022
                              universal_newlines=True)  # noqa: UP021
        lines = [line for line in proc.stdout.splitlines() if line.startswith("MEMORY ")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
            record.skip("memory_peak_bytes", "memory probe failed (exit {}): {}".format(proc.returncode, tail))
            return
        result = json.loads(lines[-1][len("MEMORY "):])
        flags = [] if result["peak_reset_with_clear_refs"] else [
            "the kernel refused /proc/self/clear_refs: the inference-phase peak also holds the load phase's peak"]
        record.add(Measurement("memory_peak_bytes", [result.pop("peak_delta_bytes")], flags=flags, notes=dict(
            result, what="peak RSS of a fresh process while it runs {} inferences of the loaded model, minus "
                         "its RSS before loading (the loader's own transients are reset away), plus TF's GPU "
                         "allocator peak when a GPU runs it (footprint says which)".format(inferences))))

    def _reference_fn(self, cell):
        """The fp32 baseline's predict function, to pair a variant's timing windows with (or None)."""
        if cell.technique == "baseline" or not self.settings["paired_timing"]:
            return None
        return self.task.predict_fn(self.baseline())

    def _time_and_power(self, record, fn, metrics, reference=None):
        """Time `fn` by the stopping rule; with a sensor, sample power over the same windows and
        deduct the idle power measured just before; watch the board (clocks, temperatures) meanwhile."""
        from artifact.measure.board_state import BoardMonitor, throttling_flags
        from artifact.measure.timing import time_inference

        power_wanted = [m for m in POWER_METRICS if m in metrics]
        sampler, idle, no_power = None, None, None
        if power_wanted and self.sensor is None:
            no_power = "needs a power sensor: " + self.no_sensor_reason
        elif power_wanted:
            from artifact.measure.power import PowerSampler, SensorReadError, idle_power

            try:
                idle, _ = idle_power(self.sensor, seconds=self.settings["idle_s"])
            except (ValueError, SensorReadError) as exc:
                no_power = "idle power could not be measured, so energy cannot be deducted: {}".format(exc)
            else:
                sampler = PowerSampler(self.sensor, self.settings["power_rate_hz"])
                sampler.start()
        monitor = BoardMonitor(self.sysfs_root)
        monitor.start()
        try:
            timing = time_inference(fn, self.task.timing_inputs(), self.settings, reference=reference)
        finally:
            if sampler is not None:
                time.sleep(0.05)  # let the trace run past the end of the last window
            trace = sampler.stop() if sampler is not None else None
            board = monitor.stop()
        throttled = throttling_flags(board)
        record.add(Measurement("inference_time_s", timing.samples, warmup=timing.warmup,
                               converged=timing.converged, notes=dict(timing.notes(), board=board),
                               flags=timing.flags(self.settings["ci_target"]) + throttled))
        if no_power is not None:
            for metric in power_wanted:
                record.skip(metric, no_power)
        elif trace is not None:
            self._power_from_trace(record, trace, timing, idle, metrics, throttled)

    def _power_from_trace(self, record, trace, timing, idle, metrics, throttled):
        from artifact.measure.power import energy_joules, mean_power, peak_power, trace_flags

        notes = {"idle_w": idle, "sensor": self.sensor.describe(), "achieved_rate_hz": trace.achieved_rate_hz,
                 "effective_update_hz": trace.effective_update_hz, "distinct_readings": trace.distinct_readings,
                 "n_samples": len(trace.watts), "sampler_cpu_fraction": trace.sampler_cpu_fraction,
                 "sensor_errors": trace.errors[:20], "what": "energy per inference: trapezoid over the raw "
                 "timestamps of each timing window, minus idle power x window time, over the inferences in it"}
        try:
            energy = [energy_joules(trace, a, b, idle) / timing.per_window for a, b in timing.windows]
            means = [mean_power(trace, a, b) for a, b in timing.windows]
            peaks = [peak_power(trace, a, b) for a, b in timing.windows]
        except ValueError as exc:
            for metric in POWER_METRICS:
                if metric in metrics:
                    record.skip(metric, "power trace unusable: {}".format(exc))
            return
        flags = trace_flags(trace, timing.windows) + throttled
        negative = sum(1 for e in energy if e <= 0)
        noise = "{} of {} windows drew no more than the idle power ({:.3f} W): the model's energy is within the " \
                "sensor's noise".format(negative, len(energy), idle)
        energy_flags = flags + ([noise] if negative else [])
        for metric, values, extra in (("energy_j", energy, energy_flags), ("power_mean_w", means, flags),
                                      ("power_peak_w", peaks, flags)):
            if metric in metrics:
                record.add(Measurement(metric, values, notes=notes, flags=extra))

    def _op_profile(self, record, model, fn, metrics):
        from artifact.measure.op_profile import profile_ops

        if hasattr(self.task, "profile_fn"):  # a task whose inference is not one traceable call
            fn, inputs = self.task.profile_fn(model), self.task.profile_input()
        else:
            inputs = self.task.timing_inputs(1)[0]
        prof = profile_ops(fn, inputs, runs=3)
        notes = {"constant_folding": prof.constant_folding, "total_s": prof.total_seconds}
        if "op_shares" in metrics:
            shares = prof.shares(0.01)
            record.add(Measurement("op_shares", list(shares.values()), notes=dict(
                notes, op_types=list(shares.keys()), class_share=prof.per_class_share)))
        if "dequantize_share" in metrics:
            record.add(Measurement("dequantize_share", [prof.dequantize_share], notes=notes))


def worker_main(argv):
    profile_source, model_name, results_dir = argv
    profile = load_profile(profile_source)
    measurer = CellMeasurer(profile, model_name, results_dir)
    pending = {c.key for c in pending_cells(profile, results_dir)}
    for cell in profile.cells_of(model_name):
        if cell.key not in pending:
            continue
        record = measurer.measure(cell)
        save_record(records_dir(results_dir), record)
        print("CELL {} {:.2f}".format(cell.key, record.duration_s), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(worker_main(sys.argv[1:]))
    except ArtifactError as exc:
        sys.stderr.write("error: {}\n".format(exc))
        sys.exit(2)
