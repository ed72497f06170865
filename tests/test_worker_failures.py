"""One cell's failure never stops the model's other cells; the parent names the cell, the cause and the log."""
import os

from artifact.core.profiles import load_profile
from artifact.core.records import Record
from artifact.device.run import worker


class _Measurer:
    def __init__(self, profile, model_name, results):
        pass

    def measure(self, cell):
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


def test_the_worker_measures_only_the_cells_its_parent_names(tmp_path, monkeypatch):
    """`run --cells KEY` (a fleet's one cell per board): the worker measures that cell, not its model's other
    pending ones (a board measuring the reference cell measured the model's every cell, and fine-tuned the pruned
    one whose package it had not been given)."""
    import subprocess

    from artifact.device.run import parent

    started = []

    class _Proc:
        stdout = iter(["CELL mini_vgg__quantize__bits-8 0.1\n"])

        def __init__(self, cmd, *args, **kwargs):
            started.append(cmd)

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", _Proc)
    profile = load_profile("smoke")
    one = [c for c in profile.cells if c.key == "mini_vgg__quantize__bits-8"]
    parent.run_profile(profile, str(tmp_path / "parent"), {}, todo=one)
    assert started[0][-3:] == ["mini_vgg", str(tmp_path / "parent"), "mini_vgg__quantize__bits-8"], started
    monkeypatch.setattr(worker, "CellMeasurer", _Measurer)
    assert worker.worker_main(["smoke", "mini_vgg", str(tmp_path / "w"), "mini_vgg__prune__threshold-0.05"]) == 0
    assert os.listdir(tmp_path / "w" / "records") == ["mini_vgg__prune__threshold-0.05.json"]


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

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
