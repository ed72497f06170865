
import pytest
from scipy import stats

from artifact.device.measure.timing import ci_half_width, time_inference

SETTINGS = {"warmup_windows": 2, "min_windows": 10, "max_windows": 40, "min_window_s": 0.002,
            "ci_target": 0.05, "time_budget_s": 5.0}


def test_ci_half_width_uses_student_t():
    samples = [1.0, 2.0, 3.0, 4.0]
    expected = stats.t.ppf(0.975, 3) * stats.tstd(samples) / 2.0
    assert ci_half_width(samples) == pytest.approx(expected)
    assert ci_half_width([1.0]) == float("inf")


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
    from artifact.device.measure import timing

    fake = FakeClock()
    monkeypatch.setattr(timing, "clock", fake)
    return fake


def test_steady_function_converges_with_raw_samples_and_warmups_apart(clock):
    calls = []

    def fn(x):
        calls.append(x)
        clock.spend(0.001 * (1.0 + 0.01 * (len(calls) % 3)))   # 1.00-1.02 ms: steady, not constant

    result = time_inference(fn, [1, 2, 3], dict(SETTINGS, min_window_s=0.01, max_windows=80))
    assert result.converged and 10 <= len(result.samples) <= 80
    assert len(result.warmup) == 2 and len(result.windows) == len(result.samples)
    assert set(calls) == {1, 2, 3}  # real inputs cycled
    assert all(0.001 <= s <= 0.00102 for s in result.samples)


def test_noisy_function_stops_at_the_cap_and_says_so(clock):
    state = {"i": 0}

    def fn(_):
        state["i"] += 1
        clock.spend(0.004 if (state["i"] // 3) % 2 else 0.0001)

    settings = dict(SETTINGS, max_windows=12, min_window_s=0.0, ci_target=0.001)
    result = time_inference(fn, [0], settings)
    assert not result.converged and len(result.samples) == 12


def test_paired_timing_cancels_drift_shared_by_both_models(clock):
    """The machine slows down 3x halfway through: raw times drift, the paired ratio stays put."""
    start = clock()

    def slowdown():
        return 3.0 if clock() - start > 0.15 else 1.0

    def variant(_):
        clock.spend(0.0012 * slowdown())

    def baseline(_):
        clock.spend(0.0010 * slowdown())

    settings = dict(SETTINGS, min_windows=20, max_windows=40, min_window_s=0.005, ci_target=0.05)
    result = time_inference(variant, [0, 1], settings, reference=baseline)
    assert len(result.reference_samples) == len(result.samples) == len(result.paired_ratios)
    assert max(result.samples) > 2 * min(result.samples)   # the drift is in the raw samples
    notes = result.notes()
    assert notes["paired_ratio"] == pytest.approx(1.2, rel=0.01)   # and not in the ratio
    assert notes["paired_reference_s"] == result.reference_samples and "fp32 baseline" in notes["paired_with"]
    assert "paired_ratio" not in time_inference(variant, [0], SETTINGS).notes()
