"""Configurations of each model from a run's records (artifact.host.advise.pareto.Config).

The numbers are the judge's: a summary of the samples (the paired ratio, its interval, the windows' interval) is
re-derived from the record's raw windows (artifact.host.judge.rederive), never read from its stored note, and a
power-group metric that is not above zero beyond its noise (artifact.core.metrics.above_zero) is no number, as
the judge SKIPs it (artifact.host.judge.verdicts).
"""
from artifact.core.metrics import CI95_RELATIVE, PAIRED_RATIO, PAIRED_RATIO_CI, above_zero, in_group
from artifact.core.techniques import LITERT_FILE, TECHNIQUES
from artifact.host.advise.pareto import Config
from artifact.host.judge.rederive import derived


def config_name(cell: dict) -> str:
    setting = cell.get("setting") or {}
    return cell["technique"] + ("" if not setting else " " + ", ".join(f"{k}={v}" for k, v in sorted(setting.items())))


def _value(record, metric: str) -> float | None:
    """The record's number for `metric`; None for a power-group one within its noise of idle (the judge's rule)."""
    value = record.value(metric)
    if value is None or (metric in in_group("power") and not above_zero(record.measurements[metric].samples)):
        return None
    return value


def _paired_ratio(record, baseline) -> float | None:
    """The variant/baseline time ratio of windows paired with the baseline, re-derived from them (None: unpaired)."""
    if baseline is None or record is baseline:
        return None
    return derived(record, "inference_time_s", PAIRED_RATIO) or None  # a ratio of 0 is no ratio


def _latency_ms(record, baseline) -> tuple[float | None, bool]:
    """Median seconds per inference, in ms, and whether it is paired: for a variant timed window by window against
    its fp32 baseline, the baseline's median times the paired ratio (the number the verdicts use)."""
    if record.measurements.get("inference_time_s") is None:
        return None, False
    ratio = _paired_ratio(record, baseline)
    base = baseline.value("inference_time_s") if baseline is not None else None
    if ratio is not None and base is not None:
        return base * ratio * 1e3, True
    value = record.value("inference_time_s")
    return (None if value is None else value * 1e3), False


def _half_width(record, metric, value, paired) -> float | None:
    """The 95% half-width of an objective, in its unit, re-derived from the measurement's windows (None: none)."""
    if value is None:
        return None
    relative = derived(record, metric, PAIRED_RATIO_CI if paired else CI95_RELATIVE)
    return None if relative is None else abs(value) * relative


def runtime_of(technique: str) -> str:
    row = TECHNIQUES.get(technique)
    return "litert" if row is not None and row.suffix == LITERT_FILE else "keras"


def configs_by_model(records: dict) -> dict[str, list[Config]]:
    """model -> its configurations, in cell-key order."""
    baselines = {r.cell["model"]: r for r in records.values() if r.cell["technique"] == "baseline"}
    out: dict[str, list[Config]] = {}
    for key in sorted(records):
        record = records[key]
        model = record.cell["model"]
        base = baselines.get(model)

        def scaled(metric, factor, record=record):
            value = _value(record, metric)
            return None if value is None else value * factor

        def drop(metric, factor, record=record, base=base):
            value, ref = record.value(metric), base.value(metric) if base is not None else None
            return None if value is None or ref is None else (ref - value) * factor

        latency, paired = _latency_ms(record, base)   # paired: the baseline's latency x the paired ratio
        values = {"size_mb": scaled("storage_bytes", 1e-6), "latency_ms": latency,
                  "energy_mj": scaled("energy_j", 1e3), "top1_drop": drop("top1", 100.0),
                  "bleu_drop": drop("bleu", 1.0)}
        halves = {"latency_ms": _half_width(record, "inference_time_s", values["latency_ms"], paired),
                  "energy_mj": _half_width(record, "energy_j", values["energy_mj"], False)}  # the ranked objectives
        out.setdefault(model, []).append(Config(model, config_name(record.cell), values, [key],
                                                {o: h for o, h in halves.items() if h is not None},
                                                runtime_of(record.cell["technique"])))
    return out
