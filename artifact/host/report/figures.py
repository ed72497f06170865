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
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from artifact.core.metrics import METRICS, PAIRED_RATIO  # noqa: E402
from artifact.core.op_classes import OP_CLASSES, OTHER  # noqa: E402
from artifact.core.profiles import setting_slug  # noqa: E402
from artifact.core.techniques import TECHNIQUES, figures, grid_techniques, setting_shade  # noqa: E402
from artifact.host.judge.combine import clip  # noqa: E402
from artifact.host.judge.rederive import derive  # noqa: E402

# Panel specs: (kind, metrics, title). Kinds: "ratio" = grouped bars per model, % of the same run's fp32
# baseline, one bar per setting; "accuracy" = values per model with the fp32 bar in grey, top-1 (top-5 as a
# lighter bar behind it) or BLEU for NMT models; "prf" = precision/recall/F1 of the classification models.
PAPER_PANELS = [  # Figs 13 and 20, in the paper's order (Section IV)
    ("ratio", ("storage_bytes",), "(a) model size, % of fp32"),
    ("ratio", ("inference_time_s",), "(b) inference time, % of fp32"),
    ("accuracy", ("top1", "top5", "bleu"), "(c) accuracy, %: top-1 (top-5 lighter), BLEU for NMT"),
    ("ratio", ("power_peak_w",), "(d) peak power, % of fp32"),
    ("ratio", ("energy_j",), "(e) energy per inference, % of fp32"),
    ("prf", ("precision", "recall", "f1"), "(f) precision / recall / F1, %"),
]
RATIO_PANELS = PAPER_PANELS  # the name earlier versions used

COMBINED_PANELS = [  # Fig 41: 8-bit quantization + pruning
    ("ratio", ("storage_bytes",), "(a) model size, % of fp32"),
    ("ratio", ("inference_time_s",), "(b) inference time, % of fp32"),
    ("ratio", ("energy_j",), "(c) energy per inference, % of fp32"),
    ("accuracy", ("top1",), "(d) top-1 accuracy, %"),
]

SPARSITY_PANELS = [  # beyond the paper: zeros in a dense model show in the gzipped size only
    ("ratio", ("storage_bytes",), "(a) file size, % of fp32"),
    ("ratio", ("storage_gzip_bytes",), "(b) file size gzipped, % of fp32 gzipped"),
    ("ratio", ("inference_time_s",), "(c) inference time, % of fp32"),
    ("ratio", ("params",), "(d) parameters, % of fp32"),
    ("accuracy", ("top1", "top5"), "(e) top-1 accuracy, % (top-5 lighter)"),
    ("prf", ("precision", "recall", "f1"), "(f) precision / recall / F1, %"),
]
SKIP_COLOUR = "#a33"


def _label(metric):
    """A metric's name in a figure: its row's `label` (artifact.core.metrics)."""
    return METRICS[metric].label if metric in METRICS else metric


def records_frame(records: dict) -> pd.DataFrame:
    rows = []
    for record in records.values():
        row = {"model": record.cell["model"], "technique": record.cell["technique"],
               "setting": setting_slug(record.cell["technique"], record.cell["setting"]),
               "colour": setting_colour(record.cell["technique"], record.cell["setting"]),
               **{f"setting.{k}": v for k, v in record.cell["setting"].items()}}
        for metric, measurement in record.measurements.items():
            row[metric] = record.value(metric)
            paired = derive(measurement, PAIRED_RATIO)  # from the paired windows, as the judge reads it
            if paired is not None and paired > 0 and record.cell["technique"] != "baseline":
                row[f"{metric}.paired"] = float(paired)  # the ratio the judge uses (windows paired with fp32)
            if any("EMULATED" in flag for flag in measurement.flags):
                row[f"emulated.{metric}"] = True
        for metric, reason in record.skipped.items():
            row[f"skipped.{metric}"] = reason
        rows.append(row)
    frame = pd.DataFrame(rows)
    for metric in METRICS:  # every metric has a column (NaN where not measured or skipped)
        if metric not in frame:
            frame[metric] = math.nan
    return frame


def _with_ratio(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """`metric.ratio`: % of the same model's fp32. For a variant timed window by window against its
    baseline it is the paired ratio, the number the verdicts use (never a ratio of two separate medians)."""
    base = df[df.technique == "baseline"].set_index("model")[metric]
    paired = df[f"{metric}.paired"] if f"{metric}.paired" in df else pd.Series(math.nan, index=df.index)
    out = df.copy()
    out[metric + ".ratio"] = [paired[i] * 100 if pd.notna(paired[i])
                              else (row[metric] / base.get(row["model"], math.nan) * 100
                                    if pd.notna(row[metric]) else math.nan)
                              for i, row in out.iterrows()]
    return out


def _skip_reason(df, metric):
    col = f"skipped.{metric}"
    return df[col].dropna().iloc[0] if col in df and df[col].notna().any() else None


def short_reason(reason):
    """A skip reason in one short line for a panel: its first clause ('no power sensor: no INA3221 under ...' ->
    'no power sensor'); the whole reason is in the records and the claim table."""
    first = str(reason).split(";")[0].strip()
    first = first.split(": ")[0] if ": " in first else first
    flags = list(dict.fromkeys(re.findall(r"--[a-z][a-z-]*", first)))
    first = re.sub(r"\s*\([^)]*\)", "", first)   # the details in brackets; the options they name stay
    return clip(first, 60) + (" ({})".format(", ".join(flags)) if flags else "")


def _skip_note(ax, df, metrics):
    """Write SKIPPED and the records' reason(s) across an empty panel (metrics: a name or a sequence)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    reasons = {}
    for metric in metrics:
        reason = _skip_reason(df, metric)
        if reason:
            reasons.setdefault(reason, []).append(_label(metric))
    shorts = list(dict.fromkeys(short_reason(r) for r in reasons))
    text = "; ".join(shorts) if shorts else "not measured in this run"
    ax.text(0.5, 0.5, "SKIPPED\n" + _wrap(text, width=45, limit=110), ha="center", va="center",
            fontsize=7, transform=ax.transAxes, color=SKIP_COLOUR)
    ax.set_xticks([])
    ax.set_yticks([])


def _wrap(text, width=40, limit=300):
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > width:
            lines.append(line.rstrip())
            line = ""
        line += word + " "
    wrapped = "\n".join([*lines, line.rstrip()])
    return wrapped if len(wrapped) <= limit else wrapped[:limit - 1].rstrip() + "\u2026"


def _natural(text):
    """Sort key putting bits-6 before bits-8 before bits-16."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _scale(metric):
    """Fractions are drawn as %, BLEU as it is."""
    return 100.0 if metric in METRICS and METRICS[metric].unit == "fraction" else 1.0


def setting_colour(technique: str, setting: dict) -> str:
    """The one colour of a technique's setting in every figure: a shade of its technique's colour (its row's
    `colour`), lighter for the low end of its first setting's range, darker for the high end."""
    base = TECHNIQUES[technique].colour if technique in TECHNIQUES else "#000000"
    rgb = [int(base[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    t = 2 * setting_shade(technique, setting) - 1 if technique in TECHNIQUES else 0.0
    mixed = [c + (1 - c) * -t * 0.7 if t < 0 else c * (1 - t * 0.5) for c in rgb]
    return "#" + "".join(f"{round(c * 255):02x}" for c in mixed)


def _colour(setting, frame):
    """The colour of a setting's bars (a slug of `frame`), the same in every figure (`setting_colour`)."""
    rows = frame[frame.setting == setting]
    return rows.colour.iloc[0] if "colour" in rows and len(rows) else "0.6"


def _bar_rows(rows, setting):
    """The rows of one bar: the fp32 baseline, or a compressed variant's setting."""
    if setting == "fp32":
        return rows[rows.technique == "baseline"]
    return rows[(rows.technique != "baseline") & (rows.setting == setting)]


def _offsets(n, width):
    return [(i - (n - 1) / 2) * width for i in range(n)]


def _model_ticks(ax, labels):
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) <= 5 else 40, ha="right",
                  rotation_mode="anchor", fontsize=7)


def _ratio_panel(ax, sub, metric, models, settings):
    """Grouped bars per model, one per setting, % of the same run's fp32 baseline; False if nothing to draw."""
    data = _with_ratio(sub, metric)
    col = metric + ".ratio"
    variants = data[data.technique != "baseline"]
    if variants[col].notna().sum() == 0:
        return False
    width = 0.8 / len(settings)
    for setting, offset in zip(settings, _offsets(len(settings), width)):
        rows = _bar_rows(data, setting)
        vals = [rows.loc[rows.model == m, col].mean() for m in models]
        ax.bar([j + offset for j in range(len(models))], vals, width, color=_colour(setting, sub))
    ax.axhline(100, color="k", lw=0.6)
    _model_ticks(ax, models)
    _missing_note(ax, sub, [metric], [m for m in models if variants.loc[variants.model == m, col].notna().sum() == 0])
    if f"emulated.{metric}" in sub and sub[f"emulated.{metric}"].fillna(False).astype(bool).any():
        ax.text(0.5, 0.5, "EMULATED sensor:\nplumbing check, not a measurement", transform=ax.transAxes,
                ha="center", va="center", fontsize=11, color=SKIP_COLOUR, alpha=0.6, rotation=20)
    return True


def _accuracy_panel(ax, sub, metrics, models, settings):
    """Values per model, fp32 bar in grey then one bar per setting: top-1 (top-5 as a lighter bar behind it
    when the panel lists top5), or the first other metric the model has (BLEU for NMT)."""
    primary = [m for m in metrics if m != "top5"]
    overlay = "top5" if "top5" in metrics else None
    bars = ["fp32", *settings]
    width = 0.8 / len(bars)
    labels, unmeasured, drawn = [], [], set()
    for j, model in enumerate(models):
        rows = sub[sub.model == model]
        metric = next((m for m in primary if rows[m].notna().any()), None)
        if metric is None:
            labels.append(model)
            unmeasured.append(model)
            continue
        labels.append(model if metric == primary[0] else f"{model} ({_label(metric)})")
        for setting, offset in zip(bars, _offsets(len(bars), width)):
            cell = _bar_rows(rows, setting)
            colour = _colour(setting, sub)
            if overlay and metric == "top1" and cell[overlay].notna().any():
                ax.bar(j + offset, cell[overlay].mean() * _scale(overlay), width, color=colour, alpha=0.35)
                drawn.add(overlay)
            value = cell[metric].mean()
            if pd.notna(value):
                ax.bar(j + offset, value * _scale(metric), width, color=colour)
                drawn.add(metric)
    if not drawn:
        return False
    _model_ticks(ax, labels)
    _missing_note(ax, sub, [m for m in metrics if m not in drawn], unmeasured)
    return drawn


def _prf_panel(ax, sub, metrics, models, settings):
    """One group per metric (precision, recall, F1), one bar per setting (fp32 grey): the mean over the
    classification models that have the metric for every bar; dots are the single models."""
    bars = ["fp32", *settings]
    width = 0.8 / len(bars)
    counted, drawn = set(), []
    for k, metric in enumerate(metrics):
        table = {s: _bar_rows(sub, s).groupby("model")[metric].mean() for s in bars}
        common = [m for m in models if all(pd.notna(table[s].get(m)) for s in bars)]
        if not common:
            continue
        drawn.append(metric)
        counted.update(common)
        for setting, offset in zip(bars, _offsets(len(bars), width)):
            vals = table[setting][common] * _scale(metric)
            ax.bar(k + offset, vals.mean(), width, color=_colour(setting, sub))
            ax.plot([k + offset] * len(vals), vals, ".", color="k", ms=2.5)
    if not drawn:
        return False
    ax.set_xticks(range(len(metrics)), [_label(m) for m in metrics], fontsize=8)
    ax.set_xlabel(f"mean of {len(counted)} classification model(s); dots: each model", fontsize=7)
    skipped = [m for m in metrics if m not in drawn]
    if skipped:
        _missing_note(ax, sub, skipped, [])
    return True


def _missing_note(ax, sub, metrics, models):
    """Under a drawn panel: the metrics or models it lacks, with the records' skip reason."""
    notes = []
    for metric in metrics:
        reason = _skip_reason(sub, metric)
        if reason:
            notes.append(f"{_label(metric)} SKIPPED: {short_reason(reason)}")
    if models:
        notes.append("not measured: " + ", ".join(models))
    if notes:
        text = "\n".join(_wrap(note, width=70, limit=140) for note in notes)
        label = ax.get_xlabel()
        ax.set_xlabel((label + "\n" if label else "") + text, fontsize=6, color=SKIP_COLOUR)


def technique_panels(df: pd.DataFrame, techniques: list, title: str, panels=None):
    """Figs 13/20 (six panels, (a)-(f)), Fig 41 (four, (a)-(d)): each panel a metric of the paper's form;
    a panel whose metric this run skipped is drawn with the reason, so every panel letter is there."""
    panels = panels or PAPER_PANELS
    variants = df[df.technique.isin(techniques)]
    if variants.empty:
        return None
    models = sorted(variants.model.unique())
    settings = sorted(variants.setting.unique(), key=_natural)
    sub = df[df.model.isin(models) & df.technique.isin(["baseline", *techniques])]
    ncols = 3 if len(panels) == 6 else len(panels)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(4.8 * ncols, 17), 3.9 * nrows + 0.6), squeeze=False)
    top5_drawn = values_drawn = False
    for ax, (kind, metrics, panel) in zip(axes.flat, panels):
        if kind == "ratio":
            drawn = _ratio_panel(ax, sub, metrics[0], models, settings)
        elif kind == "accuracy":
            drawn = _accuracy_panel(ax, sub, metrics, models, settings)
            top5_drawn = top5_drawn or (bool(drawn) and "top5" in drawn)
        else:
            drawn = _prf_panel(ax, sub, metrics, models, settings)
        if not drawn:
            _skip_note(ax, sub, metrics)
        values_drawn = values_drawn or (bool(drawn) and kind != "ratio")
        ax.set_title(panel, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    handles = [Patch(color="0.6", label="fp32 (value panels)")] if values_drawn else []
    handles += [Patch(color=_colour(s, sub), label=s) for s in settings]
    if top5_drawn:
        handles.append(Patch(color="0.6", alpha=0.35, label="top-5 (lighter bar behind top-1)"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07 if nrows == 1 else 0.04, 1, 1))
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


def _setting_order(settings, frame):
    """Settings as every figure orders them: by technique (the registry's order), then naturally (bits-6 before
    bits-8 before bits-16)."""
    order = {name: i for i, name in enumerate(TECHNIQUES)}
    technique = dict(zip(frame.setting, frame.technique))
    return sorted(settings, key=lambda s: (order.get(technique.get(s), len(order)), _natural(s)))


def _setting_bars(pivot, frame, figsize):
    """A models x settings pivot as grouped bars, each setting in its one colour (`_colour`), in `_setting_order`."""
    pivot = pivot[_setting_order(pivot.columns, frame)]
    return pivot.plot.bar(figsize=figsize, rot=15, color=[_colour(s, frame) for s in pivot.columns])


def memory_footprint(df: pd.DataFrame):
    """Fig 27: peak memory of each variant, % of its fp32 model."""
    data = _with_ratio(df, "memory_peak_bytes")
    data = data[data.technique != "baseline"].dropna(subset=["memory_peak_bytes.ratio"])
    if data.empty:
        return None
    pivot = data.pivot_table(index="model", columns="setting", values="memory_peak_bytes.ratio")
    ax = _setting_bars(pivot, data, figsize=(9, 3.8))
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
    ax = _setting_bars(pivot, df, figsize=(8, 3.8))
    ax.set(ylabel="% of inference time", title="Fig 28: dequantization share (op trace)")
    ax.figure.tight_layout()
    return ax.figure


def _class_shares(measurement):
    """{class letter or 'other': share} of one op profile: its own class shares (dequantize-scoped nodes in G), else
    its op types sorted into the classes by type (records written before the shares were kept)."""
    shares = measurement.notes.get("class_share")
    if shares:
        return dict(shares)
    letter_of = {op: letter for letter, (_, ops) in OP_CLASSES.items() for op in ops}
    out: dict = {}
    for op, share in zip(measurement.notes.get("op_types", []), measurement.samples):
        key = letter_of.get(op, OTHER)
        out[key] = out.get(key, 0.0) + share
    return out


def op_heatmap(records: dict):
    """Fig 6: share of inference time per operation class A-G (the paper's grouping, artifact/core/op_classes.py),
    fp32 models; cells of 1% or more are labelled."""
    rows = {}
    for record in records.values():
        m = record.measurements.get("op_shares")
        if m is not None and record.cell["technique"] == "baseline":
            rows[record.cell["model"]] = _class_shares(m)
    if not rows:
        return None
    columns = sorted(OP_CLASSES) + ([OTHER] if any(r.get(OTHER, 0) > 0 for r in rows.values()) else [])
    table = pd.DataFrame(rows).T.reindex(columns=columns).fillna(0) * 100
    labels = [f"{c}: {OP_CLASSES[c][0]}" if c in OP_CLASSES else c for c in columns]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(table) + 2.2))
    im = ax.imshow(table.values, cmap="YlOrRd", aspect="auto", vmin=0, vmax=100)
    ax.set_xticks(range(len(columns)), labels, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=8)
    for i in range(len(table.index)):
        for j in range(len(columns)):
            if table.values[i, j] >= 1:
                ax.text(j, i, f"{table.values[i, j]:.0f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, label="% of inference time")
    ax.set_title("Fig 6: share of inference time per operation class A-G (classes >= 1% labelled)")
    fig.tight_layout()
    return fig


def _annotate_apart(ax, points):
    """Label (x, y, text) points in data coordinates, right or left of the point and nudged up or down until
    its text overlaps no earlier label (else the least overlapping place); a nudged label gets a leader line."""
    ax.figure.canvas.draw()  # settles the data limits: the boxes below are measured in display coordinates
    renderer = ax.figure.canvas.get_renderer()
    places = [(dx, sign * 7 * k + 2) for k in range(7) for sign in (1, -1) for dx in (5, -5)
              if k or sign == 1]
    placed = []
    for x, y, text in sorted(points, key=lambda p: (-p[1], p[0])):
        best = None
        for dx, dy in places:
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=6,
                                va="bottom", ha="left" if dx > 0 else "right")
            label.update_positions(renderer)
            box = Text.get_window_extent(label, renderer)  # the text alone, without a leader line
            label.remove()
            clashes = sum(box.overlaps(other) for other in placed)
            if best is None or clashes < best[0]:
                best = (clashes, dx, dy, box)
            if not clashes:
                break
        _, dx, dy, box = best
        ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=6, color="0.15",
                    va="bottom", ha="left" if dx > 0 else "right",
                    arrowprops=dict(arrowstyle="-", color="0.6", lw=0.5) if dy != 2 else None)
        placed.append(box)


def bubble(df: pd.DataFrame, technique: str, title: str):
    """Figs 32/36: x = inference time, y = top-1 (BLEU for NMT), both % of fp32, both axes from zero; bubble area
    proportional to the fp32 model's parameters; one colour per setting; a model's bubbles joined by a thin line
    and named once (nudged apart, with a grey leader line when moved). Without accuracy in this run, y is the
    storage size, and the axis label and title say so."""
    data = df
    for metric in ("inference_time_s", "top1", "bleu", "storage_bytes"):
        data = _with_ratio(data, metric)
    data = data[data.technique == technique].dropna(subset=["inference_time_s.ratio"])
    if data.empty:
        return None
    data = data.assign(**{"accuracy.ratio": data["top1.ratio"].fillna(data["bleu.ratio"])})
    if data["accuracy.ratio"].notna().any():
        ycol, ylabel, note = "accuracy.ratio", "top-1, % of fp32 (BLEU for NMT)", ""
    else:
        ycol, note = "storage_bytes.ratio", "(top-1 not measured in this run: y is storage)"
        ylabel = "storage size, % of fp32\n" + note
    left_out = sorted(set(data.model) - set(data.dropna(subset=[ycol]).model))
    data = data.dropna(subset=[ycol])
    if data.empty:
        return None
    params = df[df.technique == "baseline"].groupby("model")["params"].mean()
    biggest = params.max() if params.notna().any() else math.nan

    def area(model):  # proportional to parameters, with a floor so that the smallest stays visible
        p = params.get(model, math.nan)
        return max(12.0, 1800 * p / biggest) if pd.notna(p) and biggest > 0 else 12.0

    settings = sorted(data.setting.unique(), key=_natural)
    fig, ax = plt.subplots(figsize=(8.5, 5.6))
    labels = []   # one label per model (at its slowest setting); a thin line joins its settings' bubbles
    for model, rows in data.groupby("model"):
        rows = rows.sort_values("inference_time_s.ratio")
        if len(rows) > 1:
            ax.plot(rows["inference_time_s.ratio"], rows[ycol], color="0.6", lw=0.6, zorder=1)
        last = rows.iloc[-1]
        labels.append((last["inference_time_s.ratio"], last[ycol],
                       model + (" (BLEU)" if ycol == "accuracy.ratio" and pd.isna(last["top1.ratio"]) else "")))
    for setting, rows in data.groupby("setting"):
        colour = _colour(setting, data)
        ax.scatter(rows["inference_time_s.ratio"], rows[ycol], s=[area(m) for m in rows.model], alpha=0.45,
                   color=colour, edgecolors=colour, linewidths=0.8, zorder=2)
    ax.axvline(100, color="k", lw=0.5)
    ax.axhline(100, color="k", lw=0.5)
    ax.margins(0.12)
    # zero-based: a 99.4-100 axis would make one test image look like a collapse
    ax.set_xlim(left=0, right=max(ax.get_xlim()[1], 110))
    ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 110))
    xlabel = "inference time, % of fp32"
    if left_out:
        what = "accuracy" if ycol == "accuracy.ratio" else "storage"
        xlabel += f"\nnot shown ({what} not measured): " + ", ".join(left_out)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel, fontsize=9 if note else 10)
    ax.set_title(title + ("\n" + note if note else ""), fontsize=10)
    handles = [Line2D([], [], marker="o", ls="", color=_colour(s, data), alpha=0.6, label=s) for s in settings]
    handles.append(Line2D([], [], ls="", label="bubble area: parameters"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    _annotate_apart(ax, labels)
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
        variants = data[data.technique != "baseline"] if col in data else data.iloc[0:0]
        if col not in data or variants[col].notna().sum() == 0:   # the baselines alone have nothing to compare
            _skip_note(ax, sub, metric)
        else:
            pivot = variants.pivot_table(index="model", columns="technique", values=col)
            pivot.plot.bar(ax=ax, rot=0, color=[TECHNIQUES[t].colour for t in pivot.columns])
            ax.axhline(100, color="k", lw=0.6)
            ax.legend(fontsize=7)
        ax.set_title(f"{metric}, % of fp32", fontsize=9)
    fig.suptitle("Fig 5: motivation — quantization (8-bit) vs pruning (5%)")
    fig.tight_layout()
    return fig


def advisor_fronts(records: dict):
    """Each model's configurations, size against latency: the Pareto front (over every objective the run
    measured for all of them, accuracy included, so a front point may look dominated in this projection)
    filled, the paper's grid as squares, fp32 as a star, the rest
    (LiteRT, mixed widths, sparsity, explored trials) as triangles."""
    from artifact.host.advise.from_records import configs_by_model
    from artifact.host.advise.pareto import front, known_objectives

    models = {m: cs for m, cs in configs_by_model(records).items()
              if any(c.get("size_mb") is not None and c.get("latency_ms") is not None for c in cs)}
    if not models:
        return None
    cols = min(4, len(models))
    rows = math.ceil(len(models) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (model, configs) in zip(axes.flat, models.items()):
        shown = [c for c in configs if c.get("size_mb") is not None and c.get("latency_ms") is not None]
        objectives = known_objectives(shown)
        on_front = {c.name for c in front(shown, objectives)}
        for config in shown:
            technique = config.name.split(" ")[0]
            marker = "*" if technique == "baseline" else ("s" if technique in grid_techniques() else "^")
            ax.scatter(config.get("size_mb"), config.get("latency_ms"), marker=marker, s=60 if marker == "*" else 28,
                       facecolors="tab:blue" if config.name in on_front else "lightgrey",
                       edgecolors="black" if config.name in on_front else "grey", linewidths=0.6, zorder=3)
        ax.set_xscale("log")
        ax.set_title(f"{model}: front over " + ", ".join(o.split("_")[0] for o in objectives), fontsize=8)
        ax.set_xlabel("size (MB, log)", fontsize=7)
        ax.set_ylabel("latency (ms)", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    legend = [Line2D([], [], marker="*", linestyle="", color="grey", label="fp32"),
              Line2D([], [], marker="s", linestyle="", color="grey", label="the paper's grid"),
              Line2D([], [], marker="^", linestyle="", color="grey", label="beyond the paper / explored"),
              Patch(facecolor="tab:blue", edgecolor="black", label="on the Pareto front")]
    fig.legend(handles=legend, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle("Advisor: each model's configurations and Pareto front (python -m artifact advise)", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return fig


def explored_front(records: dict, summary: dict):
    """One model's search against the paper's grid, from the records its `explore` summary names: in each plane
    (size, latency against the accuracy drop) the grid's configurations (squares, front dashed) and the explored
    ones (triangles, front solid), the explored front's configurations beyond the grid named."""
    from artifact.host.advise.from_records import configs_by_model
    from artifact.host.advise.pareto import front

    configs = {c.evidence[0]: c for c in configs_by_model(records).get(str(summary.get("model")), [])}
    grid_keys = set(summary.get("grid_records", []))
    groups = (([configs[k] for k in sorted(grid_keys) if k in configs], "s", "grey", "--", "the paper's grid"),
              ([configs[k] for k in summary.get("explored_records", []) if k in configs], "^", "tab:blue", "-",
               "explored"))
    if not groups[1][0]:
        return None
    size, latency, accuracy = summary["objectives"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, x in zip(axes, (size, latency)):
        for group, marker, colour, style, label in groups:
            shown = [c for c in group if c.get(x) is not None and c.get(accuracy) is not None]
            ax.scatter([c.get(x) for c in shown], [c.get(accuracy) for c in shown], marker=marker, color=colour,
                       s=28, label=label, zorder=3)
            on = sorted(front(shown, [x, accuracy]), key=lambda c: c.get(x) or 0.0)  # shown: each has x
            ax.step([c.get(x) for c in on], [c.get(accuracy) for c in on], where="post", linestyle=style,
                    color=colour, lw=0.8)
            for config in on if label == "explored" else []:
                if config.evidence[0] not in grid_keys:
                    ax.annotate(config.name, (config.get(x), config.get(accuracy)), fontsize=6,
                                xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(x.replace("_mb", " (MB, log)").replace("_ms", " (ms, log)"), fontsize=7)
        ax.set_ylabel(accuracy.replace("_", " ") + " (points)", fontsize=7)
        ax.tick_params(which="both", labelsize=6)
        ax.legend(fontsize=6)
    fig.suptitle(f"{summary['model']}: explored front against the paper's grid (python -m artifact explore, "
                 f"{summary.get('trials')} trials)", fontsize=9)
    fig.tight_layout()
    return fig


PANEL_SETS = {"paper": PAPER_PANELS, "combined": COMBINED_PANELS, "sparsity": SPARSITY_PANELS}  # a Figure's `panels`
# panel figures drawn per technique (their rows' `figures`) -> (techniques, settings kept), for the numbers table
# shown beside each
FIGURE_TECHNIQUES = {stem: ((name,), figure.settings) for stem, (name, figure) in figures().items()
                     if figure.kind == "panels"}
NUMBER_COLUMNS = (("storage_bytes", "storage % of fp32"), ("inference_time_s", "time % of fp32"),
                  ("energy_j", "energy % of fp32"), ("power_peak_w", "peak power % of fp32"))


def figure_numbers(records: dict, stem: str):
    """(headers, rows) of the numbers a technique figure plots: the same `_with_ratio` values it draws (time
    from the paired ratio the judge uses), plus top-1/BLEU as measured. None for other figures."""
    if stem not in FIGURE_TECHNIQUES:
        return None
    techniques, settings = FIGURE_TECHNIQUES[stem]
    df = records_frame(records)
    if df.empty:
        return None
    for metric, _ in NUMBER_COLUMNS:
        df = _with_ratio(df, metric)
    rows = []
    for _, row in df[df.technique.isin(techniques)].sort_values(["model", "setting"]).iterrows():
        if settings is not None and row["setting"] not in settings:
            continue
        cells = [row["model"], row["setting"]]
        cells += [f"{row[m + '.ratio']:.1f}" if pd.notna(row[m + ".ratio"]) else "—" for m, _ in NUMBER_COLUMNS]
        cells += [f"{row[m]:.4g}" if pd.notna(row[m]) else "—" for m in ("top1", "bleu")]
        rows.append(cells)
    if not rows:
        return None
    return ["model", "setting"] + [label for _, label in NUMBER_COLUMNS] + ["top-1", "BLEU"], rows


def all_figures(records: dict, stands_for: dict) -> dict:
    """Every figure the run can support, by file stem."""
    df = records_frame(records)
    if df.empty:
        return {}
    drawn = {
        "fig05_motivation": motivation(df, stands_for),
        "fig06_operations": op_heatmap(records),
        "fig24_thresholds": threshold_sweep(df),
        "fig27_memory": memory_footprint(df),
        "fig28_dequantization": dequantize_share(df),
    }
    for stem, (technique, figure) in figures().items():  # each technique's own figures, named by its row
        kept = df if figure.settings is None else df[df.setting.isin(["fp32", *figure.settings])]
        drawn[stem] = (bubble(kept, technique, figure.title) if figure.kind == "bubble" else
                       technique_panels(kept, [technique], figure.title, PANEL_SETS[figure.panels]))
    drawn["advisor_fronts"] = advisor_fronts(records)
    return {k: v for k, v in drawn.items() if v is not None}
