"""Benchmarks of the measurement harness itself: figures (medians and ratios), never pass/fail.

    invoke bench --only measurement

1. Harness overhead per inference: `time_inference` (windows, input cycling, output materialised)
   against a bare loop over the same `tf.function` and the same inputs, on MobileNet v1 (Table I
   architecture, seeded weights, the bundled photo). Runs alternate harness/bare so drift on a
   shared machine hits both (odd repeats run the bare loop first). Goal <= 1.02x.
2. The stopping rule (95% CI half-width <= 5% of the mean) against a fixed design of 50 single
   runs on the same model: inferences and wall time each needs, and the CI each achieves.
3. The power sampler against EMULATED sysfs trees (TX2 R32, TX2 R28, Orin hwmon, RAPL): achieved
   rate for a 1,000/s target, distinct readings, and the sampler thread's own CPU time, with the
   main thread idle and with it running inferences (threads share the GIL).
"""
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tabulate import tabulate  # noqa: E402

from artifact.core.profiles import DEFAULT_MEASUREMENT  # noqa: E402
from artifact.device.measure import emulated_sensors as emu  # noqa: E402
from artifact.device.measure.power import PowerSampler, discover_power_sensor  # noqa: E402
from artifact.device.measure.timing import ci_half_width, time_inference  # noqa: E402

REPEATS = 5
SAMPLER_SECONDS = 3.0


def mobilenet():
    from artifact.device.models.tasks import task_for

    task = task_for("mobilenet_v1")
    model = task.train()  # seeded initial weights: no checkpoint needed to time it
    return task.predict_fn(model), task.timing_inputs(8)


def bare_loop(fn, inputs, n):
    start = time.perf_counter()
    for i in range(n):
        fn(inputs[i % len(inputs)]).numpy()
    return (time.perf_counter() - start) / n


def alternating_ratios(fn, inputs, n=None, around=contextlib.nullcontext):
    """Harness time over bare-loop time per inference, REPEATS times, the bare loop first on odd repeats
    (n: the bare loop's inference count; the first harness run sets it when None). `around()` is entered
    around each harness run (monitors). Returns (n, ratios, harness seconds, bare seconds)."""
    settings = dict(DEFAULT_MEASUREMENT)
    ratios, harness, bare_times = [], [], []
    for repeat in range(REPEATS):
        bare = bare_loop(fn, inputs, n) if n and repeat % 2 else None
        with around():
            result = time_inference(fn, inputs, settings)
        per_inference = sum(result.samples) / len(result.samples)  # all windows: the same work as the bare loop
        n = n or result.per_window * len(result.samples)
        bare = bare if bare is not None else bare_loop(fn, inputs, n)
        ratios.append(per_inference / bare)
        harness.append(per_inference)
        bare_times.append(bare)
    return n, ratios, harness, bare_times


def harness_overhead(fn, inputs):
    n, ratios, harness, bare = alternating_ratios(fn, inputs)
    print(f"1. harness vs bare tf.function loop, MobileNet v1 224x224, {REPEATS} alternating repeats:")
    print(f"   harness {statistics.median(harness) * 1e3:.2f} ms, bare {statistics.median(bare) * 1e3:.2f} ms per "
          f"inference; ratio median {statistics.median(ratios):.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          "goal <= 1.02x")
    return n


def harness_with_monitors(fn, inputs, n):
    """The runner's whole timing path: board monitor + 1,000/s power sampler (EMULATED TX2 tree) around it."""
    from artifact.device.measure.board_state import BoardMonitor

    with tempfile.TemporaryDirectory() as root:
        tree = emu.make_tx2_r32_tree(root)
        sensor, _ = discover_power_sensor(tree.root)

        @contextlib.contextmanager
        def monitors():
            with BoardMonitor(root), PowerSampler(sensor, 1000.0):
                yield

        _, ratios, _, _ = alternating_ratios(fn, inputs, n, monitors)
    print(f"   with the board monitor and a 1,000/s power sampler running (EMULATED TX2 tree): ratio median "
          f"{statistics.median(ratios):.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f})")


def stopping_rule_vs_fixed(fn, inputs):
    settings = dict(DEFAULT_MEASUREMENT)
    rows = []
    for _ in range(3):
        start = time.perf_counter()
        result = time_inference(fn, inputs, settings)
        rule_wall = time.perf_counter() - start
        rule_n = result.per_window * (len(result.samples) + len(result.warmup)) + 2
        start = time.perf_counter()
        fixed = []
        for i in range(50):
            t0 = time.perf_counter()
            fn(inputs[i % len(inputs)]).numpy()
            fixed.append(time.perf_counter() - t0)
        fixed_wall = time.perf_counter() - start
        rows.append((len(result.samples), result.per_window, rule_n, rule_wall, result.half_width / result.mean,
                     result.converged, fixed_wall, ci_half_width(fixed) / statistics.mean(fixed),
                     statistics.median(result.samples) / statistics.median(fixed)))
    table = [["stopping rule (windows x K)", f"{r[0]} x {r[1]}", r[2], f"{r[3]:.2f}", f"{r[4]:.2%}", r[5]]
             for r in rows]
    table += [["fixed 50 single runs", "50 x 1", 50, f"{r[6]:.2f}", f"{r[7]:.2%}", "-"] for r in rows]
    print("2. stopping rule vs a fixed 50-run design, same model (3 repeats each; inferences include warm-up):")
    print(tabulate(table, ["design", "samples", "inferences", "wall s", "CI95 half-width / mean", "converged"]))
    print(f"   median time/inference, rule vs fixed: {statistics.median(r[8] for r in rows):.3f}x; "
          f"wall time rule/fixed: {statistics.median(r[3] / r[6] for r in rows):.1f}x")


TREES = {"TX2 L4T R32 (iio:device, mW)": emu.make_tx2_r32_tree, "TX2 L4T R28 (iio_device, mW)": emu.make_tx2_r28_tree,
         "Orin L4T R36 (hwmon, mV x mA)": emu.make_orin_hwmon_tree, "Intel RAPL (energy_uj)": emu.make_rapl_tree}


def sample_tree(make, busy=None):
    with tempfile.TemporaryDirectory() as root:
        tree = make(root)
        sensor, reason = discover_power_sensor(tree.root)
        if sensor is None:
            raise SystemExit(reason)
        # the INA3221 refreshes about every 1-7 ms at best (reference notes §2.3): the writer plays a
        # smooth waveform at 200 updates/s, so every update is a new value
        with emu.WaveformWriter(tree, lambda t: 5.0 + math.sin(2 * math.pi * 3 * t), update_hz=200.0):
            sampler = PowerSampler(sensor, 1000.0)
            sampler.start()
            end = time.perf_counter() + SAMPLER_SECONDS
            while time.perf_counter() < end:
                busy() if busy else time.sleep(0.05)
            trace = sampler.stop()
        sensor.close()
    return trace


def sampler_rates(fn, inputs):
    rows = []
    for name, make in TREES.items():
        for load, busy in (("idle", None), ("inferring", lambda: fn(inputs[0]).numpy())):
            trace = sample_tree(make, busy)
            per_read_us = trace.sampler_cpu_s / max(trace.reads, 1) * 1e6 if trace.sampler_cpu_s else float("nan")
            rows.append([name, load, f"{trace.achieved_rate_hz:.0f}", f"{trace.effective_update_hz:.0f}",
                         trace.error_count, f"{trace.max_gap_s * 1e3:.1f}",
                         f"{(trace.sampler_cpu_fraction or float('nan')):.1%}", f"{per_read_us:.0f}"])
    print(f"3. power sampler on EMULATED sysfs trees (not hardware), target 1000/s, {SAMPLER_SECONDS:.0f} s each, "
          "writer updating 200 times/s (RAPL: a sample exists only when the counter moved):")
    print(tabulate(rows, ["tree", "main thread", "achieved /s", "distinct /s", "errors", "max gap ms",
                          "sampler CPU (of one core)", "CPU us/read"]))


def main():
    fn, inputs = mobilenet()
    fn(inputs[0])  # trace outside every measurement
    n = harness_overhead(fn, inputs)
    harness_with_monitors(fn, inputs, n)
    stopping_rule_vs_fixed(fn, inputs)
    sampler_rates(fn, inputs)


if __name__ == "__main__":
    main()
