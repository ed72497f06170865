"""What a metric is: one row per metric, the names used in profiles, records, claims and figures.

Each row says the unit, the group (how the report and the meters gather metrics), the summary
statistic a record's samples reduce to, whether the metric is exact (the same on every platform
for the same model: sizes and counts, which `check --against` compares to 1%), and the note keys
a measurement of it may carry that the host side reads as numbers (`NOTE_KEYS`), and its `label` in the
report's figures (whose scale follows the unit: fractions are drawn as %). Nothing else decides these things:
a new metric is one row here and one meter in `artifact.device.run.meters`.
"""
import collections
from typing import Sequence, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError

Metric = collections.namedtuple("Metric", ["name", "unit", "group", "summary", "exact", "notes", "description",
                                           "label"])

# Numeric notes the judge reads from a measurement (written by artifact.device.measure.timing and
# artifact.device.measure.accuracy):
PAIRED_RATIO = "paired_ratio"  # median variant/baseline time ratio over windows paired with the baseline
PAIRED_RATIO_CI = "paired_ratio_ci95_relative"  # its 95% CI half-width, relative
CI95_RELATIVE = "ci95_relative"  # 95% CI half-width of the windows' mean, relative
SCORED = "scored"  # how many evaluation samples an accuracy was computed on (binomial SE)
NOTE_KEYS = (PAIRED_RATIO, PAIRED_RATIO_CI, CI95_RELATIVE, SCORED)

# How a measurement-quality flag starts when other processes took the CPU during the measurement
# (artifact.device.measure.busy writes it; the judge and report count verdicts that carry it).
BUSY_MACHINE = "busy machine"

_TIME_NOTES = (PAIRED_RATIO, PAIRED_RATIO_CI, CI95_RELATIVE)
_SCORE_NOTES = (SCORED,)

METRICS = collections.OrderedDict((m.name, m) for m in [
    Metric("params", "count", "size", "mean", True, (), "trainable parameters of the deployed model", "parameters"),
    Metric("depth", "layers", "size", "mean", True, (), "weight layers on the longest input-to-output path", "depth"),
    Metric("storage_bytes", "bytes", "size", "mean", True, (), "size of the deployed file", "size"),
    Metric("storage_gzip_bytes", "bytes", "size", "mean", True, (),
           "size of the deployed file through gzip -9", "size gzipped"),
    Metric("memory_peak_bytes", "bytes", "memory", "mean", False, (),
           "peak footprint while running, fresh process", "memory"),
    Metric("inference_time_s", "s", "time", "median", False, _TIME_NOTES, "seconds per inference, batch 1", "time"),
    Metric("power_mean_w", "W", "power", "mean", False, (), "mean power over the timing windows", "mean power"),
    Metric("power_peak_w", "W", "power", "mean", False, (), "peak power over the timing windows", "peak power"),
    Metric("energy_j", "J", "power", "mean", False, (), "energy per inference above idle", "energy"),
    Metric("top1", "fraction", "accuracy", "mean", False, _SCORE_NOTES, "top-1 accuracy", "top-1"),
    Metric("top5", "fraction", "accuracy", "mean", False, _SCORE_NOTES, "top-5 accuracy", "top-5"),
    Metric("precision", "fraction", "accuracy", "mean", False, _SCORE_NOTES, "macro precision", "precision"),
    Metric("recall", "fraction", "accuracy", "mean", False, _SCORE_NOTES, "macro recall", "recall"),
    Metric("f1", "fraction", "accuracy", "mean", False, _SCORE_NOTES, "macro F1", "F1"),
    Metric("bleu", "BLEU", "accuracy", "mean", False, _SCORE_NOTES, "corpus BLEU, 0-100", "BLEU"),
    Metric("op_shares", "share", "ops", "mean", False, (), "share of time per op type (Fig 6)", "op shares"),
    Metric("dequantize_share", "share", "ops", "mean", False, (),
           "share of time in dequantization (Fig 28)", "dequantization share"),
])
# What a finite sample of each metric can physically be (inclusive bounds): a record whose sample or note falls
# outside was edited or corrupted, and is refused rather than judged (artifact.core.records). A non-finite
# sample is kept and judged "undefined". Power bounds are a board's rail range with room: a Jetson module
# draws at most tens of watts, so a kilowatt is no reading of one. Energy is above idle: a small negative
# sample is noise the judge must not use, not a corrupt file.
_FRACTION = (0.0, 1.0)
PLAUSIBLE = {"params": (0.0, 1e13), "depth": (0.0, 1e6), "storage_bytes": (0.0, 1e13),
             "storage_gzip_bytes": (0.0, 1e13), "memory_peak_bytes": (0.0, 1e13), "inference_time_s": (0.0, 1e5),
             "power_mean_w": (0.0, 1000.0), "power_peak_w": (0.0, 1000.0), "energy_j": (-1e5, 1e5),
             "top1": _FRACTION, "top5": _FRACTION, "precision": _FRACTION, "recall": _FRACTION, "f1": _FRACTION,
             "bleu": (0.0, 100.0), "op_shares": _FRACTION, "dequantize_share": _FRACTION}
PLAUSIBLE_NOTES = {PAIRED_RATIO: (1e-6, 1e6), PAIRED_RATIO_CI: (0.0, 1e6), CI95_RELATIVE: (0.0, 1e6),
                   SCORED: (0.0, 1e12)}


def above_zero(samples):
    # type: (Sequence[float]) -> bool
    """Do the samples show a positive quantity beyond their own noise (mean above twice its standard error)?
    Energy per inference above idle that is not is within the sensor's noise of idle: no number to judge."""
    finite = [x for x in samples if x == x and abs(x) != float("inf")]
    if not finite:
        return False
    mean = sum(finite) / len(finite)
    if len(finite) < 2:
        return mean > 0.0
    variance = sum((x - mean) ** 2 for x in finite) / (len(finite) - 1)
    return mean > 2.0 * (variance / len(finite)) ** 0.5


def implausible(bounds, value):
    # type: (Tuple[float, float], float) -> bool
    """A finite value outside `bounds` (a row of PLAUSIBLE or PLAUSIBLE_NOTES); non-finite ones are judged."""
    low, high = bounds  # with room for rounding (a BLEU of 100.00000000000004 is 100)
    return value == value and abs(value) != float("inf") and not (
        low - 1e-9 * (1.0 + abs(low)) <= value <= high + 1e-9 * (1.0 + abs(high)))


SUMMARIES = ("mean", "median")
GROUPS = ("size", "memory", "time", "power", "accuracy", "ops")


def metric(name):
    # type: (str) -> Metric
    """The row of a metric, or a FormatError naming the known ones."""
    try:
        return METRICS[name]
    except (KeyError, TypeError):
        raise FormatError("unknown metric {!r}; known: {}".format(name, ", ".join(METRICS)))


def in_group(group):
    # type: (str) -> Tuple[str, ...]
    if group not in GROUPS:
        raise ValueError("unknown metric group {!r}; known: {}".format(group, ", ".join(GROUPS)))
    return tuple(m.name for m in METRICS.values() if m.group == group)


def exact_metrics():
    # type: () -> Tuple[str, ...]
    return tuple(m.name for m in METRICS.values() if m.exact)


def summarize(name, samples):
    # type: (str, Sequence[float]) -> float
    """The number a metric's samples stand for: their median or mean, as the metric's row says."""
    if not samples:
        return float("nan")
    if metric(name).summary == "median":
        s = sorted(samples)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0
    return sum(samples) / len(samples)


def declared_note(name, note):
    # type: (str, str) -> bool
    """Does a measurement of `name` carry the numeric note `note`? (A note key nobody declares is a bug.)"""
    if note not in NOTE_KEYS:
        raise ValueError("note {!r} is not declared in artifact.core.metrics.NOTE_KEYS".format(note))
    return note in metric(name).notes
