"""Inference time by the paper's rule: repeat until the 95% CI half-width is <= 5% of the mean.

One sample is one *window* of K inferences (K chosen so a window lasts at least `min_window_s`,
so timer resolution and power-sensor update rates stay negligible); a sample's value is the
window's wall time divided by K. Warm-up windows are discarded and kept apart. The CI uses
Student's t with n-1 degrees of freedom. Inputs are real samples from the evaluation set, cycled;
each output is materialised (`.numpy()`) before the clock is read, which also synchronises a GPU.
"""
import math
import time


def t_quantile_975(df):
    # type: (int) -> float
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def ci_half_width(samples):
    # type: (Sequence[float]) -> float
    n = len(samples)
    if n < 2:
        return float("inf")
    mean = sum(samples) / n
    var = sum((x - mean) ** 2 for x in samples) / (n - 1)
    return t_quantile_975(n - 1) * math.sqrt(var) / math.sqrt(n)


class TimingResult(object):
    def __init__(self, samples, warmup, windows, per_window, converged, half_width):
        self.samples = samples  # type: List[float]  # seconds per inference, one per window
        self.warmup = warmup  # type: List[float]
        self.windows = windows  # type: List[Tuple[float, float]]  # perf_counter (start, end)
        self.per_window = per_window  # inferences per window
        self.converged = converged
        self.half_width = half_width

    @property
    def mean(self):
        return sum(self.samples) / len(self.samples)

    def flags(self, target):
        # type: (float) -> List[str]
        """Quality problems worth showing next to the number (empty when the rule was met)."""
        if self.converged:
            return []
        rel = self.half_width / self.mean if self.samples and self.mean > 0 else float("inf")
        return ["timing did not converge: 95% CI half-width {:.1%} of the mean > {:.0%} after {} windows of {} "
                "(time budget or max_windows reached); the median is reported with its spread".format(
                    rel, target, len(self.samples), self.per_window)]

    def notes(self):
        # type: () -> Dict[str, Any]
        return {"inferences_per_window": self.per_window, "windows": len(self.samples),
                "ci95_half_width_s": self.half_width,
                "ci95_relative": self.half_width / self.mean if self.samples else None,
                "stopping_rule": "95% CI half-width (Student t, n-1 df) <= target x mean"}


def materialise(out):
    """Bring every tensor of an output (nested lists, tuples, dicts) to host memory.

    `.numpy()` blocks until the ops producing the tensor have finished, so on a GPU the clock is
    read after the work, not after the enqueue (TF 2 runs GPU ops asynchronously; TF >= 2.12's
    `tf.test.experimental.sync_devices()` does not exist on the TX2's TF 2.7). NumPy results
    (LiteRT) and Python values (decoded sentences) are already on the host.
    """
    if hasattr(out, "numpy"):
        return out.numpy()
    if isinstance(out, dict):
        return {k: materialise(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [materialise(v) for v in out]
    return out


def _run_window(fn, inputs, k, offset):
    # type: (Callable[[Any], Any], Sequence[Any], int, int) -> Tuple[float, float]
    start = time.perf_counter()
    for i in range(k):
        materialise(fn(inputs[(offset + i) % len(inputs)]))
    return start, time.perf_counter()


def time_inference(fn, inputs, settings, on_window=None):
    """Time `fn` over real `inputs` with the stopping rule in `settings` (profile [measurement])."""
    if not inputs:
        raise ValueError("no inputs to time")
    fn(inputs[0])  # trace / first-call overhead, outside every window
    start, end = _run_window(fn, inputs, 1, 0)
    k = max(1, int(math.ceil(settings["min_window_s"] / max(end - start, 1e-9))))
    warmup, samples, windows = [], [], []
    offset, deadline = 1, time.perf_counter() + settings["time_budget_s"]
    for _ in range(settings["warmup_windows"]):
        start, end = _run_window(fn, inputs, k, offset)
        offset += k
        warmup.append((end - start) / k)
    converged, half = False, float("inf")
    while len(samples) < settings["max_windows"]:
        start, end = _run_window(fn, inputs, k, offset)
        offset += k
        samples.append((end - start) / k)
        windows.append((start, end))
        if on_window is not None:
            on_window(start, end)
        if len(samples) >= settings["min_windows"]:
            half = ci_half_width(samples)
            if half <= settings["ci_target"] * (sum(samples) / len(samples)):
                converged = True
                break
            if time.perf_counter() > deadline:
                break
    return TimingResult(samples, warmup, windows, k, converged, half)
