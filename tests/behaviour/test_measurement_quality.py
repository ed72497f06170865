"""Bad sensor input, non-converged timing and memory views: flagged or SKIPPED with a reason, never a crash."""
import math
import threading
import time

import pytest

from artifact.core.profiles import DEFAULT_MEASUREMENT
from artifact.core.records import Record
from artifact.device.emulation import sensors as emu
from artifact.device.measure.memory import MeminfoWatcher, read_meminfo
from artifact.device.measure.power import PowerSampler, PowerTrace, discover_power_sensor, trace_flags
from artifact.device.measure.timing import materialise, time_inference


class Tensor:
    def __init__(self, value):
        self.value, self.synced = value, False

    def numpy(self):
        self.synced = True
        return self.value


def test_materialise_syncs_every_tensor_of_a_nested_output():
    a, b, c = Tensor(1), Tensor(2), Tensor(3)
    assert materialise({"logits": a, "extra": [b, (c, "text")]}) == {"logits": 1, "extra": [2, [3, "text"]]}
    assert a.synced and b.synced and c.synced


def test_non_converged_timing_is_flagged_with_its_numbers(clock):
    state = {"i": 0}

    def fn(_):
        state["i"] += 1
        clock.spend(0.003 if state["i"] % 2 else 0.0001)

    settings = {"warmup_windows": 0, "min_windows": 4, "max_windows": 6, "min_window_s": 0.0, "ci_target": 0.001,
                "time_budget_s": 5.0}
    result = time_inference(fn, [0], settings)
    assert not result.converged
    (flag,) = result.flags(0.001)
    assert "did not converge" in flag and "6 windows" in flag
    steady = time_inference(lambda _: clock.spend(0.001), [0], dict(settings, ci_target=0.5, min_windows=2))
    assert steady.converged and steady.flags(0.5) == []


def trace(watts, timestamps=None, rate=1000.0, errors=(), emulated="no"):
    timestamps = timestamps or [i / rate for i in range(len(watts))]
    return PowerTrace(timestamps, watts, rate, list(errors), sensor={"emulated": emulated})


def test_trace_flags_name_each_quality_problem():
    clean = trace([5.0 + (i % 2) for i in range(1001)])
    assert trace_flags(clean, [(0.1, 0.2), (0.3, 0.4)]) == []
    slow = trace([5.0 if i < 500 else 6.0 for i in range(1001)])  # two distinct values in a second
    assert any("distinct readings per 100 ms window" in f for f in trace_flags(slow, [(0.1, 0.2)]))
    broken = trace([5.0 + (i % 2) for i in range(1001)], errors=["garbage value 'abc' in /x"], emulated="yes")
    flags = trace_flags(broken, [(0.1, 0.2)])
    assert any("EMULATED" in f for f in flags) and any("1 power-sensor read errors" in f for f in flags)
    sparse = trace([5.0, 6.0, 5.0], timestamps=[0.0, 0.5, 1.0])
    assert any("longest gap" in f for f in trace_flags(sparse, [(0.1, 0.2)]))
    assert any("sampler achieved 2 samples/s" in f for f in trace_flags(sparse, [(0.1, 0.2)]))


def test_sampler_reports_its_own_cpu_cost(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(tree.root)
    with PowerSampler(sensor, 500.0) as sampler:
        time.sleep(0.3)
    got = sampler.trace
    assert got.sampler_cpu_s is not None and 0.0 < got.sampler_cpu_s < 1.0
    assert 0.0 < got.sampler_cpu_fraction <= 1.5
    assert PowerTrace.from_dict(got.to_dict()).sampler_cpu_s == pytest.approx(got.sampler_cpu_s)


class _Task:
    def timing_inputs(self, n=16):
        return list(range(n))


def _measurer(sysfs_root):
    from artifact.device.run.worker import CellMeasurer

    measurer = object.__new__(CellMeasurer)   # no model, no TF: only the timing and power path
    measurer.settings = dict(DEFAULT_MEASUREMENT, min_window_s=0.01, time_budget_s=1.0, idle_s=0.2)
    measurer.task, measurer.sysfs_root = _Task(), sysfs_root
    measurer.sensor, measurer.no_sensor_reason = discover_power_sensor(sysfs_root)
    measurer.environment = {}
    return measurer


POWER = ["inference_time_s", "energy_j", "power_mean_w", "power_peak_w"]


def _time_and_power(measurer, record, fn):
    """The time-and-power meter on a baseline cell (no paired reference), as the worker runs it."""
    from artifact.core.profiles import Cell
    from artifact.device.run.meters import Deployed, measure_time_and_power

    cell = Cell("m", "baseline", {}, POWER)
    measure_time_and_power(measurer, Deployed(cell, None, None, fn, False), record, POWER)


def _record():
    return Record({"key": "m__baseline__fp32", "model": "m", "technique": "baseline", "setting": {},
                   "metrics": POWER}, {})


def test_a_sensor_reading_garbage_skips_power_with_the_reason_and_keeps_the_time(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    measurer = _measurer(tree.root)
    emu.write_value(tree.path("VDD_IN", "mW"), "not-a-number")
    record = _record()
    _time_and_power(measurer, record, lambda _: time.sleep(0.001))
    assert record.value("inference_time_s") > 0.0009
    for metric in ("energy_j", "power_mean_w", "power_peak_w"):
        assert "idle power could not be measured" in record.skipped[metric]
        assert "garbage value 'not-a-number'" in record.skipped[metric]


def _glitching(path, start_s, length_s, bad="garbage"):
    """An inference function that makes the sensor file read `bad` from `start_s` after its first call for
    `length_s` (by the clock, not by the number of calls, so a loaded machine moves nothing); otherwise
    about 5 W, moving by a few mW as a loaded rail does (a rail that never moves is a stuck sensor)."""
    state = {"t0": None}

    def fn(_):
        now = time.perf_counter()
        if state["t0"] is None:
            state["t0"] = now
        glitch = start_s <= now - state["t0"] < start_s + length_s
        emu.write_value(path, bad if glitch else 5000 + int((now - state["t0"]) * 1000) % 50)
        time.sleep(0.001)

    return fn


def test_a_sensor_failing_mid_run_is_flagged_not_zeroed(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    measurer = _measurer(tree.root)
    # at least 3 warm-up + 10 timed windows of 20 ms: the run lasts >= 260 ms, so a glitch from 40 to 140 ms
    # lies inside it with valid readings on both sides, however slowly the machine runs
    measurer.settings.update(min_window_s=0.02, warmup_windows=3, min_windows=10)
    record = _record()
    _time_and_power(measurer, record, _glitching(tree.path("VDD_IN", "mW"), 0.04, 0.10))
    assert "power_mean_w" in record.measurements, record.skipped
    power = record.measurements["power_mean_w"]
    assert all(4.0 < w < 6.0 for w in power.samples)   # no zeros from the failed reads
    assert any("power-sensor read errors" in f for f in power.flags)
    assert any("EMULATED" in f for f in power.flags)
    assert power.notes["sensor"]["backend"] == "jetson-ina3221-r32"


def test_a_sensor_failing_until_the_end_leaves_out_the_uncovered_windows_and_says_so(tmp_path):
    """Garbage from 600 ms on until the run ends (>= 860 ms): windows after the last valid reading cannot be
    integrated. They are left out and flagged; the windows before keep their power (not a SKIP of everything).
    (The glitch began at 300 ms until a loaded run, CI's workers beside it, sampled one valid reading before it.)"""
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    measurer = _measurer(tree.root)
    measurer.settings.update(min_window_s=0.02, warmup_windows=3, min_windows=40, time_budget_s=3.0)
    record = _record()
    _time_and_power(measurer, record, _glitching(tree.path("VDD_IN", "mW"), 0.60, 3600.0))
    assert "power_mean_w" in record.measurements, record.skipped
    power = record.measurements["power_mean_w"]
    assert all(4.0 < w < 6.0 for w in power.samples)
    assert len(power.samples) < len(record.measurements["inference_time_s"].samples)
    assert any("had no valid power readings around them and were left out" in f for f in power.flags)


def test_no_sensor_skips_power_with_what_was_looked_for(tmp_path):
    measurer = _measurer(str(tmp_path))
    record = _record()
    _time_and_power(measurer, record, lambda _: time.sleep(0.001))
    assert "inference_time_s" in record.measurements
    assert record.skipped["energy_j"].startswith("needs a power sensor: no power sensor:")
    assert "ina3221x" in record.skipped["energy_j"] and "intel-rapl" in record.skipped["energy_j"]


MEMINFO = "MemTotal:  8000000 kB\nMemAvailable:  {avail} kB\nNvMapMemUsed:  {nvmap} kB\nHugePages_Total: 0\n"


def test_read_meminfo_parses_kb_and_tolerates_garbage(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text(MEMINFO.format(avail=5000000, nvmap=1000) + "Broken line\nWeird: x kB\n")
    info = read_meminfo(str(path))
    assert info["MemAvailable"] == 5000000 * 1024 and info["NvMapMemUsed"] == 1000 * 1024
    assert info["HugePages_Total"] == 0 and "Weird" not in info
    assert read_meminfo(str(tmp_path / "missing")) == {}


def test_meminfo_watcher_catches_the_extreme_between_its_ends(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text(MEMINFO.format(avail=5000000, nvmap=1000))
    watcher = MeminfoWatcher(str(path), interval_s=0.005).start()
    emu.write_value(str(path), MEMINFO.format(avail=4000000, nvmap=301000).rstrip("\n"))
    time.sleep(0.1)
    emu.write_value(str(path), MEMINFO.format(avail=4900000, nvmap=11000).rstrip("\n"))
    time.sleep(0.05)
    out = watcher.stop()
    assert out["mem_available_drop_bytes"] == 1000000 * 1024   # the dip, not the end state
    assert out["nvmap_growth_bytes"] == 300000 * 1024
    assert out["meminfo_samples"] >= 3 and "meminfo_missing" not in out
    assert not any(t.name == "meminfo-watcher" for t in threading.enumerate())


def test_meminfo_watcher_without_nvmap_says_so(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text("MemAvailable: 100 kB\n")
    out = MeminfoWatcher(str(path)).start().stop()
    assert out["mem_available_drop_bytes"] == 0 and "NvMapMemUsed not in" in out["meminfo_missing"]


def test_throttling_seen_during_the_run_flags_time_and_power(tmp_path):
    from artifact.device.emulation import board as emulated_board

    tree = emu.make_tx2_r32_tree(str(tmp_path))
    emulated_board.make_tx2_board(str(tmp_path), pinned=True)
    measurer = _measurer(tree.root)
    state = {"calls": 0}

    def fn(_):
        state["calls"] += 1
        if state["calls"] == 30:
            emulated_board.throttle_tx2(str(tmp_path))
        time.sleep(0.001)

    record = _record()
    with emu.WaveformWriter(tree, lambda t: 5.0 + 0.2 * math.sin(20.0 * t), update_hz=200.0):
        _time_and_power(measurer, record, fn)
    timing = record.measurements["inference_time_s"]
    assert any("GPU frequency fell to 114750000 Hz" in f for f in timing.flags)
    assert any("GPU-therm reached 97.5 C" in f for f in timing.flags)
    # the power measurements carry it (energy here is within the noise of idle, so it is skipped as not physical)
    assert any("GPU frequency fell" in f for f in record.measurements["power_mean_w"].flags)
    assert timing.notes["board"]["samples"] >= 2


def test_environment_reads_the_board_under_the_sysfs_root(tmp_path, monkeypatch):
    from artifact.device.emulation import board as emulated_board
    from artifact.device.measure.environment import collect_environment

    emulated_board.make_tx2_board(str(tmp_path), pinned=False)
    monkeypatch.setenv("ARTIFACT_SYSFS_ROOT", str(tmp_path))
    env = collect_environment()
    assert env["l4t_version"] == "32.7.1" and env["nvpmodel"] == "0 (MAXN)"
    assert env["jetson_clocks"].startswith("not pinned") and env["emulated"].startswith("yes")
    assert env["tensorflow"] and env["python"]


def test_gpu_allocator_peak_is_read_and_reset_when_a_gpu_is_there(monkeypatch):
    from artifact.device.compat import tf
    from artifact.device.measure import memory

    assert memory.gpu_allocator() == (None, "no GPU visible to TensorFlow")   # this machine
    assert memory.gpu_peak_bytes(None) is None
    calls = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["/physical_device:GPU:0"])
    monkeypatch.setattr(tf.config.experimental, "reset_memory_stats", lambda device: calls.append(device))
    monkeypatch.setattr(tf.config.experimental, "get_memory_info", lambda device: {"current": 5, "peak": 7 << 20})
    device, _ = memory.gpu_allocator()
    memory.reset_gpu_peak(device)
    assert device == "GPU:0" and calls == ["GPU:0"] and memory.gpu_peak_bytes(device) == 7 << 20


def test_an_implausible_reading_is_dropped_as_a_read_error_never_a_sample(tmp_path):
    """10^9 mW from a TX2 rail (a megawatt): outside what the sensor can read, so not a sample."""
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    measurer = _measurer(tree.root)
    measurer.settings.update(min_window_s=0.02, warmup_windows=3, min_windows=10)
    record = _record()
    _time_and_power(measurer, record, _glitching(tree.path("VDD_IN", "mW"), 0.04, 0.10, bad=10 ** 9))
    power = record.measurements["power_peak_w"]
    assert max(power.samples) < 6.0   # the peak never sees the megawatt
    assert any("implausible reading 1e+06 W" in f for f in power.flags)


def test_a_sensor_that_only_reads_implausible_values_skips_power(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    emu.write_value(tree.path("VDD_IN", "mW"), 10 ** 9)
    measurer = _measurer(tree.root)
    record = _record()
    _time_and_power(measurer, record, lambda _: time.sleep(0.001))
    assert "inference_time_s" in record.measurements and "energy_j" not in record.measurements
    assert "implausible reading" in record.skipped["energy_j"]


def test_a_stuck_sensor_skips_power_with_the_reason(tmp_path):
    """The rail holds one value for over a second while the model runs: no power number reaches a verdict."""
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    measurer = _measurer(tree.root)
    measurer.settings.update(min_window_s=0.05, min_windows=60, time_budget_s=6.0)   # ~3 s of windows, 1 s is stuck
    record = _record()
    with emu.WaveformWriter(tree, lambda t: 5.0 + 0.2 * math.sin(20.0 * t), update_hz=200.0) as writer:
        time.sleep(0.3)
        writer.stop()   # idle power saw a moving rail; then it freezes for the whole timing run
        _time_and_power(measurer, record, lambda _: time.sleep(0.001))
    assert "energy_j" not in record.measurements and "power_peak_w" not in record.measurements
    assert record.skipped["energy_j"].startswith("power sensor stuck: the same reading")


def test_stuck_reading_finds_the_longest_unchanged_run():
    from artifact.device.measure.power import PowerTrace, stuck_reading

    ts = [i * 0.01 for i in range(400)]
    watts = [5.0 + (0.1 if i % 2 else 0.0) for i in range(100)] + [4.2] * 150 + [5.0 + 0.01 * i for i in range(150)]
    trace = PowerTrace(ts, watts, 100.0)
    assert stuck_reading(trace, 0.0, 4.0) == (4.2, pytest.approx(1.49))
    assert stuck_reading(trace, 0.0, 4.0, min_s=2.0) is None
    assert stuck_reading(trace, 1.5, 4.0) is None   # only the tail of the run falls in the windows


def test_a_jetson_whose_clocks_float_flags_time_and_power(tmp_path):
    """The paper's numbers need the power mode and clocks pinned; a run without them says so on every timing."""
    from artifact.device.emulation import board as emulated_board
    from artifact.device.measure.board_state import read_board_state
    from artifact.device.run.meters import unpinned_clocks_flags

    emulated_board.make_tx2_board(str(tmp_path / "floating"), pinned=False)
    emulated_board.make_tx2_board(str(tmp_path / "pinned"), pinned=True)
    floating = read_board_state(str(tmp_path / "floating"))
    assert floating["jetson_clocks"].startswith("not pinned")
    flags = unpinned_clocks_flags(floating)
    assert len(flags) == 1 and "sudo jetson_clocks" in flags[0] and "nvpmodel" in flags[0]
    assert unpinned_clocks_flags(read_board_state(str(tmp_path / "pinned"))) == []
    assert unpinned_clocks_flags({"cpu_model": "x86"}) == []   # not a Jetson: nothing to pin

    tree = emu.make_tx2_r32_tree(str(tmp_path / "floating"))
    measurer = _measurer(tree.root)
    measurer.environment = floating
    record = _record()
    with emu.WaveformWriter(tree, lambda t: 5.0 + 0.2 * math.sin(20.0 * t), update_hz=200.0):
        _time_and_power(measurer, record, lambda _: time.sleep(0.001))
    for metric in ("inference_time_s", "power_mean_w"):  # (energy: within idle's noise here, skipped as not physical)
        assert any(f.startswith("Jetson clocks not pinned") for f in record.measurements[metric].flags)
