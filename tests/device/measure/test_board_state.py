"""Tests for artifact.device.measure.board_state on EMULATED board trees (artifact.device.emulation.board)."""
import json
import os
import time

import pytest

from artifact.core.paths import PROJECT_ROOT
from artifact.device.emulation import board as eb
from artifact.device.measure import board_state as bs
from artifact.device.measure.board_state import BoardMonitor, read_board_state, throttling_flags

TX2_GPU = eb.TX2_GPU_DEVFREQ


def _strings(state):
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in state.items())
    json.dumps(state)


def _run_monitor(root, during=None, interval_s=0.05, before=0.3, after=0.3):
    monitor = BoardMonitor(root, interval_s=interval_s).start()
    time.sleep(before)
    if during is not None:
        during(root)
    time.sleep(after)
    summary = monitor.stop()
    json.dumps(summary)
    return summary


@pytest.fixture()
def no_commands(monkeypatch):
    """Fail the test if read_board_state runs an external command."""
    def forbidden(*args, **kwargs):
        raise AssertionError("external command run: {}".format(args))
    monkeypatch.setattr(bs.subprocess, "run", forbidden)


def test_tx2_pinned(tmp_path, no_commands):
    root = eb.make_tx2_board(str(tmp_path))
    state = read_board_state(root)
    _strings(state)
    assert state["board"] == "jetson"
    assert state["emulated"].startswith("yes (EMULATED jetson-tx2 board tree")
    assert state["l4t_release"] == "R32 (release), REVISION: 7.1"
    assert state["l4t_version"] == "32.7.1"
    assert state["l4t_release_line"].startswith("R32 (release), REVISION: 7.1, GCID: 29818004")
    assert state["jetson_model"] == "NVIDIA Jetson TX2"
    assert state["nvpmodel"] == "0 (MAXN)"
    assert state["nvpmodel_source"] == "/var/lib/nvpmodel/status"
    assert state["jetson_clocks"] == "pinned (min = max on CPU, GPU, EMC)"
    assert state["cpu_freq_khz"] == ",".join("cpu{}=2035200".format(i) for i in range(6))
    assert state["cpu_governor"] == "schedutil"
    assert state["gpu_freq_hz"] == "1300500000"
    assert state["gpu_freq_range_hz"] == "1300500000-1300500000"
    assert state["gpu_devfreq"] == "/" + TX2_GPU
    assert state["emc_freq_hz"] == "1866000000"
    assert state["temp_GPU-therm"] == "42.5"
    assert state["trip_GPU-therm"] == "96.0 (passive)"
    assert state["temp_BCPU-therm"] == "44.5"
    assert "trip_AO-therm" not in state


def test_tx2_other_release_and_mode(tmp_path, no_commands):
    root = eb.make_tx2_board(str(tmp_path), l4t="R28 (release), REVISION: 2.1")
    eb.set_value(root, "var/lib/nvpmodel/status", "pmode:0003")
    state = read_board_state(root)
    assert state["l4t_version"] == "28.2.1"
    assert state["nvpmodel"] == "3 (MAXP_CORE_ARM)"


def test_tx2_not_pinned(tmp_path, no_commands):
    root = eb.make_tx2_board(str(tmp_path), pinned=False)
    state = read_board_state(root)
    clocks = state["jetson_clocks"]
    assert clocks.startswith("not pinned (")
    assert "cpu0,cpu1,cpu2,cpu3,cpu4,cpu5 scaling_min_freq 345600 != scaling_max_freq 2035200 kHz" in clocks
    assert "GPU min_freq 114750000 != max_freq 1300500000 Hz" in clocks
    assert "mrq_rate_locked 0" in clocks
    assert state["cpu_freq_khz"].startswith("cpu0=1267200,")
    assert state["gpu_freq_range_hz"] == "114750000-1300500000"


def test_pinned_below_hardware_max_and_emc_unreadable(tmp_path, no_commands):
    root = eb.make_tx2_board(str(tmp_path))
    for cpu in range(6):
        for name in ("scaling_min_freq", "scaling_max_freq", "scaling_cur_freq"):
            eb.set_value(root, "{}/cpu{}/cpufreq/{}".format(eb.CPU_DIR, cpu, name), 1420800)
    assert read_board_state(root)["jetson_clocks"].startswith(
        "pinned below the hardware maximum (cpu0,cpu1,cpu2,cpu3,cpu4,cpu5 min = max = 1420800")
    root2 = eb.make_tx2_board(str(tmp_path / "nodebugfs"))
    for rel in ("sys/kernel/debug/clk/emc/clk_rate", "sys/kernel/debug/bpmp/debug/clk/emc/mrq_rate_locked"):
        os.remove(os.path.join(root2, rel))
    state = read_board_state(root2)
    assert state["emc_freq_hz"].startswith("unreadable (needs root for debugfs: /sys/kernel/debug/bpmp")
    assert state["jetson_clocks"].startswith("pinned (min = max on CPU, GPU; EMC not checked: ")


def test_orin(tmp_path, no_commands):
    root = eb.make_orin_board(str(tmp_path))
    state = read_board_state(root)
    _strings(state)
    assert state["l4t_release"] == "R36 (release), REVISION: 3.0"
    assert state["l4t_version"] == "36.3.0"
    assert state["jetson_model"] == "NVIDIA Jetson AGX Orin Developer Kit"
    assert state["nvpmodel"] == "0 (MAXN)"
    assert state["jetson_clocks"] == "pinned (min = max on CPU, GPU, EMC)"
    assert state["cpu_freq_khz"] == "policy0=2201600,policy4=2201600,policy8=2201600"
    assert state["gpu_devfreq"] == "/" + eb.ORIN_GPU_DEVFREQ
    assert state["gpu_freq_hz"] == "1300500000"
    assert state["emc_freq_hz"] == "3199000000"
    assert state["temp_gpu-thermal"] == "46.5"
    eb.set_value(root, "var/lib/nvpmodel/status", "pmode:0002")
    assert read_board_state(root)["nvpmodel"] == "2 (MODE_30W)"
    unpinned = read_board_state(eb.make_orin_board(str(tmp_path / "dyn"), pinned=False))
    assert unpinned["jetson_clocks"].startswith("not pinned (policy0,policy4,policy8 scaling_min_freq 115200")


def test_x86(tmp_path, no_commands):
    root = eb.make_x86_board(str(tmp_path))
    state = read_board_state(root)
    _strings(state)
    assert state["cpu_model"] == eb.X86_MODEL
    assert state["cpu_governor"] == "performance"
    assert state["cpu_freq_khz"] == "cpu0=2100000"
    assert state["cpu_freq_range_khz"] == "1000000-3700000"
    assert state["cpu_throttle_count"] == "0"
    assert state["temp_x86_pkg_temp"] == "45.0"
    assert "trip_x86_pkg_temp" not in state          # passive trips at 0 C mean "disabled"
    assert "gpu" not in state and "nvpmodel" not in state and "l4t_version" not in state
    eb.bump_throttle_count(root, 2, cpu=1)
    assert read_board_state(root)["cpu_throttle_count"] == "2"


def test_commands_are_used_only_when_asked(tmp_path, monkeypatch):
    calls = []

    class Done:
        returncode, stderr = 0, ""

        def __init__(self, stdout):
            self.stdout = stdout

    def fake_run(args, **kwargs):
        calls.append(args[0])
        if args[0] == "nvpmodel":
            return Done("NVPM WARN: fan mode is not set!\nNV Power Mode: MAXP_CORE_ARM\n3\n")
        return Done("Tesla V100-SXM2-16GB, 470.57.02\nTesla V100-SXM2-16GB, 470.57.02\n")
    monkeypatch.setattr(bs.subprocess, "run", fake_run)
    tx2 = eb.make_tx2_board(str(tmp_path / "tx2"))
    x86 = eb.make_x86_board(str(tmp_path / "x86"))
    read_board_state(tx2)
    read_board_state(x86)
    assert calls == []
    state = read_board_state(tx2, run_commands=True)
    assert state["nvpmodel"] == "3 (MAXP_CORE_ARM)" and state["nvpmodel_source"] == "nvpmodel -q"
    state = read_board_state(x86, run_commands=True)
    assert state["gpu"] == "Tesla V100-SXM2-16GB; Tesla V100-SXM2-16GB" and state["gpu_driver"] == "470.57.02"

    def missing(args, **kwargs):
        raise FileNotFoundError(args[0])
    monkeypatch.setattr(bs.subprocess, "run", missing)
    state = read_board_state(tx2, run_commands=True)
    assert state["nvpmodel"] == "0 (MAXN)"      # falls back to the status file
    assert read_board_state(x86, run_commands=True)["gpu"] == "unreadable (nvidia-smi: command not found)"


def test_empty_root(tmp_path, no_commands):
    state = read_board_state(str(tmp_path))
    _strings(state)
    assert state["emulated"] == "no"
    assert state["cpu_model"].startswith("unreadable (/proc/cpuinfo")
    assert state["cpu_freq_khz"].startswith("unreadable (no cpufreq policy")
    assert state["temperatures"].startswith("unreadable (no thermal_zone*")
    assert "board_state_error" not in state


def test_garbage_and_unreadable_files(tmp_path, no_commands):
    root = eb.make_tx2_board(str(tmp_path))
    eb.set_value(root, "sys/class/thermal/thermal_zone2/temp", "abc")                   # GPU-therm
    cur = os.path.join(root, eb.CPU_DIR, "cpu0/cpufreq/scaling_cur_freq")
    os.remove(cur)
    os.mkdir(cur)                                                                         # a directory
    gpu_min = os.path.join(root, TX2_GPU, "min_freq")
    os.remove(gpu_min)
    os.symlink(os.path.join(root, "nowhere"), gpu_min)                                   # dangling symlink
    os.remove(os.path.join(root, "etc/nvpmodel.conf"))
    eb.set_value(root, "var/lib/nvpmodel/status", "garbage")
    os.remove(os.path.join(root, "etc/nv_tegra_release"))     # still a Jetson by device-tree compatible
    state = read_board_state(root)
    _strings(state)
    assert state["board"] == "jetson"
    assert state["l4t_version"].startswith("unreadable (/etc/nv_tegra_release")
    assert state["temp_GPU-therm"] == "unreadable (/sys/class/thermal/thermal_zone2/temp: garbage 'abc')"
    assert state["cpu_freq_khz"].startswith("cpu0=unreadable (/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    assert state["cpu_freq_khz"].endswith("cpu5=2035200")
    assert state["gpu_freq_range_hz"].startswith("unreadable (/" + TX2_GPU + "/min_freq")
    assert state["jetson_clocks"].startswith("unknown (unreadable (/" + TX2_GPU + "/min_freq")
    assert state["nvpmodel"].startswith("unreadable (/var/lib/nvpmodel/status: no pmode")
    eb.set_value(root, "var/lib/nvpmodel/status", "pmode:0001")
    assert read_board_state(root)["nvpmodel"].startswith("1 (name unknown: unreadable (/etc/nvpmodel.conf")


def test_monitor_tx2_throttle(tmp_path):
    root = eb.make_tx2_board(str(tmp_path))
    summary = _run_monitor(root, eb.throttle_tx2)
    flags = throttling_flags(summary)
    assert "GPU frequency fell to 114750000 Hz (max 1300500000 Hz) while clocks were pinned" in flags
    assert "thermal zone GPU-therm reached 97.5 C, at or above its passive trip point 96.0 C" in flags
    assert len(flags) == 2, flags
    assert summary["samples"] >= 5 and summary["interval_s"] == 0.05
    assert summary["gpu_freq_hz"] == {"min": 114750000, "max": 1300500000, "pinned": 1300500000,
                                      "limit_max": 1300500000}
    assert summary["temp_max_c"]["GPU-therm"] == 97.5
    assert summary["cpu_freq_khz"]["cpu0"] == {"min": 2035200, "max": 2035200, "pinned": 2035200}
    assert summary["errors"] == []


def test_monitor_tx2_quiet_and_cpu_drop(tmp_path):
    root = eb.make_tx2_board(str(tmp_path))
    with BoardMonitor(root, interval_s=0.05) as monitor:
        time.sleep(0.2)
    assert monitor.summary["throttling"] == [] and monitor.summary["errors"] == []
    root2 = eb.make_tx2_board(str(tmp_path / "cpu"))
    summary = _run_monitor(root2, lambda r: eb.set_value(r, eb.CPU_DIR + "/cpu0/cpufreq/scaling_cur_freq", 345600),
                           before=0.15, after=0.15)
    assert throttling_flags(summary) == ["cpu0 frequency fell to 345600 kHz while clocks were pinned at 2035200 kHz"]


def test_monitor_not_pinned_low_freq_is_not_flagged(tmp_path):
    root = eb.make_tx2_board(str(tmp_path), pinned=False)

    def slow_down(r):
        eb.set_value(r, eb.CPU_DIR + "/cpu0/cpufreq/scaling_cur_freq", 345600)
        eb.set_value(r, TX2_GPU + "/cur_freq", 114750000)
    summary = _run_monitor(root, slow_down, before=0.15, after=0.15)
    assert summary["throttling"] == []
    assert summary["gpu_freq_hz"]["pinned"] is None and summary["gpu_freq_hz"]["min"] == 114750000
    assert summary["cpu_freq_khz"]["cpu0"]["min"] == 345600


def test_monitor_x86_throttle_count(tmp_path):
    root = eb.make_x86_board(str(tmp_path))
    summary = _run_monitor(root, lambda r: eb.bump_throttle_count(r, 3), before=0.1, after=0.1)
    assert throttling_flags(summary) == ["cpu throttle count rose by 3 during the run"]
    assert summary["throttle_count_delta"] == 3
    quiet = _run_monitor(eb.make_x86_board(str(tmp_path / "quiet")), before=0.1, after=0.1)
    assert quiet["throttling"] == [] and quiet["throttle_count_delta"] == 0


def test_monitor_empty_root_and_failing_reads(tmp_path):
    start = time.perf_counter()
    summary = _run_monitor(str(tmp_path), before=0.1, after=0.1)
    assert time.perf_counter() - start < 2.0
    assert summary["throttling"] == []
    assert summary["samples"] >= 2
    assert any(e.startswith("nothing to monitor under") for e in summary["errors"])
    root = eb.make_tx2_board(str(tmp_path / "tx2"))
    monitor = BoardMonitor(root, interval_s=0.05).start()
    for rel in (TX2_GPU + "/cur_freq", "sys/class/thermal/thermal_zone2/temp"):
        os.remove(os.path.join(root, rel))
    time.sleep(0.2)
    summary = monitor.stop()
    assert monitor.stop() is summary
    assert summary["throttling"] == []
    assert any("/" + TX2_GPU + "/cur_freq: No such file" in e for e in summary["errors"])
    assert throttling_flags(None) == [] and throttling_flags({"throttling": "x"}) == []


def test_monitor_never_started():
    summary = BoardMonitor("/nonexistent-root").stop()
    assert summary["samples"] == 0 and summary["throttling"] == []
    assert summary["notes"] == ["monitor was never started"]


def test_real_machine():
    state = read_board_state("/")
    _strings(state)
    assert state["board"] and "board_state_error" not in state
    summary = _run_monitor("/", interval_s=0.05, before=0.1, after=0.0)
    assert isinstance(summary["throttling"], list)


def test_emulate_runs_a_command_against_the_board_and_ends_with_its_status(tmp_path):
    """`python -m artifact.device.emulation tx2 DIR --serial SN -- CMD`: CMD sees the tree (sensors playing,
    the serial given) through ARTIFACT_SYSFS_ROOT, in a process of its own; the emulator exits with CMD's status."""
    import subprocess
    import sys

    root = str(tmp_path / "board")
    probe = ("import os, sys; r = os.environ['ARTIFACT_SYSFS_ROOT']; "
             "s = open(os.path.join(r, 'proc/device-tree/serial-number')).read(); "
             "ok = os.path.exists(os.path.join(r, 'EMULATED_SENSORS')) and s.strip('\\0\\n') == 'SN-7'; "
             "sys.exit(3 if ok else 1)")
    proc = subprocess.run([sys.executable, "-m", "artifact.device.emulation", "tx2", root, "--serial", "SN-7",
                           "--", sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT_ROOT)
    assert proc.returncode == 3, proc.stderr
    assert "EMULATED tx2 board" in proc.stdout
