"""Benchmarks that print figures (medians and ratios), never pass/fail: `invoke bench --only measurement`.

1. Timing-harness overhead per inference against a bare `tf.function` loop (goal <= 1.02x).
2. Windows the stopping rule needed against a fixed 50-run design, same model.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from artifact.compat import tf  # noqa: E402
from artifact.measure.timing import time_inference  # noqa: E402
from artifact.models import mini_zoo  # noqa: E402
from artifact.models.data import digits_split  # noqa: E402

SETTINGS = {"warmup_windows": 3, "min_windows": 10, "max_windows": 200, "min_window_s": 0.02,
            "ci_target": 0.05, "time_budget_s": 10.0}


def harness_overhead(repeats=5):
    split = digits_split()
    model = mini_zoo.mini_mobilenet()
    fn = tf.function(lambda x: model(x, training=False))
    inputs = [split.x_test[i:i + 1] for i in range(64)]
    ratios = []
    for _ in range(repeats):
        result = time_inference(fn, inputs, SETTINGS)
        n = result.per_window * len(result.samples)
        start = time.perf_counter()
        for i in range(n):
            fn(inputs[i % len(inputs)]).numpy()
        bare = (time.perf_counter() - start) / n
        ratios.append(statistics.median(result.samples) / bare)
    print(f"harness/bare per inference (mini MobileNet, {repeats} repeats): median {statistics.median(ratios):.3f}x "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); goal <= 1.02x")
    print(f"stopping rule: {len(result.samples)} windows x {result.per_window} inferences "
          f"(converged={result.converged}) vs a fixed 50-run design")


if __name__ == "__main__":
    harness_overhead()
