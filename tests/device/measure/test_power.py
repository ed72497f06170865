"""Tests for artifact.device.measure.power on emulated sensor trees (artifact.device.emulation.sensors)."""
import json
import os
import sys
import time

import pytest

from artifact.core.errors import ArtifactError
from artifact.device.emulation import sensors as emu
from artifact.device.measure.power import (
    PowerSampler,
    PowerTrace,
    SensorReadError,
    discover_power_sensor,
    energy_joules,
    idle_power,
    mean_power,
    peak_power,
)

MAKERS = {"jetson-ina3221-r32": emu.make_tx2_r32_tree, "jetson-ina3221-r28": emu.make_tx2_r28_tree,
          "jetson-ina3221-hwmon": emu.make_orin_hwmon_tree}
SHUFFLED = {"jetson-ina3221-r32": ["VDD_SYS_DDR", "VDD_SYS_CPU", "VDD_IN",
                                   "VDD_4V0_WIFI", "VDD_SYS_GPU", "VDD_SYS_SOC"],
            "jetson-ina3221-r28": ["VDD_SYS_CPU", "VDD_SYS_GPU", "VDD_SYS_SOC",
                                   "VDD_SYS_DDR", "VDD_4V0_WIFI", "VDD_IN"],
            "jetson-ina3221-hwmon": ["VDD_SOC", "VDD_CPU_GPU_CV", "VDD_IN"]}


def make_pulse(start, end):
    """5 W baseline with a +2 W square pulse on [start, end) s, and its analytic integral."""
    def waveform(t):
        return 7.0 if start <= t < end else 5.0

    def integral(a, b):
        return 5.0 * (b - a) + 2.0 * max(0.0, min(b, end) - max(a, start))
    return waveform, integral


def window(writer, trace, start, end):
    """[t_start + start, t_start + end] clipped to the trace (a thread may start late on a busy box)."""
    return max(writer.t_start + start, trace.timestamps[0]), min(writer.t_start + end, trace.timestamps[-1])


def check_energy(measured, trace, writer, t0, t1, analytic, step_watts=2.0):
    """Within 1% of what the emulated files carried, and of the analytic integral when the writer kept
    time. On a loaded machine the threads stall: a late writer shifts the edges it plays, and a sampler
    gap g at a step of height P costs up to P*g/2 per edge (two edges), so that is added to the slack."""
    slack = step_watts * max(0.0, trace.max_gap_s - 0.005)
    truth = writer.energy_written(t0, t1)
    assert measured == pytest.approx(truth, rel=0.01, abs=slack)
    if writer.max_gap_s < 0.005:
        assert measured == pytest.approx(analytic, rel=0.01, abs=slack)
    return slack


def run_waveform(tree, waveform, seconds, update_hz=1000.0, rate_hz=1000.0):
    sensor, reason = discover_power_sensor(tree.root)
    assert sensor is not None, reason
    writer, sampler = emu.WaveformWriter(tree, waveform, update_hz=update_hz), PowerSampler(sensor, rate_hz)
    with writer, sampler:   # writer first: the sampler must see the waveform from its first read
        time.sleep(max(0.0, writer.t_start + seconds - time.perf_counter()))
    return sensor, writer, sampler.trace


@pytest.mark.parametrize("backend", sorted(MAKERS))
@pytest.mark.parametrize("shuffled", [False, True])
def test_jetson_discovery_by_label(tmp_path, backend, shuffled):
    tree = MAKERS[backend](str(tmp_path), rail_order=SHUFFLED[backend] if shuffled else None, watts=6.0)
    sensor, reason = discover_power_sensor(str(tmp_path))
    assert reason == "" and sensor.name == backend and sensor.rails == ["VDD_IN"]
    assert sensor.read_watts() == pytest.approx(6.0, rel=1e-3)   # not a sub-rail, not a sum
    info = sensor.describe()
    assert info["emulated"].startswith("yes") and tree.path("VDD_IN", "mA" if "hwmon" in backend else "mW") \
        in info["paths"]
    assert all(isinstance(v, str) for v in info.values())


def test_rapl_discovery_excludes_core(tmp_path):
    emu.make_rapl_tree(str(tmp_path))
    sensor, reason = discover_power_sensor(str(tmp_path))
    assert sensor.name == "rapl" and sorted(sensor.rails) == ["dram", "package-0"], reason


def test_discovery_empty_root_and_prefer(tmp_path, monkeypatch):
    sensor, reason = discover_power_sensor(str(tmp_path))
    assert sensor is None
    for word in ("ina3221x", "iio_device", "hwmon", "intel-rapl", "NVML"):
        assert word in reason
    monkeypatch.setitem(sys.modules, "pynvml", None)   # not importable, even where it is installed
    sensor, reason = discover_power_sensor(str(tmp_path), prefer="nvml")
    assert sensor is None and "pynvml" in reason
    emu.make_tx2_r32_tree(str(tmp_path))
    emu.make_rapl_tree(str(tmp_path))
    assert discover_power_sensor(str(tmp_path))[0].name == "jetson-ina3221-r32"
    assert discover_power_sensor(str(tmp_path), prefer="rapl")[0].name == "rapl"
    sensor, reason = discover_power_sensor(str(tmp_path), prefer="jetson", rails=["VDD_IN", "VDD_MUX"])
    assert sensor is None and "VDD_MUX" in reason         # requested rails are all required
    with pytest.raises(ArtifactError, match="bogus"):
        discover_power_sensor(str(tmp_path), prefer="bogus")
    with pytest.raises(ArtifactError, match="rate_hz"):
        PowerSampler(sensor, rate_hz=0)


@pytest.mark.parametrize("kind", ["jetson-ina3221-r32", "jetson-ina3221-r28", "jetson-ina3221-hwmon", "rapl"])
def test_energy_of_known_waveform(tmp_path, kind):
    if kind == "rapl":   # package-0 (0.85 of the total) wraps at s = 0.5, inside the window
        span = 10000000
        tree = emu.make_rapl_tree(str(tmp_path), span, {"package-0": span - 2465000})
    else:
        tree = MAKERS[kind](str(tmp_path))
    waveform, integral = make_pulse(0.3, 0.7)
    sensor, writer, trace = run_waveform(tree, waveform, 1.2)
    t0, t1 = window(writer, trace, 0.1, 1.1)
    rel0, rel1 = t0 - writer.t_start, t1 - writer.t_start
    check_energy(energy_joules(trace, t0, t1), trace, writer, t0, t1, integral(rel0, rel1))
    assert trace.errors == [] and min(trace.watts) > 0
    if kind == "rapl":
        assert any(label == "package-0" and t0 < when < t1 for label, when in writer.wraps)
        assert sensor.wraps >= 1


def test_idle_deduction_peak_and_mean(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    with emu.WaveformWriter(tree, lambda t: 5.0):
        idle, idle_trace = idle_power(sensor, seconds=0.3)
    assert idle == pytest.approx(5.0, rel=1e-3) and len(idle_trace.watts) > 50
    waveform, integral = make_pulse(0.1, 0.3)
    sensor, writer, trace = run_waveform(tree, waveform, 0.45)
    t0, t1 = window(writer, trace, 0.05, 0.4)
    dynamic = energy_joules(trace, t0, t1, idle_watts=idle)   # the pulse: 2 W x 0.2 s
    assert dynamic == pytest.approx(energy_joules(trace, t0, t1) - idle * (t1 - t0))
    slack = check_energy(dynamic + idle * (t1 - t0), trace, writer, t0, t1,
                         integral(t0 - writer.t_start, t1 - writer.t_start))
    assert dynamic == pytest.approx(writer.energy_written(t0, t1) - 5.0 * (t1 - t0), abs=0.02 + slack)
    assert peak_power(trace, t0, t1) == pytest.approx(7.0, rel=1e-3)
    assert peak_power(trace, t0, writer.t_start + 0.08) == pytest.approx(5.0, rel=1e-3)
    inside = writer.t_start + 0.15, writer.t_start + 0.25
    assert mean_power(trace, *inside) == pytest.approx(writer.energy_written(*inside) / 0.1, rel=1e-2)
    assert mean_power(trace, t0, t1) == pytest.approx(energy_joules(trace, t0, t1) / (t1 - t0))
    with pytest.raises(ValueError, match="covers"):
        energy_joules(trace, trace.timestamps[0] - 1.0, t1)
    with pytest.raises(ValueError, match="reversed"):
        energy_joules(trace, t1, t0)


def test_rate_and_distinct_readings(tmp_path):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    _, _, trace = run_waveform(tree, lambda t: 5.0 + t, 0.5, update_hz=100.0, rate_hz=1000.0)
    assert trace.target_rate_hz == 1000.0 and trace.achieved_rate_hz > 300
    assert trace.distinct_readings < 0.3 * len(trace.watts)
    assert 40 < trace.effective_update_hz < 160
    data = json.loads(json.dumps(trace.to_dict()))
    assert data["distinct_readings"] == trace.distinct_readings and len(data["watts"]) == len(trace.watts)
    assert PowerTrace.from_dict(data).achieved_rate_hz == pytest.approx(trace.achieved_rate_hz)


@pytest.mark.parametrize("bad", ["abc", "", "0", "nan"])
def test_garbage_total_is_an_error_not_a_zero(tmp_path, bad):
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    emu.write_value(tree.path("VDD_IN", "mW"), bad)
    with pytest.raises(SensorReadError):
        sensor.sample()
    with PowerSampler(sensor, 500) as sampler:
        time.sleep(0.05)
    trace = sampler.trace
    assert trace.watts == [] and trace.error_count > 5
    assert all("VDD_IN" in e or tree.path("VDD_IN", "mW") in e for e in trace.errors)
    with pytest.raises(ValueError, match="no|0 sample"):
        energy_joules(trace, 0.0, 1.0)
    with pytest.raises(ValueError):
        idle_power(sensor, seconds=0.05)


def test_missing_file_mid_run_is_recorded(tmp_path):
    """A rail that goes away mid-run (driver unbound: reads of the open attribute fail, and it cannot be
    opened again until it comes back) is a run of read errors, never zeros, and sampling recovers."""
    tree = emu.make_orin_hwmon_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    path = tree.path("VDD_IN", "mA")
    kept = [f for f in sensor._files if f.path == path][0]
    with PowerSampler(sensor, 1000) as sampler:
        time.sleep(0.1)
        os.rename(path, path + ".gone")
        folder = os.open(str(tmp_path), os.O_RDONLY)
        os.dup2(folder, kept.fd())   # the open descriptor now fails every pread (EISDIR), as ENODEV would
        os.close(folder)
        time.sleep(0.1)
        os.rename(path + ".gone", path)
        time.sleep(0.1)
    trace = sampler.trace
    assert any("read failed" in e for e in trace.errors)                 # the open file failing
    assert any("cannot read" in e and path in e for e in trace.errors)   # reopening it while it is gone
    assert len(trace.watts) > 50 and set(trace.watts) == {5.0}     # samples on both sides, no zero
    gap = max(b - a for a, b in zip(trace.timestamps, trace.timestamps[1:]))
    assert gap > 0.05


def test_rapl_wrap_and_backwards_counter(tmp_path):
    span = 1000000
    tree = emu.make_rapl_tree(str(tmp_path), span, {"package-0": span - 3000})
    sensor, _ = discover_power_sensor(str(tmp_path))
    pkg = tree.path("package-0", "uJ")
    assert sensor.sample() is None                       # first read only primes
    assert sensor.sample() is None                       # unchanged counter: no new data
    emu.write_value(pkg, 2000)                           # wrapped: +5000 uJ
    _, watts = sensor.sample()
    assert watts > 0 and sensor.wraps == 1
    emu.write_value(pkg, 1000)                           # backwards, not a wrap
    with pytest.raises(SensorReadError, match="backwards"):
        sensor.sample()
    emu.write_value(pkg, 6000)
    assert sensor.sample()[1] > 0                        # recovers from the new reference
    with PowerSampler(sensor, 1000) as sampler:          # backwards seen inside a sampler: recorded
        time.sleep(0.02)
        emu.write_value(pkg, 3000)
        time.sleep(0.02)
        emu.write_value(pkg, 9000)
        time.sleep(0.02)
    trace = sampler.trace
    assert any("backwards" in e for e in trace.errors) and trace.watts and min(trace.watts) > 0


def test_stalled_clock_is_recorded(tmp_path):
    emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    sensor.clock = lambda: 42.0
    with PowerSampler(sensor, 1000) as sampler:
        time.sleep(0.03)
    trace = sampler.trace
    assert trace.timestamps == [42.0] and any("clock stalled" in e for e in trace.errors)


class FakeNvml:
    """pynvml's surface that NvmlSensor uses: two GPUs, power in mW, optionally failing."""

    class NVMLError(Exception):
        pass

    def __init__(self, milliwatts=(60000, 40000), fail=False):
        self.milliwatts, self.fail = list(milliwatts), fail

    def nvmlInit(self):
        if self.fail == "init":
            raise self.NVMLError("Driver Not Loaded")

    def nvmlDeviceGetCount(self):
        return len(self.milliwatts)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetPowerUsage(self, handle):
        if self.fail == "read":
            raise self.NVMLError("Not Supported")
        return self.milliwatts[handle]


def test_nvml_sums_the_gpus_and_fails_soft(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml())
    sensor, reason = discover_power_sensor(str(tmp_path), prefer="nvml")
    assert sensor is not None and sensor.name == "nvml", reason
    assert sensor.read_watts() == pytest.approx(100.0) and sensor.rails == ["gpu0", "gpu1"]
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(fail="init"))
    sensor, reason = discover_power_sensor(str(tmp_path), prefer="nvml")
    assert sensor is None and "Driver Not Loaded" in reason
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(fail="read"))
    sensor, reason = discover_power_sensor(str(tmp_path), prefer="nvml")
    assert sensor is None and "Not Supported" in reason   # e.g. NVML on a Jetson: no power reading


def test_nvml_read_errors_mid_run_are_recorded_not_zero(monkeypatch, tmp_path):
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    sensor, _ = discover_power_sensor(str(tmp_path), prefer="nvml")
    with PowerSampler(sensor, 500.0) as sampler:
        time.sleep(0.1)
        fake.fail = "read"
        time.sleep(0.05)
        fake.fail = False
        time.sleep(0.1)
    trace = sampler.trace
    assert trace.error_count > 0 and "NVML power read failed: Not Supported" in trace.errors[0]
    assert min(trace.watts) == pytest.approx(100.0)


def test_emulated_values_are_written_in_place_so_an_open_file_sees_them(tmp_path):
    """sysfs keeps one inode per attribute; the emulated trees must too, or a sampler that keeps its files
    open (as it must, to read cheaply) would read the first value forever."""
    path = str(tmp_path / "in_power0_input")
    emu.write_value(path, 123456)
    fd = os.open(path, os.O_RDONLY)
    try:
        emu.write_value(path, 7)                         # shorter: padded, never "7\n456\n"
        assert os.pread(fd, 64, 0).strip() == b"7"
        emu.write_value(path, 99999999)
        assert float(os.pread(fd, 64, 0)) == 99999999
    finally:
        os.close(fd)


def test_the_sampler_thread_only_reads_and_decodes_after_the_window(tmp_path, monkeypatch):
    """The sampler's cost comes out of the inference it measures: its thread must not parse, check or list
    errors while sampling; all of that happens in stop(), and gives the same trace a decoding loop would."""
    tree = emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    decoded_during_run = []
    real_decode = sensor.decode
    state = {"stopped": False}

    def watch(now, raw):
        if not state["stopped"]:
            decoded_during_run.append(raw)
        return real_decode(now, raw)

    monkeypatch.setattr(sensor, "decode", watch)
    with emu.WaveformWriter(tree, lambda t: 5.0 if t < 0.1 else 7.0, update_hz=500.0):
        sampler = PowerSampler(sensor, 1000)
        sampler.start()
        time.sleep(0.25)
        emu.write_value(tree.path("VDD_IN", "mW"), "garbage")   # one bad read between writer updates, maybe
        time.sleep(0.05)
        state["stopped"] = True
        trace = sampler.stop()
    assert decoded_during_run == []
    assert trace.reads >= 100 and len(trace.watts) + trace.error_count + trace.unchanged_reads == trace.reads
    assert set(trace.watts) <= {5.0, 7.0} and 5.0 in trace.watts and 7.0 in trace.watts
    assert all(b > a for a, b in zip(trace.timestamps, trace.timestamps[1:]))
    assert "sampler_thread" in trace.sensor and trace.sampler_cpu_s is not None


def test_helper_thread_cpu_time_without_thread_time_and_placement(monkeypatch):
    """The TX2's Python 3.6 has no time.thread_time: the thread's CPU time comes from getrusage(RUSAGE_THREAD).
    A helper thread moves to a CPU of its own only where the process has SPARE_CPUS_NEEDED or more."""
    from artifact.device.measure import helper_threads

    monkeypatch.delattr(helper_threads.time, "thread_time")
    start = helper_threads.thread_cpu_s()
    sum(i * i for i in range(200000))
    assert start is not None and helper_threads.thread_cpu_s() > start

    moved = []
    monkeypatch.setattr(helper_threads.os, "sched_setaffinity", lambda pid, cpus: moved.append((pid, cpus)))
    monkeypatch.setattr(helper_threads.os, "sched_getaffinity", lambda pid: {0, 1})
    assert "not pinned: 2 CPUs" in helper_threads.place_helper_thread(idle=False) and moved == []
    monkeypatch.setattr(helper_threads.os, "sched_getaffinity", lambda pid: {0, 3, 4, 5})
    assert helper_threads.place_helper_thread(idle=False) == "normal priority, pinned to CPU 5 of 4"
    assert moved == [(0, {5})]

    policies = []
    monkeypatch.setattr(helper_threads.os, "sched_setscheduler", lambda pid, policy, param: policies.append(policy))
    assert helper_threads.place_helper_thread(idle=True).startswith("SCHED_IDLE")
    assert policies == [os.SCHED_IDLE] and moved == [(0, {5})]   # idle helpers are never pinned


def test_an_idle_priority_sampler_thread_really_runs_as_sched_idle(tmp_path):
    """What the thread says is what the kernel applied: read back the thread's own policy from inside it."""
    emu.make_tx2_r32_tree(str(tmp_path))
    sensor, _ = discover_power_sensor(str(tmp_path))
    seen = []
    real = sensor.raw_reader

    def spy():
        seen.append(os.sched_getscheduler(0))
        return real()

    sensor.raw_reader = spy
    with PowerSampler(sensor, 1000, idle_priority=True) as sampler:
        time.sleep(0.05)
    assert seen and set(seen) == {os.SCHED_IDLE}
    assert sampler.trace.sensor["sampler_thread"].startswith("SCHED_IDLE")
    with PowerSampler(sensor, 1000) as sampler:
        time.sleep(0.05)
    assert seen[-1] == os.SCHED_OTHER and sampler.trace.sensor["sampler_thread"].startswith("normal priority")
