"""results.csv: every measured number of a run in one tidy table (one row per cell x metric x statistic),
written by `check` beside verdicts.json, loadable with one call: `pandas.read_csv("results.csv")`.

Columns: profile, model, technique, setting (the cell's slug), bits and threshold (the setting's numbers, empty
where the technique has none), cell, metric, unit, statistic, value, ci95_low and ci95_high (the 95% interval
the run measured for that statistic: the windows' mean of a timing, and the paired ratio the judge reads; empty
where none was measured), n, quality_flags (not `flags`, which pandas' DataFrame already has), skipped.
Statistics per measured metric: `summary` (the registry's: median for time, mean otherwise, the
number the judge uses), `mean`, `median`, `min`, `max`, `ratio_to_fp32` (summary over the same
model's fp32 summary), and `paired_ratio` where the variant was timed window by window against its
baseline. A skipped metric is one row with statistic `skipped` and its reason.
"""
import csv
import io
import math

from artifact.core.metrics import CI95_RELATIVE, METRICS, PAIRED_RATIO, PAIRED_RATIO_CI, summarize
from artifact.core.profiles import setting_slug
from artifact.host.judge.rederive import derive

COLUMNS = ["profile", "model", "technique", "setting", "bits", "threshold", "cell", "metric", "unit", "statistic",
           "value", "ci95_low", "ci95_high", "n", "quality_flags", "skipped"]


def _interval(value, relative):
    """(low, high) of value ± relative × value, or ('', '') when no interval was measured."""
    if not isinstance(relative, (int, float)) or not isinstance(value, float) or not math.isfinite(value):
        return "", ""
    return value - relative * abs(value), value + relative * abs(value)


def rows(records: dict, profile: str) -> list[dict]:
    baselines = {r.cell["model"]: r for r in records.values() if r.cell["technique"] == "baseline"}
    out: list[dict] = []
    for key in sorted(records):
        record = records[key]
        cell = record.cell
        base = dict(profile=profile, model=cell["model"], technique=cell["technique"],
                    setting=setting_slug(cell["technique"], cell["setting"]), bits=cell["setting"].get("bits", ""),
                    threshold=cell["setting"].get("threshold", ""), cell=key)
        for metric in [m for m in METRICS if m in record.measurements]:
            m = record.measurements[metric]
            finite = [x for x in m.samples if math.isfinite(x)]
            common = dict(base, metric=metric, unit=m.unit, n=m.n, quality_flags=" | ".join(m.flags), skipped="")
            stats = {"summary": summarize(metric, m.samples), "mean": m.mean(), "median": m.median(),
                     "min": min(finite) if finite else float("nan"), "max": max(finite) if finite else float("nan")}
            fp32 = baselines.get(cell["model"])
            ref = fp32.value(metric) if fp32 is not None else None
            if ref and cell["technique"] != "baseline" and math.isfinite(ref):
                stats["ratio_to_fp32"] = stats["summary"] / ref
            paired = derive(m, PAIRED_RATIO)  # from the paired windows, as the judge reads it
            if paired is not None and paired > 0:
                stats["paired_ratio"] = float(paired)
            intervals = {"mean": m.notes.get(CI95_RELATIVE), "paired_ratio": m.notes.get(PAIRED_RATIO_CI)}
            for name, value in stats.items():
                low, high = _interval(value, intervals.get(name))
                out.append(dict(common, statistic=name, value=value, ci95_low=low, ci95_high=high))
        for metric, reason in sorted(record.skipped.items()):
            unit = METRICS[metric].unit if metric in METRICS else ""
            out.append(dict(base, metric=metric, unit=unit, statistic="skipped", value="", ci95_low="", ci95_high="",
                            n=0, quality_flags="", skipped=reason))
    return out


def to_csv(table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()
