"""Configurations of each model from a run's records (artifact.host.advise.pareto.Config)."""
from artifact.core.metrics import CI95_RELATIVE, PAIRED_RATIO, PAIRED_RATIO_CI
from artifact.core.techniques import LITERT_FILE, TECHNIQUES
from artifact.host.advise.pareto import Config


def config_name(cell: dict) -> str:
    setting = cell.get("setting") or {}
    return cell["technique"] + ("" if not setting else " " + ", ".join(f"{k}={v}" for k, v in sorted(setting.items())))


def _latency_ms(record, baseline) -> float | None:
    """Median seconds per inference, in ms; for a variant timed window by window against its fp32 baseline,
    the baseline's median times the paired ratio (the number the verdicts use)."""
    m = record.measurements.get("inference_time_s")
    if m is None:
        return None
    ratio = m.notes.get(PAIRED_RATIO)
    base = baseline.value("inference_time_s") if baseline is not None else None
    if isinstance(ratio, (int, float)) and ratio > 0 and base is not None and record is not baseline:
        return base * ratio * 1e3
    value = record.value("inference_time_s")
    return None if value is None else value * 1e3


def _half_width(record, metric, value, paired) -> float | None:
    """The 95% half-width of an objective, in its unit, from the measurement's notes (None: none measured)."""
    m = record.measurements.get(metric)
    if m is None or value is None:
        return None
    relative = m.notes.get(PAIRED_RATIO_CI if paired else CI95_RELATIVE)
    return abs(value) * relative if isinstance(relative, (int, float)) and relative >= 0 else None


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
            value = record.value(metric)
            return None if value is None else value * factor

        def drop(metric, factor, record=record, base=base):
            value, ref = record.value(metric), base.value(metric) if base is not None else None
            return None if value is None or ref is None else (ref - value) * factor

        values = {"size_mb": scaled("storage_bytes", 1e-6), "latency_ms": _latency_ms(record, base),
                  "energy_mj": scaled("energy_j", 1e3), "top1_drop": drop("top1", 100.0),
                  "bleu_drop": drop("bleu", 1.0)}
        paired = base is not None and record is not base and isinstance(
            getattr(record.measurements.get("inference_time_s"), "notes", {}).get(PAIRED_RATIO), (int, float))
        halves = {"latency_ms": _half_width(record, "inference_time_s", values["latency_ms"], paired),
                  "energy_mj": _half_width(record, "energy_j", values["energy_mj"], False)}  # the ranked objectives
        out.setdefault(model, []).append(Config(model, config_name(record.cell), values, [key],
                                                {o: h for o, h in halves.items() if h is not None},
                                                runtime_of(record.cell["technique"])))
    return out
