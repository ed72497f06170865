"""Meters: what measures each metric of a cell. Measuring a cell is a loop over this table.

Each row names the metrics it produces (`artifact.core.metrics` says what they are) and a function
`measure(measurer, deployed, record, wanted)` that adds a Measurement, or a skip with the reason,
for each metric in `wanted`. Every metric has exactly one meter (tests/behaviour/test_architecture.py).
The rows run in order: time and power share one timing run; accuracy scores the file that was timed.

A two-stage run (artifact.device.run.stages) splits the rows: the QUIET ones (time, power, op profile: what
another process's CPU use disturbs) run one cell at a time on a quiet machine; the others (sizes, parameters,
depth, the memory probe: a process's own RSS; accuracy) run beforehand, several cells at once.
"""
import collections
import os
import time
from typing import Any, Callable, List, Mapping, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.metrics import METRICS, above_zero, in_group, summarize
from artifact.core.records import Measurement

# the deployed variant of one cell, as the meters see it
Deployed = collections.namedtuple("Deployed", ["cell", "path", "model", "fn", "litert"])
Meter = collections.namedtuple("Meter", ["name", "metrics", "measure"])

POWER_METRICS = in_group("power")
LITERT_NO_PROFILE = ("the TF step-stats profiler does not see inside the LiteRT interpreter; "
                     "inference_time_s notes list the operators of its model")


def measure_storage(measurer, deployed, record, wanted):
    record.add(Measurement("storage_bytes", [os.path.getsize(deployed.path)],
                           notes={"file": measurer.results.relative(deployed.path)}))


def measure_storage_gzip(measurer, deployed, record, wanted):
    from artifact.device.compress.sparsity import compressed_size

    record.add(Measurement("storage_gzip_bytes", [compressed_size(deployed.path)], notes={
        "what": "the deployable file through gzip -9: what unstructured zeros save when stored compressed"}))


def measure_params(measurer, deployed, record, wanted):
    from artifact.device.compress.storage import parameter_count

    if deployed.litert:
        record.skip("params", "a LiteRT flatbuffer holds constants, not Keras weights; see the fp32 cell")
    else:
        record.add(Measurement("params", [parameter_count(deployed.model)]))


def measure_depth(measurer, deployed, record, wanted):
    from artifact.device.models.architectures.paper_architectures import depth

    record.add(Measurement("depth", [depth(deployed.model)], notes={
        "what": "weight layers on the longest input-to-output path (recurrent layers only for RNNs)"}))


def measure_time_and_power(measurer, deployed, record, wanted):
    """Time the variant by the stopping rule (paired with its fp32 baseline when the profile says so);
    with a sensor, sample power over the same windows and deduct the idle power measured just before;
    watch the board (clocks, temperatures) meanwhile."""
    from artifact.device.measure.board_state import BoardMonitor, throttling_flags
    from artifact.device.measure.busy import BusyWatch, describe
    from artifact.device.measure.timing import time_inference

    settings = measurer.settings
    reference = None
    if "inference_time_s" in wanted and deployed.cell.technique != "baseline" and settings["paired_timing"]:
        reference = measurer.task.predict_fn(measurer.baseline())
    power_wanted = [m for m in POWER_METRICS if m in wanted]
    sampler, idle, no_power = None, None, None
    if power_wanted and measurer.sensor is None:
        no_power = "needs a power sensor: " + measurer.no_sensor_reason
    elif power_wanted:
        from artifact.device.measure.power import PowerSampler, SensorReadError, idle_power

        try:
            idle, _ = idle_power(measurer.sensor, seconds=settings["idle_s"])
        except (ValueError, SensorReadError) as exc:
            no_power = "idle power could not be measured, so energy cannot be deducted: {}".format(exc)
        else:
            sampler = PowerSampler(measurer.sensor, settings["power_rate_hz"], settings["sampler_idle_priority"])
            sampler.start()
    monitor = BoardMonitor(measurer.sysfs_root)
    monitor.start()
    watch = BusyWatch().start()
    try:
        timing = time_inference(deployed.fn, measurer.task.timing_inputs(), settings, reference=reference,
                                power=sampler is not None)
    finally:
        if sampler is not None:
            time.sleep(0.05)  # let the trace run past the end of the last window
        trace = sampler.stop() if sampler is not None else None
        board = monitor.stop()
        load = watch.stop()
    del reference
    disturbed = throttling_flags(board) + ([describe(load)] if load["busy"] else [])  # both disturb time and power
    disturbed += unpinned_clocks_flags(measurer.environment)
    notes = dict(timing.notes(), board=board, machine_load=load)
    if trace is not None:   # the sampler ran beside these windows: what it cost, and how it was scheduled
        notes.update(sampler_cpu_fraction=trace.sampler_cpu_fraction,
                     sampler_thread=trace.sensor.get("sampler_thread"))
    if deployed.litert:
        notes["litert_ops_in_model"] = deployed.model.op_summary()
    record.add(Measurement("inference_time_s", timing.samples, warmup=timing.warmup, converged=timing.converged,
                           notes=notes, flags=timing.flags(settings["ci_target"]) + disturbed))
    if no_power is not None:
        for metric in power_wanted:
            record.skip(metric, no_power)
    elif trace is not None:
        _power_from_trace(measurer, record, trace, timing, idle, wanted, disturbed)


def unpinned_clocks_flags(environment):
    # type: (Mapping[str, Any]) -> List[str]
    """On a Jetson whose clocks float (no `sudo jetson_clocks`), the DVFS governor picks the speed a timing
    gets: the paper's measurements need the power mode and clocks pinned (README, "With a board")."""
    state = str(environment.get("jetson_clocks") or "")
    if not state.startswith("not pinned"):
        return []
    return ["Jetson clocks not pinned ({}; nvpmodel {}): run `sudo nvpmodel -m 0` and `sudo jetson_clocks` before "
            "measuring".format(state, environment.get("nvpmodel") or "unknown")]


def _power_from_trace(measurer, record, trace, timing, idle, wanted, disturbed):
    from artifact.device.measure.power import energy_joules, mean_power, peak_power, trace_flags, unjudgeable

    why = unjudgeable(trace, timing.windows[0][0], timing.windows[-1][1]) if timing.windows else None
    if why is not None:  # a number from a stuck, stale or unresolvable sensor must never reach a verdict
        for metric in POWER_METRICS:
            if metric in wanted:
                record.skip(metric, why)
        return

    notes = {"idle_w": idle, "sensor": measurer.sensor.describe(), "achieved_rate_hz": trace.achieved_rate_hz,
             "effective_update_hz": trace.effective_update_hz, "distinct_readings": trace.distinct_readings,
             "n_samples": len(trace.watts), "sampler_cpu_fraction": trace.sampler_cpu_fraction,
             "sampler_thread": trace.sensor.get("sampler_thread"),
             "sensor_errors": trace.errors[:20], "what": "energy per inference: trapezoid over the raw "
             "timestamps of each timing window, minus idle power x window time, over the inferences in it"}
    energy, means, peaks, uncovered = [], [], [], []  # type: List[float], List[float], List[float], List[str]
    for a, b in timing.windows:  # a window the trace cannot cover is left out and said, not fatal to the rest
        try:
            window = (energy_joules(trace, a, b, idle) / timing.per_window, mean_power(trace, a, b),
                      peak_power(trace, a, b))
        except ValueError as exc:
            uncovered.append(str(exc))
            continue
        energy.append(window[0])
        means.append(window[1])
        peaks.append(window[2])
    if not energy:
        for metric in POWER_METRICS:
            if metric in wanted:
                record.skip(metric, "power trace unusable: {}".format(uncovered[0]))
        return
    flags = trace_flags(trace, timing.windows) + disturbed
    if uncovered:
        flags.append("{} of {} timing windows had no valid power readings around them and were left out "
                     "(first: {})".format(len(uncovered), len(timing.windows), uncovered[0]))
    negative = sum(1 for e in energy if e <= 0)
    noise = "{} of {} windows drew no more than the idle power ({:.3f} W): the model's energy is within the " \
            "sensor's noise".format(negative, len(energy), idle)
    energy_flags = flags + ([noise] if negative else [])
    for metric, values, extra in (("energy_j", energy, energy_flags), ("power_mean_w", means, flags),
                                  ("power_peak_w", peaks, flags)):
        if metric not in wanted:
            continue
        if not above_zero(values):  # no energy above idle beyond the noise (or no power): never judged
            record.skip(metric, "not physical: {} {:.3g} {} is not above zero beyond its noise ({})".format(
                metric, summarize(metric, values), METRICS[metric].unit, noise))
            continue
        record.add(Measurement(metric, values, notes=notes, flags=extra))


def measure_memory(measurer, deployed, record, wanted, inferences=3):
    """Footprint of loading the deployed file and running it, in a process of its own: a child forked from the
    worker's pre-imported probe server (memory_probe.serve), which starts as a fresh process would after its
    imports, or a fresh process where no server can stand in for one."""
    code, result, tail = measurer.memory_probes.measure(deployed.path, measurer.model_name, inferences)
    if code != 0 or result is None:
        record.skip("memory_peak_bytes", "memory probe failed (exit {}): {}".format(code, tail))
        return
    flags = [] if result["peak_reset_with_clear_refs"] else [
        "the kernel refused /proc/self/clear_refs: the inference-phase peak also holds the load phase's peak"]
    record.add(Measurement("memory_peak_bytes", [result.pop("peak_delta_bytes")], flags=flags, notes=dict(
        result, what="peak RSS of a process of its own (`process` says how it was made) while it runs {} "
             "inferences of the loaded model, minus its RSS before loading (the loader's own transients are "
             "reset away), plus TF's GPU allocator peak when a GPU runs it (footprint says which)".format(inferences))))


def measure_accuracy(measurer, deployed, record, wanted):
    task = measurer.task
    unavailable = task.accuracy_unavailable()
    if unavailable:
        for metric in wanted:
            record.skip(metric, unavailable)
        return
    scores = task.evaluate(deployed.model, measurer.settings["eval_samples"])
    for metric in wanted:
        if metric in scores:
            record.add(Measurement(metric, [scores[metric]], notes={
                "task": task.description, "scored": scores.get("scored")}))
        else:
            record.skip(metric, "not defined for a {} model".format(task.kind))


def measure_op_profile(measurer, deployed, record, wanted):
    if deployed.litert:
        for metric in wanted:
            record.skip(metric, LITERT_NO_PROFILE)
        return
    from artifact.device.measure.op_profile import profile_ops

    task = measurer.task
    if hasattr(task, "profile_fn"):  # a task whose inference is not one traceable call
        fn, inputs = task.profile_fn(deployed.model), task.profile_input()
    else:
        fn, inputs = deployed.fn, task.timing_inputs(1)[0]
    prof = profile_ops(fn, inputs, runs=3)
    notes = {"constant_folding": prof.constant_folding, "total_s": prof.total_seconds}
    if "op_shares" in wanted:
        shares = prof.shares(0.01)
        record.add(Measurement("op_shares", list(shares.values()), notes=dict(
            notes, op_types=list(shares.keys()), class_share=prof.per_class_share)))
    if "dequantize_share" in wanted:
        record.add(Measurement("dequantize_share", [prof.dequantize_share], notes=notes))


METERS = (
    Meter("storage", ("storage_bytes",), measure_storage),
    Meter("storage_gzip", ("storage_gzip_bytes",), measure_storage_gzip),
    Meter("params", ("params",), measure_params),
    Meter("depth", ("depth",), measure_depth),
    Meter("time_and_power", ("inference_time_s",) + POWER_METRICS, measure_time_and_power),
    Meter("memory", ("memory_peak_bytes",), measure_memory),
    Meter("accuracy", in_group("accuracy"), measure_accuracy),
    Meter("op_profile", in_group("ops"), measure_op_profile),
)


# the meters another process's CPU use disturbs: a two-stage run measures them alone, after every preparation
QUIET_METERS = ("time_and_power", "op_profile")
STAGES = ("prepare", "quiet")


def meters_of(stage=None):
    # type: (Optional[str]) -> List[Meter]
    """The meters a stage runs: "prepare" (all but the quiet ones), "quiet", or None (all: a one-stage run)."""
    if stage is None:
        return list(METERS)
    if stage not in STAGES:
        raise ValueError("stage {!r}: one of {}".format(stage, ", ".join(STAGES)))
    return [m for m in METERS if (m.name in QUIET_METERS) == (stage == "quiet")]


def needs_quiet(cell):
    # type: (Any) -> bool
    """Whether a cell asks for a metric of a quiet meter (else its prepare stage finishes it)."""
    return any(metric in cell.metrics for meter in meters_of("quiet") for metric in meter.metrics)


def measure_all(measurer, deployed, record, say=None, stage=None):
    # type: (Any, Deployed, Any, Optional[Callable[[str], None]], Optional[str]) -> None
    """Run every meter (of `stage`: meters_of) whose metrics the cell asks for, in the table's order; `say(meter
    name)` before each."""
    asked = set(deployed.cell.metrics)
    for meter in meters_of(stage):
        wanted = [m for m in meter.metrics if m in asked]
        if wanted:
            if say is not None:
                say(meter.name)
            start = time.perf_counter()
            meter.measure(measurer, deployed, record, wanted)
            record.phases[meter.name] = time.perf_counter() - start
