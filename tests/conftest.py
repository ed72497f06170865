import os
import sys

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
