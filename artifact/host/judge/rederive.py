"""Every summary the judge uses, re-derived from the raw samples and windows a record holds.

A record keeps raw samples (one per timing window) and, for a variant timed against its fp32 baseline,
the baseline's paired windows (`paired_reference_s`). The device side also writes summaries of them as
notes (the paired ratio, its interval, the windows' interval); the judge never reads those: it computes
them here from the raw numbers, and `check_summaries` refuses a record whose stored summaries disagree
with its samples (an edited or corrupted file), in one line naming the file.

The statistics are those of artifact.device.measure.timing (its docstring): the paired ratio is the
median of the window-by-window ratios variant/baseline, its interval the Student-t 95% half-width of
those ratios over their mean; a time's interval the half-width of its windows over their mean.
"""
import math
import statistics

from artifact.core.errors import FormatError
from artifact.core.metrics import CI95_RELATIVE, PAIRED_RATIO, PAIRED_RATIO_CI, declared_note
from artifact.core.records import REMEASURE

PAIRED_REFERENCE = "paired_reference_s"  # the baseline's seconds per inference, one per window (raw)
HALF_WIDTH = "ci95_half_width_s"
WINDOWS = "windows"
DERIVED = (PAIRED_RATIO, PAIRED_RATIO_CI, CI95_RELATIVE)
RELATIVE_TOLERANCE = 1e-6  # a JSON round trip keeps 17 digits; a different sample moves the 3rd


def _t975(df: int) -> float:
    from scipy.stats import t  # host side: scipy is a dependency; imported only when a record is judged

    return float(t.ppf(0.975, df))


def half_width(samples: list) -> float:
    """Student-t 95% CI half-width of the mean (n - 1 degrees of freedom); inf below two samples."""
    n = len(samples)
    if n < 2:
        return math.inf
    return _t975(n - 1) * statistics.stdev(samples) / math.sqrt(n)


def paired_ratios(measurement) -> list:
    """Variant/baseline time, window pair by window pair ([] when the measurement was not paired)."""
    reference = measurement.notes.get(PAIRED_REFERENCE) if measurement is not None else None
    if not isinstance(reference, list) or not reference:
        return []
    return [a / b for a, b in zip(measurement.samples, reference)
            if isinstance(b, (int, float)) and b > 0 and math.isfinite(b)]


def derive(measurement, name: str) -> float | None:
    """The summary `name` (a DERIVED note key) of a measurement, from its raw numbers; None where it has none."""
    if measurement is None or not measurement.samples:
        return None
    if name == PAIRED_RATIO:
        ratios = paired_ratios(measurement)
        return statistics.median(ratios) if ratios else None
    if name == PAIRED_RATIO_CI:
        ratios = paired_ratios(measurement)
        mean = sum(ratios) / len(ratios) if ratios else 0.0
        return half_width(ratios) / mean if mean > 0 else None
    if name == CI95_RELATIVE:
        mean = sum(measurement.samples) / len(measurement.samples)
        return half_width(measurement.samples) / mean if mean > 0 else None
    raise ValueError(f"{name!r} is not a summary derived from samples (known: {', '.join(DERIVED)})")


def derived(record, metric: str, name: str) -> float | None:
    """`derive` for a record's metric, where the metric's row declares the note (artifact.core.metrics)."""
    if record is None or not declared_note(metric, name):
        return None
    value = derive(record.measurements.get(metric), name)
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _disagrees(stored, value) -> bool:
    """A stored summary against the one derived (None: none derivable; an infinite interval may be stored as null)."""
    if value is None or not math.isfinite(value):
        return not (stored is None or stored == value)
    if not isinstance(stored, (int, float)) or isinstance(stored, bool) or not math.isfinite(stored):
        return True
    return abs(stored - value) > RELATIVE_TOLERANCE * max(abs(stored), abs(value))


def check_summaries(record, path: str) -> None:
    """Refuse (FormatError naming the file) a record whose stored summaries disagree with its raw samples."""
    for metric, m in sorted(record.measurements.items()):
        notes = m.notes
        checks: list[tuple[str, object, float | None]] = []
        if WINDOWS in notes:
            checks.append((WINDOWS, notes[WINDOWS], float(len(m.samples))))
        if HALF_WIDTH in notes:
            checks.append((HALF_WIDTH, notes[HALF_WIDTH], half_width(m.samples) if m.samples else None))
        for name in DERIVED:
            if name in notes:
                checks.append((name, notes[name], derive(m, name)))
        if PAIRED_REFERENCE in notes and (not isinstance(notes[PAIRED_REFERENCE], list)
                                          or len(notes[PAIRED_REFERENCE]) != len(m.samples)):
            raise FormatError(f"{path}: measurements.{metric}.notes.{PAIRED_REFERENCE} does not pair one baseline "
                              f"window with each of the {len(m.samples)} samples; {REMEASURE}")
        for name, stored, value in checks:
            if _disagrees(stored, value):
                shown = "none" if value is None else f"{value:.6g}"
                raise FormatError(f"{path}: measurements.{metric}.notes.{name} = {stored!r}, but the record's own "
                                  f"samples give {shown}: its summaries disagree with its samples; {REMEASURE}")


__all__ = ["DERIVED", "check_summaries", "derive", "derived", "half_width", "paired_ratios"]
