"""A busy machine is detected, said and flagged (artifact/device/measure/busy.py).

Synthetic /proc trees pin the arithmetic; real busy processes started here check it end to end:
the flag on the timing record, `run` refusing without --allow-busy, `doctor` saying it.
"""
import os
import subprocess
import sys
import time

import pytest

from artifact.core.paths import PROJECT_ROOT
from artifact.device.measure import busy

HZ = os.sysconf("SC_CLK_TCK")


def _proc(root, processes, total, steal=0, load="0.10 0.05 0.01 1/100 1"):
    """A /proc tree: processes = {pid: (command, cpu seconds, parent, start)}; /proc/stat totals in ticks."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if old.name.isdigit():
            (old / "stat").unlink()
            old.rmdir()
    for pid, (command, seconds, parent, start) in processes.items():
        (root / str(pid)).mkdir()
        ticks = int(seconds * HZ)
        fields = ["S", str(parent)] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 6 + [str(start)]
        (root / str(pid) / "stat").write_text("{} ({}) {}\n".format(pid, command, " ".join(fields)))
    user = total - steal
    (root / "stat").write_text("cpu  {} 0 0 0 0 0 0 {} 0 0\n".format(user, steal))
    (root / "loadavg").write_text(load + "\n")
    return str(root)


def _window(tmp_path, before, after, totals=(0, 0), steal=(0, 0), seconds=1.0):
    root = tmp_path / "proc"
    first = busy.Snapshot(_proc(root, before, totals[0], steal[0]))
    last = busy.Snapshot(_proc(root, after, totals[1], steal[1]))
    last.time = first.time + seconds
    return busy.between(first, last, exclude={1}, cpu_count=2)


def test_a_quiet_machine_is_not_busy(tmp_path):
    summary = _window(tmp_path, {1: ("artifact", 5.0, 0, 10), 7: ("sshd", 1.0, 0, 5)},
                      {1: ("artifact", 6.0, 0, 10), 7: ("sshd", 1.01, 0, 5)}, totals=(1000, 1200))
    assert not summary["busy"] and summary["other_cores"] == pytest.approx(0.01, abs=0.005)
    assert busy.describe(summary).startswith("quiet machine: other processes used 0.01 of 2 cores")


def test_other_processes_using_a_core_make_it_busy_and_are_named(tmp_path):
    summary = _window(tmp_path, {1: ("artifact", 5.0, 0, 10), 40: ("stress", 100.0, 0, 3), 41: ("make", 2.0, 0, 4)},
                      {1: ("artifact", 6.0, 0, 10), 40: ("stress", 100.98, 0, 3), 41: ("make", 2.5, 0, 4)},
                      totals=(1000, 1200))
    assert summary["busy"] and summary["other_cores"] == pytest.approx(1.48, abs=0.02)
    assert [p["pid"] for p in summary["top"]] == [40, 41]
    assert "busy machine: other processes used 1.48 of 2 cores over 1.0 s (stress pid 40: 0.98" in \
        busy.describe(summary)


def test_this_process_and_its_ancestors_are_not_others(tmp_path):
    summary = _window(tmp_path, {1: ("artifact", 5.0, 0, 10)}, {1: ("artifact", 7.0, 0, 10)}, totals=(0, 200))
    assert not summary["busy"] and summary["other_cores"] == 0


def test_a_reused_pid_is_a_new_process(tmp_path):
    """pid 50 exited and a new process got its number: its CPU time all falls in the window."""
    summary = _window(tmp_path, {50: ("old", 900.0, 0, 3)}, {50: ("new", 0.6, 0, 99)}, totals=(0, 200))
    assert summary["other_cores"] == pytest.approx(0.6, abs=0.02) and summary["busy"]


def test_stolen_time_makes_it_busy(tmp_path):
    summary = _window(tmp_path, {}, {}, totals=(1000, 1200), steal=(0, 20))
    assert summary["busy"] and summary["steal_fraction"] == pytest.approx(0.1)
    assert "steal 10.0%" in busy.describe(summary)


def test_real_busy_processes_are_seen(load, monkeypatch):
    monkeypatch.setattr(busy, "TOP", 10)   # on a machine already loaded (make test-loaded), ours may not be the top 3
    summary = busy.check_now(0.5)
    assert summary["busy"] and summary["other_cores"] > 1.0
    assert set(load) <= {p["pid"] for p in summary["top"]}


class _Task:
    def timing_inputs(self, n=16):
        return list(range(n))


def _time(settings=None):
    from artifact.core.profiles import DEFAULT_MEASUREMENT, Cell
    from artifact.core.records import Record
    from artifact.device.run.meters import Deployed, measure_time_and_power

    measurer = type("M", (), {})()
    measurer.settings = dict(DEFAULT_MEASUREMENT, min_window_s=0.01, time_budget_s=0.5, min_windows=5)
    measurer.task, measurer.sysfs_root, measurer.sensor, measurer.no_sensor_reason = _Task(), "/nonexistent", None, ""
    measurer.environment = {}
    cell = Cell("m", "baseline", {}, ["inference_time_s"])
    record = Record(cell.to_dict(), {})
    measure_time_and_power(measurer, Deployed(cell, None, None, lambda _: time.sleep(0.001), False), record,
                           ["inference_time_s"])
    return record.measurements["inference_time_s"]


def test_a_timing_run_on_a_busy_machine_is_flagged_and_says_by_what(load, monkeypatch):
    monkeypatch.setattr(busy, "TOP", 10)
    timing = _time()
    assert any(f.startswith("busy machine: other processes used") for f in timing.flags), timing.flags
    assert timing.notes["machine_load"]["busy"] is True
    assert set(load) <= {p["pid"] for p in timing.notes["machine_load"]["top"]}


def test_the_same_run_with_the_load_stopped_records_the_load_it_saw():
    timing = _time()
    seen = timing.notes["machine_load"]
    # whatever else runs on this machine right now, the flag says exactly what the note says
    assert any(f.startswith("busy machine") for f in timing.flags) == seen["busy"]
    assert seen["rule"].startswith("busy when other processes use >= 0.25 cores")


def test_run_refuses_a_busy_machine_in_one_line_and_measures_nothing(load, tmp_path, monkeypatch, capsys):
    from artifact.cli import main

    monkeypatch.delenv("ARTIFACT_ALLOW_BUSY", raising=False)
    assert main(["run", "--profile", "smoke", "--results", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: busy machine: other processes used")
    assert "--allow-busy" in err[0] and "nvpmodel" in err[0]
    assert not (tmp_path / "out" / "records").exists()


def test_allow_busy_goes_on_with_a_warning(load, capsys):
    from artifact.cli import _refuse_a_busy_machine

    _refuse_a_busy_machine(True)
    assert "warning: busy machine" in capsys.readouterr().err


def test_doctor_says_the_machine_is_busy_and_what_to_do(load):
    root = PROJECT_ROOT
    out = subprocess.run([sys.executable, "-m", "artifact", "doctor"], cwd=root, capture_output=True,
                         text=True).stdout
    line = next(x for x in out.splitlines() if "machine load" in x)
    assert "busy machine" in line and "--allow-busy" in line
    assert out.splitlines()[-1].startswith("not ready to measure: the machine is busy")


def test_the_makefiles_watch_names_only_the_ways_in_whose_program_exists(tmp_path, monkeypatch, capsys):
    program = tmp_path / "bin" / "invoke"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    ways = ["ARTIFACT_ALLOW_BUSY=1 make quick", "{} reproduce-all --quick --allow-busy".format(program),
            "{} reproduce-all --quick --allow-busy".format(tmp_path / "not-yet" / "invoke")]
    monkeypatch.delenv("ARTIFACT_ALLOW_BUSY", raising=False)
    monkeypatch.setattr(busy, "check_now", lambda seconds: {"busy": True, "other_cores": 1.9, "cpu_count": 2,
                                                            "steal_fraction": 0.0, "window_s": 1.0, "top": []})
    assert busy.main(ways) == 2
    assert capsys.readouterr().err == (
        "error: busy machine: other processes used 1.90 of 2 cores over 1.0 s: stop them, or measure anyway with "
        "timings flagged 'busy machine': {} or {}\n".format(*ways[:2]))
    monkeypatch.setenv("ARTIFACT_ALLOW_BUSY", "1")   # the run itself warns later; the watch does not wait
    monkeypatch.setattr(busy, "check_now", lambda seconds: pytest.fail("watched with ARTIFACT_ALLOW_BUSY=1"))
    assert busy.main(ways) == 0


def test_the_watch_runs_on_the_standard_library_alone():
    """`python3 -S`: no site-packages (a fresh clone's system Python), the watch still imports and runs."""
    done = subprocess.run([sys.executable, "-S", "-c", "import sys; from artifact.device.measure import busy; "
                           "print(busy.describe(busy.check_now(0.05)).split(':')[0]); "
                           "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] not in "
                           "sys.stdlib_module_names))"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr
    kind, modules = done.stdout.splitlines()
    assert kind in ("busy machine", "quiet machine") and set(eval(modules)) <= {"artifact", "__main__"}
