"""The paper's figures regenerated from a run's records: data in, matplotlib Figure out.

Each function takes a `pandas.DataFrame` of summarised records (`records_frame`) and returns a
Figure, or None when the run has nothing for it. No file I/O here.
"""
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from artifact.profiles import setting_slug  # noqa: E402
from artifact.records import METRICS  # noqa: E402

RATIO_PANELS = [  # (metric, title, how)
    ("storage_bytes", "(a) model size, % of fp32", "ratio"),
    ("inference_time_s", "(b) inference time, % of fp32", "ratio"),
    ("top1", "(c) top-1 accuracy (BLEU for NMT), %", "value"),
    ("power_peak_w", "(d) peak power, % of fp32", "ratio"),
    ("energy_j", "(e) energy per inference, % of fp32", "ratio"),
    ("f1", "(f) F1 score, %", "value"),
]


def records_frame(records: dict) -> pd.DataFrame:
    rows = []
    for record in records.values():
        row = {"model": record.cell["model"], "technique": record.cell["technique"],
               "setting": setting_slug(record.cell["technique"], record.cell["setting"]),
               **{f"setting.{k}": v for k, v in record.cell["setting"].items()}}
        for metric in record.measurements:
            row[metric] = record.value(metric)
        for metric, reason in record.skipped.items():
            row[f"skipped.{metric}"] = reason
        rows.append(row)
    frame = pd.DataFrame(rows)
    for metric in METRICS:  # every metric has a column (NaN where not measured or skipped)
        if metric not in frame:
            frame[metric] = math.nan
    return frame


def _with_ratio(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    base = df[df.technique == "baseline"].set_index("model")[metric]
    out = df.copy()
    out[metric + ".ratio"] = [row[metric] / base.get(row["model"], math.nan) * 100
                              if pd.notna(row[metric]) else math.nan
                              for _, row in out.iterrows()]
    return out


def _skip_note(ax, df, metric):
    col = f"skipped.{metric}"
    reason = df[col].dropna().iloc[0] if col in df and df[col].notna().any() else "not measured in this run"
    ax.text(0.5, 0.5, "SKIPPED\n" + _wrap(reason), ha="center", va="center", fontsize=7,
            transform=ax.transAxes, color="#a33")
    ax.set_xticks([])
    ax.set_yticks([])


def _wrap(text, width=40):
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) > width:
            lines.append(line)
            line = ""
        line += word + " "
    return "\n".join([*lines, line])[:300]


def _natural(text):
    """Sort key putting bits-6 before bits-8 before bits-16."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


SPARSITY_PANELS = [
    ("storage_bytes", "(a) file size, % of fp32", "ratio"),
    ("storage_gzip_bytes", "(b) file size gzipped, % of fp32 gzipped", "ratio"),
    ("inference_time_s", "(c) inference time, % of fp32", "ratio"),
    ("params", "(d) parameters, % of fp32", "ratio"),
    ("top1", "(e) top-1 accuracy, %", "value"),
    ("f1", "(f) F1 score, %", "value"),
]


def technique_panels(df: pd.DataFrame, techniques: list, title: str, panels=None):
    """Figs 13/20/41: six panels, grouped bars per model, one bar per setting."""
    sub = df[df.technique.isin(["baseline", *techniques])]
    variants = sub[sub.technique.isin(techniques)]
    if variants.empty:
        return None
    models = sorted(variants.model.unique())
    settings = sorted(variants.setting.unique(), key=_natural)
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for ax, (metric, panel, how) in zip(axes.flat, panels or RATIO_PANELS):
        data = _with_ratio(sub, metric)
        col = metric + ".ratio" if how == "ratio" else metric
        if col not in data or data[col].notna().sum() == 0:
            _skip_note(ax, sub, metric)
            ax.set_title(panel, fontsize=9)
            continue
        width = 0.8 / (len(settings) + (how == "value"))
        bars = (["fp32"] if how == "value" else []) + settings
        for i, setting in enumerate(bars):
            rows = data[(data.setting == setting) & (data.technique != "baseline" if setting != "fp32" else True)]
            vals = [rows[rows.model == m][col].mean() * (100 if how == "value" else 1) for m in models]
            color = "0.6" if setting == "fp32" else f"C{settings.index(setting)}"
            ax.bar([j + i * width for j in range(len(models))], vals, width, label=setting, color=color)
        if how == "ratio":
            ax.axhline(100, color="k", lw=0.6)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(models))], models, rotation=20, fontsize=7)
        ax.set_title(panel, fontsize=9)
    axes.flat[0].legend(fontsize=7)
    value_axes = [ax for ax, (_, _, how) in zip(axes.flat, panels or RATIO_PANELS) if how == "value"]
    if value_axes and value_axes[0].has_data():
        value_axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def threshold_sweep(df: pd.DataFrame):
    """Fig 24: time and accuracy against the pruning threshold."""
    sub = df[df.technique == "prune"]
    if sub.empty or "setting.threshold" not in sub:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    timed = _with_ratio(df, "inference_time_s")
    accuracy_drawn = False
    for model in sorted(sub.model.unique()):
        rows = timed[(timed.model == model) & (timed.technique == "prune")].sort_values("setting.threshold")
        left.plot(rows["setting.threshold"] * 100, rows["inference_time_s.ratio"], "o-", label=model)
        metric = "bleu" if rows["bleu"].notna().any() else "top1"
        if rows[metric].notna().any():
            scale = 1 if metric == "bleu" else 100
            right.plot(rows["setting.threshold"] * 100, rows[metric] * scale, "o-", label=f"{model} ({metric})")
            accuracy_drawn = True
    if not accuracy_drawn:
        _skip_note(right, sub, "top1")
    left.set(xlabel="pruning threshold (%)", ylabel="inference time, % of fp32", title="(a) time")
    right.set(xlabel="pruning threshold (%)", ylabel="top-1 % / BLEU", title="(b) accuracy")
    left.legend(fontsize=7)
    if accuracy_drawn:
        right.legend(fontsize=7)
    fig.suptitle("Fig 24: pruning thresholds")
    fig.tight_layout()
    return fig


def memory_footprint(df: pd.DataFrame):
    """Fig 27: peak memory of each variant, % of its fp32 model."""
    data = _with_ratio(df, "memory_peak_bytes")
    data = data[data.technique != "baseline"].dropna(subset=["memory_peak_bytes.ratio"])
    if data.empty:
        return None
    pivot = data.pivot_table(index="model", columns="setting", values="memory_peak_bytes.ratio")
    ax = pivot.plot.bar(figsize=(9, 3.8), rot=15)
    ax.axhline(100, color="k", lw=0.6)
    ax.set(ylabel="memory footprint, % of fp32", title="Fig 27: runtime memory footprint")
    ax.figure.tight_layout()
    return ax.figure


def dequantize_share(df: pd.DataFrame):
    """Fig 28: share of inference time spent in dequantization."""
    if df["dequantize_share"].notna().sum() == 0:
        return None
    pivot = df.dropna(subset=["dequantize_share"]).pivot_table(
        index="model", columns="setting", values="dequantize_share") * 100
    ax = pivot.plot.bar(figsize=(8, 3.8), rot=15)
    ax.set(ylabel="% of inference time", title="Fig 28: dequantization share (op trace)")
    ax.figure.tight_layout()
    return ax.figure


def op_heatmap(records: dict):
    """Fig 6: share of inference time per op type (ops >= 1%), fp32 models."""
    rows = {}
    for record in records.values():
        m = record.measurements.get("op_shares")
        if m is not None and record.cell["technique"] == "baseline":
            rows[record.cell["model"]] = dict(zip(m.notes.get("op_types", []), m.samples))
    if not rows:
        return None
    table = pd.DataFrame(rows).T.fillna(0) * 100
    table = table[table.sum().sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(table.columns)), 0.5 * len(table) + 1.8))
    im = ax.imshow(table.values, cmap="YlOrRd", aspect="auto")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=8)
    for i in range(len(table.index)):
        for j in range(len(table.columns)):
            if table.values[i, j] >= 1:
                ax.text(j, i, f"{table.values[i, j]:.0f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, label="% of inference time")
    ax.set_title("Fig 6: operation breakdown (ops >= 1%)")
    fig.tight_layout()
    return fig


def bubble(df: pd.DataFrame, technique: str, title: str):
    """Figs 32/36: time change vs accuracy change, bubble size = parameters."""
    data = _with_ratio(_with_ratio(df, "inference_time_s"), "top1")
    data = data[data.technique == technique].dropna(subset=["inference_time_s.ratio", "top1.ratio"])
    if data.empty:
        return None
    params = df[df.technique == "baseline"].set_index("model")["params"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for setting, rows in data.groupby("setting"):
        sizes = [max(20.0, 600 * params.get(m, 0) / params.max()) for m in rows.model]
        ax.scatter(rows["inference_time_s.ratio"], rows["top1.ratio"], s=sizes, alpha=0.5, label=setting)
        for _, row in rows.iterrows():
            ax.annotate(row.model, (row["inference_time_s.ratio"], row["top1.ratio"]), fontsize=6)
    ax.axvline(100, color="k", lw=0.5)
    ax.axhline(100, color="k", lw=0.5)
    ax.set(xlabel="inference time, % of fp32", ylabel="top-1, % of fp32", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def motivation(df: pd.DataFrame, stands_for: dict):
    """Fig 5: VGG_16 and ResNet_50 (or their stand-ins), 8-bit quantization vs 5% pruning."""
    wanted = [m for m, paper in stands_for.items() if {"vgg_16", "resnet_v1_50"} & set(paper)]
    wanted = wanted or [m for m in ("vgg_16", "resnet_v1_50") if m in set(df.model)]
    sub = df[df.model.isin(wanted) & df.setting.isin(["fp32", "bits-8", "threshold-0.05"])]
    if sub.empty:
        return None
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
    for ax, metric in zip(axes, ["storage_bytes", "inference_time_s", "energy_j", "top1"]):
        data = _with_ratio(sub, metric)
        col = metric + ".ratio"
        if col not in data or data[col].notna().sum() == 0:
            _skip_note(ax, sub, metric)
        else:
            pivot = data[data.technique != "baseline"].pivot_table(index="model", columns="technique", values=col)
            pivot.plot.bar(ax=ax, rot=0)
            ax.axhline(100, color="k", lw=0.6)
            ax.legend(fontsize=7)
        ax.set_title(f"{metric}, % of fp32", fontsize=9)
    fig.suptitle("Fig 5: motivation — quantization (8-bit) vs pruning (5%)")
    fig.tight_layout()
    return fig


def all_figures(records: dict, stands_for: dict) -> dict:
    """Every figure the run can support, by file stem."""
    df = records_frame(records)
    if df.empty:
        return {}
    figures = {
        "fig05_motivation": motivation(df, stands_for),
        "fig06_operations": op_heatmap(records),
        "fig13_quantization": technique_panels(df, ["quantize"], "Fig 13: data quantization"),
        "fig20_pruning": technique_panels(df[df.setting.isin(["fp32", "threshold-0.05"])], ["prune"],
                                          "Fig 20: pruning (5% threshold)"),
        "fig24_thresholds": threshold_sweep(df),
        "fig27_memory": memory_footprint(df),
        "fig28_dequantization": dequantize_share(df),
        "fig32_bubble_quantization": bubble(df, "quantize", "Fig 32: quantization, by model size"),
        "fig36_bubble_pruning": bubble(df, "prune", "Fig 36: pruning, by model size"),
        "fig41_combined": technique_panels(df, ["quantize_prune"], "Fig 41: 8-bit quantization + pruning"),
        "beyond_unstructured_pruning": technique_panels(
            df, ["magnitude_prune"], "Contrast: TF-MOT unstructured magnitude pruning (zeros in a dense model)",
            SPARSITY_PANELS),
        "beyond_litert": technique_panels(df, ["litert"], "Beyond the paper: LiteRT (ai-edge-litert) "
                                                          "post-training quantization, % of the TF fp32 model"),
    }
    return {k: v for k, v in figures.items() if v is not None}
