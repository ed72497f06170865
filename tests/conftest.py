import os
import subprocess
import sys
import time

import pytest

# The one place a test computes the checkout from its own location: conftest.py imports before `artifact` can be
# (without an installed copy); every test takes the root from `artifact.core.paths.PROJECT_ROOT`.
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The tests measure plumbing, not this machine's quietness: `run` refuses a busy machine unless told
# (artifact.device.measure.busy); `.ci/test-loaded` runs the suite beside busy processes on purpose.
# tests/device/measure/test_busy.py unsets it where the refusal itself is tested.
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
# subprocesses (chosen by their measured durations: docs/DESIGN.md "Tests"). Paths relative to tests/ (the tree
# mirrors artifact/: two folders may hold files of one name). A new test file is in the fast tier unless it is
# named here; the full suite (`make test`) runs everything.
TRAINING_MODULES = frozenset([
    "behaviour/test_board_run_script.py", "behaviour/test_board_twins.py", "behaviour/test_paper_profile.py",
    "behaviour/test_pipeline.py", "behaviour/test_report_browser.py",
    "device/compress/test_compress.py", "device/compress/test_litert.py", "device/compress/test_mixed.py",
    "device/compress/test_prune_gnmt.py", "device/compress/test_sparsity.py",
    "device/models/architectures/test_mini_zoo.py", "device/models/architectures/test_paper_architectures.py",
    "device/models/data/test_nmt_data.py",
    "device/run/test_memory_probe.py", "device/run/test_worker_failures.py",
    "device/train/test_retrain.py", "device/train/test_retrain_paper.py",
    "host/report/test_render_golden.py",
])


def relative_test_file(item):
    """The test file an item was collected from, relative to tests/ with / separators (None outside tests/)."""
    path = getattr(item, "path", None)
    if path is None:
        return None
    relative = os.path.relpath(str(path), TESTS)
    return None if relative.startswith(os.pardir) else relative.replace(os.sep, "/")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if relative_test_file(item) in TRAINING_MODULES:
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
