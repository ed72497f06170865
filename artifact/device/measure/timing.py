"""Inference time by the paper's rule: repeat until the 95% CI half-width is <= 5% of the mean.

One sample is one *window* of K inferences; a sample's value is the window's wall time divided by K.
K is the fewest inferences that make a window last `window_floor_s`: the larger of `min_window_s`
(1 ms by default: the clock's nanosecond resolution and the two clock reads per window are then below
1e-3 of it) and 10,000 ticks of the clock, and, when power is sampled over the same windows, of the
`power_window_s` a sensor needs to change value a few times within one window. Shorter windows mean
more of them for the same inferences, so the rule can stop as soon as the interval is tight. K is sized
at the fastest speed the sizing sees (`_window_size`): the first calls after tracing are slower, and a
size taken from one of them gave windows a third of the floor.

Warm-up windows are discarded and kept apart. The CI uses Student's t with n-1 degrees of freedom,
checked after every window from `min_windows` on (the rule stops the first time it holds). Paired with
the model's fp32 baseline, the quantity judged is the time *ratio*, so the rule's target is the ratio's
own interval (the variant's own interval is reported beside it). Inputs are real samples from the
evaluation set, cycled; each output is materialised (`.numpy()`) before the clock is read, which also
synchronises a GPU.
"""
import math
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

_T_975 = {}  # type: Dict[int, float]


def t_quantile_975(df):
    # type: (int) -> float
    """Student's t 97.5% quantile (cached: the rule asks after every window, and scipy takes ~50 us)."""
    if df not in _T_975:
        from scipy.stats import t

        _T_975[df] = float(t.ppf(0.975, df))
    return _T_975[df]


def ci_half_width(samples):
    # type: (Sequence[float]) -> float
    n = len(samples)
    if n < 2:
        return float("inf")
    mean = sum(samples) / n
    var = sum((x - mean) ** 2 for x in samples) / (n - 1)
    return t_quantile_975(n - 1) * math.sqrt(var) / math.sqrt(n)


# The clock every window is read with: perf_counter, shared with the power sampler's timestamps
# (docs/DESIGN.md, "Timing clock"). Tests replace it with a deterministic clock.
clock = time.perf_counter


class TimingResult(object):
    def __init__(self, samples, warmup, windows, per_window, converged, half_width, reference_samples=None,
                 reference_per_window=0, sizing_inferences=0):
        self.samples = samples  # type: List[float]  # seconds per inference, one per window
        self.warmup = warmup  # type: List[float]
        self.windows = windows  # type: List[Tuple[float, float]]  # perf_counter (start, end)
        self.per_window = per_window  # inferences per window
        self.converged = converged
        self.half_width = half_width
        self.reference_samples = list(reference_samples or [])  # the paired baseline's, one per window
        self.reference_per_window = reference_per_window
        self.sizing_inferences = sizing_inferences  # run to size the windows (both models when paired)

    @property
    def paired_ratios(self):
        # type: () -> List[float]
        """This model's time over the reference's, window pair by window pair ([] when not paired)."""
        return [a / b for a, b in zip(self.samples, self.reference_samples) if b > 0]

    @property
    def paired_ci_relative(self):
        # type: () -> Optional[float]
        """95% CI half-width of the paired ratios over their mean (None when not paired)."""
        ratios = self.paired_ratios
        mean = sum(ratios) / len(ratios) if ratios else 0.0
        return ci_half_width(ratios) / mean if mean > 0 else None

    @property
    def mean(self):
        return sum(self.samples) / len(self.samples)

    @property
    def inferences(self):
        # type: () -> int
        """Every inference this timing ran, warm-up and window sizing included (both models when paired)."""
        own = self.per_window * (len(self.samples) + len(self.warmup)) + self.sizing_inferences
        if not self.reference_per_window:
            return own
        return own + self.reference_per_window * (len(self.reference_samples) + len(self.warmup))

    def flags(self, target):
        # type: (float) -> List[str]
        """Quality problems worth showing next to the number (empty when the rule was met)."""
        if self.converged:
            return []
        rel = self.half_width / self.mean if self.samples and self.mean > 0 else float("inf")
        paired_rel = self.paired_ci_relative
        paired = "" if paired_rel is None else " (ratio to the paired baseline: {:.1%})".format(paired_rel)
        return ["timing did not converge: 95% CI half-width {:.1%} of the mean{} > {:.0%} after {} windows of {} "
                "(time budget or max_windows reached); the median is reported with its spread".format(
                    rel, paired, target, len(self.samples), self.per_window)]

    def notes(self):
        # type: () -> Dict[str, Any]
        paired = bool(self.reference_samples)
        notes = {"inferences_per_window": self.per_window, "windows": len(self.samples),
                 "ci95_half_width_s": self.half_width,
                 "ci95_relative": self.half_width / self.mean if self.samples else None,
                 "inferences": self.inferences,
                 "stopping_rule": "95% CI half-width (Student t, n-1 df) <= target x mean, of the {} (checked "
                                  "after every window)".format("paired time ratio" if paired else "time")}
        ratios = self.paired_ratios
        if ratios:
            notes.update(paired_reference_s=self.reference_samples, reference_per_window=self.reference_per_window,
                         paired_ratio=statistics.median(ratios), paired_ratio_ci95_relative=self.paired_ci_relative,
                         paired_with="the model's fp32 baseline, window by window in alternating order")
        return notes


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
    start = clock()
    for i in range(k):
        materialise(fn(inputs[(offset + i) % len(inputs)]))
    return start, clock()


SIZING_ROUNDS = 6   # timed sizing windows at most: each is sized from the fastest call seen so far
CLOCK_TICKS_PER_WINDOW = 10000


def window_floor_s(settings, power=False):
    # type: (Dict[str, Any], bool) -> float
    """The shortest window the rule may time: `min_window_s`, 10,000 ticks of the clock, and with power sampled
    over the windows, `power_window_s`."""
    resolution = time.get_clock_info("perf_counter").resolution
    floor = max(settings["min_window_s"], CLOCK_TICKS_PER_WINDOW * resolution)
    return max(floor, settings.get("power_window_s", 0.0)) if power else floor


def _window_size(fn, inputs, floor_s):
    # type: (Callable[[Any], Any], Sequence[Any], float) -> Tuple[int, int]
    """(inferences per window, inferences the sizing ran): the fewest that make a window last `floor_s` at the
    fastest per-inference time seen, after a first, tracing call.

    A window of K calls is timed and K re-sized from the fastest per-call time so far, until a window of K
    at that speed spans the floor. Sizing from one timed call gave windows a third of the floor: the first
    calls after tracing are slower, and a loaded machine stalls a call; the fastest time only falls, so K
    only grows and a stall can never end the sizing early."""
    materialise(fn(inputs[0]))  # trace / first-call overhead, outside every window
    k, ran, fastest = 1, 1, float("inf")
    for _ in range(SIZING_ROUNDS):
        start, end = _run_window(fn, inputs, k, ran)
        ran += k
        fastest = min(fastest, max(end - start, 1e-9) / k)
        needed = max(1, int(math.ceil(floor_s / fastest - 1e-9)))  # 0.05 / 0.002 is 25, not 26
        if needed <= k:
            return needed, ran
        k = needed
    return k, ran


def time_inference(fn, inputs, settings, on_window=None, reference=None, power=False):
    """Time `fn` over real `inputs` with the stopping rule in `settings` (profile [measurement]).

    With `reference` (the same model's fp32 baseline), a window of the reference runs next to each
    window of `fn`, in alternating order, so both see the same machine state; the per-pair ratios
    (`TimingResult.paired_ratios`) then estimate the time ratio without the drift of a shared
    machine between cells measured minutes apart. Paired, the rule holds for the ratios (what the
    judge reads); alone, for `fn`'s times. `power`: a power sampler integrates over these windows,
    so they last at least `power_window_s`.
    """
    if not inputs:
        raise ValueError("no inputs to time")
    floor = window_floor_s(settings, power)
    k, sizing = _window_size(fn, inputs, floor)
    k_ref, sizing_ref = _window_size(reference, inputs, floor) if reference is not None else (0, 0)
    warmup, samples, windows, ref_samples = [], [], [], []
    offset, deadline = 1, clock() + settings["time_budget_s"]
    for _ in range(settings["warmup_windows"]):
        start, end = _run_window(fn, inputs, k, offset)
        if reference is not None:
            _run_window(reference, inputs, k_ref, offset)
        offset += k
        warmup.append((end - start) / k)
    converged, half = False, float("inf")
    own, ratio = _Running(), _Running()   # O(1) per look: the rule looks after every (short) window
    target = settings["ci_target"]
    while len(samples) < settings["max_windows"]:
        reference_first = reference is not None and len(samples) % 2 == 1
        if reference_first:
            ref_start, ref_end = _run_window(reference, inputs, k_ref, offset)
        start, end = _run_window(fn, inputs, k, offset)
        if reference is not None and not reference_first:
            ref_start, ref_end = _run_window(reference, inputs, k_ref, offset)
        offset += k
        samples.append((end - start) / k)
        own.add(samples[-1])
        if reference is not None:
            ref_samples.append((ref_end - ref_start) / k_ref)
            ratio.add(samples[-1] / ref_samples[-1] if ref_samples[-1] > 0 else 0.0)
        windows.append((start, end))
        if on_window is not None:
            on_window(start, end)
        if len(samples) >= settings["min_windows"]:
            judged = own if reference is None else ratio
            converged = judged.half_width() <= target * judged.mean
            if converged or clock() > deadline:
                break
    if samples:
        half = ci_half_width(samples)   # the reported interval, recomputed from the samples themselves
    return TimingResult(samples, warmup, windows, k, converged, half, ref_samples, k_ref, sizing + sizing_ref)


class _Running(object):
    """Mean and the Student-t 95% half-width of a growing sample (Welford's update: exact, O(1) per value)."""

    def __init__(self):
        self.n, self.mean, self._m2 = 0, 0.0, 0.0

    def add(self, x):
        # type: (float) -> None
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self._m2 += delta * (x - self.mean)

    def half_width(self):
        # type: () -> float
        if self.n < 2:
            return float("inf")
        return t_quantile_975(self.n - 1) * math.sqrt(max(self._m2, 0.0) / (self.n - 1)) / math.sqrt(self.n)
