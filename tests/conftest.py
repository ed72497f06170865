import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The tests measure plumbing, not this machine's quietness: `run` refuses a busy machine unless told
# (artifact.device.measure.busy); `.ci/test-loaded` runs the suite beside busy processes on purpose.
# tests/test_busy_machine.py unsets it where the refusal itself is tested.
os.environ.setdefault("ARTIFACT_ALLOW_BUSY", "1")


class FakeClock:
    """The timing harness's clock, advanced only by the functions being timed: the tests decide exactly how
    long each inference takes, so no scheduler, load or late wake-up can change an outcome."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def spend(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """The timing harness's clock replaced by a FakeClock (artifact.device.measure.timing.clock)."""
    from artifact.device.measure import timing

    fake = FakeClock()
    monkeypatch.setattr(timing, "clock", fake)
    return fake


# The fast tier (`make test-fast`, `invoke test --fast`: `-m "not slow and not twins and not trains"`): every test
# file but these, whose tests train, fine-tune or convert TensorFlow models, or run the measuring pipeline in
# subprocesses (chosen by their measured durations: docs/DESIGN.md "Tests"). A new test file is in the fast tier
# unless it is named here; the full suite (`make test`) runs everything.
TRAINING_MODULES = frozenset([
    "test_board_run_script", "test_board_twins", "test_compression", "test_litert", "test_memory_probe",
    "test_mini_zoo", "test_mixed_widths", "test_nmt_data", "test_paper_architectures", "test_paper_profile",
    "test_pipeline", "test_prune_gnmt", "test_report_browser", "test_report_golden", "test_retrain",
    "test_retrain_paper", "test_sparsity", "test_worker_failures",
])


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in TRAINING_MODULES:
            item.add_marker(pytest.mark.trains)


@pytest.fixture
def load():
    """Two busy processes (tests of the busy-machine watch), one per core of the project's machines."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.3)
    yield [p.pid for p in procs]
    for p in procs:
        p.kill()
        p.wait()
