"""results.csv: every measured number of a run in one tidy table (one row per cell x metric x statistic),
written by `check` beside verdicts.json, loadable with one call: `pandas.read_csv("results.csv")`.

Columns: profile, model, technique, setting, cell, metric, unit, statistic, value, n, flags, skipped.
Statistics per measured metric: `summary` (the registry's: median for time, mean otherwise, the
number the judge uses), `mean`, `median`, `min`, `max`, `ratio_to_fp32` (summary over the same
model's fp32 summary), and `paired_ratio` where the variant was timed window by window against its
baseline. A skipped metric is one row with statistic `skipped` and its reason.
"""
import csv
import io
import math

from artifact.core.metrics import METRICS, PAIRED_RATIO, summarize
from artifact.core.profiles import setting_slug
from artifact.host.judge.rederive import derive

COLUMNS = ["profile", "model", "technique", "setting", "cell", "metric", "unit", "statistic", "value", "n", "flags",
           "skipped"]


def rows(records: dict, profile: str) -> list[dict]:
    baselines = {r.cell["model"]: r for r in records.values() if r.cell["technique"] == "baseline"}
    out: list[dict] = []
    for key in sorted(records):
        record = records[key]
        cell = record.cell
        base = dict(profile=profile, model=cell["model"], technique=cell["technique"],
                    setting=setting_slug(cell["technique"], cell["setting"]), cell=key)
        for metric in [m for m in METRICS if m in record.measurements]:
            m = record.measurements[metric]
            finite = [x for x in m.samples if math.isfinite(x)]
            common = dict(base, metric=metric, unit=m.unit, n=m.n, flags=" | ".join(m.flags), skipped="")
            stats = {"summary": summarize(metric, m.samples), "mean": m.mean(), "median": m.median(),
                     "min": min(finite) if finite else float("nan"), "max": max(finite) if finite else float("nan")}
            fp32 = baselines.get(cell["model"])
            ref = fp32.value(metric) if fp32 is not None else None
            if ref and cell["technique"] != "baseline" and math.isfinite(ref):
                stats["ratio_to_fp32"] = stats["summary"] / ref
            paired = derive(m, PAIRED_RATIO)  # from the paired windows, as the judge reads it
            if paired is not None and paired > 0:
                stats["paired_ratio"] = float(paired)
            out.extend(dict(common, statistic=name, value=value) for name, value in stats.items())
        for metric, reason in sorted(record.skipped.items()):
            unit = METRICS[metric].unit if metric in METRICS else ""
            out.append(dict(base, metric=metric, unit=unit, statistic="skipped", value="", n=0, flags="",
                            skipped=reason))
    return out


def to_csv(table: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()
