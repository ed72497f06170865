"""One cell's failure never stops the model's other cells; the parent names the cell, the cause and the log."""
import os

import pytest

from artifact.core.paths import PROJECT_ROOT
from artifact.core.profiles import load_profile
from artifact.core.records import Record
from artifact.device.run import worker


class _Measurer:
    def __init__(self, profile, model_name, results):
        pass

    def measure(self, cell, stage=None):
        if cell.technique == "quantize":
            raise ValueError("weights went missing\nsecond line of the message")
        record = Record(cell.to_dict(), {})
        record.skip("params", "not measured in this test")
        return record

    def close(self):
        pass


def test_a_failing_cell_is_named_and_the_next_cells_still_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(worker, "CellMeasurer", _Measurer)
    assert worker.worker_main(["smoke", "mini_vgg", str(tmp_path)]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert "FAILED mini_vgg__quantize__bits-8 ValueError: weights went missing" in lines
    assert any(line.startswith("CELL mini_vgg__prune__threshold-0.05 ") for line in lines)  # after the failure
    assert "Traceback" in out.err   # the whole story goes to the log the parent names
    assert sorted(os.listdir(tmp_path / "records")) == ["mini_vgg__baseline__fp32.json",
                                                        "mini_vgg__prune__threshold-0.05.json"]


def test_the_parent_reports_each_failed_cell_in_one_line(tmp_path, monkeypatch):
    """The parent reads the worker's FAILED lines: one failure per cell, with the log to read."""
    import subprocess

    from artifact.device.run import parent

    class _Proc:
        stdout = iter(["CELL mini_vgg__baseline__fp32 0.1\n", "FAILED mini_vgg__quantize__bits-8 ValueError: x\n",
                       "CELL mini_vgg__prune__threshold-0.05 0.1\n"])

        def __init__(self, *args, **kwargs):
            pass

        def wait(self):
            return 1

    monkeypatch.setattr(subprocess, "Popen", _Proc)
    todo, failures = parent.run_profile(load_profile("smoke"), str(tmp_path), {})
    assert todo == 3
    assert failures == ["mini_vgg__quantize__bits-8 ValueError: x (see {})".format(
        os.path.join(str(tmp_path), "logs", "mini_vgg.log"))]


def test_the_worker_measures_only_the_cells_the_parent_selected(tmp_path, monkeypatch):
    import subprocess

    from artifact.device.run import parent

    commands = []

    class _Proc:
        stdout = iter(())

        def __init__(self, command, *args, **kwargs):
            commands.append(command)

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", _Proc)
    profile = load_profile("smoke")
    selected = [c for c in profile.cells if c.key == "mini_vgg__prune__threshold-0.05"]
    parent.run_profile(profile, str(tmp_path), {}, todo=selected)   # `run --cells mini_vgg__prune__threshold-0.05`
    assert len(commands) == 1 and commands[0][-1] == "mini_vgg__prune__threshold-0.05"
    monkeypatch.setattr(worker, "CellMeasurer", _Measurer)
    assert worker.worker_main(commands[0][-4:]) == 0
    assert os.listdir(tmp_path / "records") == ["mini_vgg__prune__threshold-0.05.json"]


def _workers_of(results):
    """Pids of measurement workers writing into `results` (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            with open(os.path.join("/proc", name, "cmdline"), "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if b"artifact.device.run.worker" in argv and str(results).encode() in argv:
            pids.append(int(name))
    return pids


def test_a_worker_dies_with_its_parent(tmp_path):
    """kill -9 of `run` alone: its worker must not go on measuring into the directory without the lock."""
    import signal
    import subprocess
    import sys
    import time

    root = PROJECT_ROOT
    results = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "artifact", "run", "--profile", "smoke", "--results", str(results)],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    deadline = time.time() + 120
    while not _workers_of(results):
        assert proc.poll() is None and time.time() < deadline, "no worker started"
        time.sleep(0.05)
    workers = _workers_of(results)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while _workers_of(results) and time.time() < deadline:
        time.sleep(0.05)
    left = _workers_of(results)
    for pid in left:  # pragma: no cover - only when the test fails
        os.kill(pid, signal.SIGKILL)
    assert workers and not left


class _KilledAtTheBarrier(Exception):
    pass


@pytest.mark.slow
def test_a_kill_between_the_stages_loses_nothing_and_mislabels_nothing(tmp_path):
    """A two-stage run of the smoke profile (real cells: mini_vgg trained, quantized, pruned) stopped between its
    stages: no cell counts as measured and every prepared one waits in prepared/; the next run prepares nothing
    again, times each prepared cell, and every metric each cell asks for is measured or skipped with its reason."""
    from artifact.core.results import ResultsDir
    from artifact.device.run import parent
    from artifact.device.run.stages import overlaps

    profile, results = load_profile("smoke"), ResultsDir(str(tmp_path / "results"))
    calls = []

    def barrier():   # before_workers: called before the first stage, then at the barrier, where the run dies
        calls.append(1)
        if len(calls) == 2:
            raise _KilledAtTheBarrier()

    with pytest.raises(_KilledAtTheBarrier):
        parent.run_profile(profile, results, {}, before_workers=barrier, two_stage=True)
    assert results.load_records() == {}                                   # nothing half-measured counts as done
    assert len(parent.pending_cells(profile, results)) == len(profile.cells)
    assert sorted(os.listdir(results.prepared)) == sorted(c.key + ".json" for c in profile.cells)

    events, stages = [], []
    count, failures = parent.run_profile(profile, results, {}, two_stage=True, events=events,
                                         on_stage=lambda stage, cells, how: stages.append((stage, cells)))
    assert failures == [] and count == len(profile.cells)
    assert stages == [("prepare", 0), ("quiet", len(profile.cells))]
    assert [e for e in events if e[1] == "prepare"] == [] and overlaps(events, "prepare", "quiet") == []
    records = results.load_records()
    assert sorted(records) == sorted(c.key for c in profile.cells) and os.listdir(results.prepared) == []
    for cell in profile.cells:
        record = records[cell.key]
        assert set(cell.metrics) == set(record.measurements) | set(record.skipped), cell.key   # nothing lost
        assert "inference_time_s" in record.measurements and "memory_peak_bytes" in record.measurements
        assert "time_and_power" in record.phases and "memory" in record.phases   # both stages' meters ran
        if cell.technique != "baseline":
            assert "compress" in record.phases   # prepared by the first run, not made again by the second
        assert record.environment["run_stages"].startswith("two stages")
