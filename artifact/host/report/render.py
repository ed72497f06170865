"""`invoke report` / `make figures`: the artifact-evaluation report from stored files only.

Reads run.json, records/ and verdicts.json of a results directory and writes report/:
index.html (self-contained, figures embedded), report.md, summary.json and figures/*.png.
"""

import base64
import html
import json
import os

from tabulate import tabulate

from artifact.core.atomic import write_atomic
from artifact.core.catalog import TABLE_I
from artifact.core.errors import ArtifactError, FormatError
from artifact.core.jsonfile import write_json_atomic
from artifact.core.packages import PACKAGED_TECHNIQUES
from artifact.core.paths import INCONSISTENCIES
from artifact.core.results import as_results
from artifact.core.tomlfile import load_toml
from artifact.host.advise.from_records import configs_by_model
from artifact.host.advise.lessons import HEADERS as ADVISOR_HEADERS
from artifact.host.advise.lessons import lesson_rows
from artifact.host.judge.check import load_run_info, load_verdicts
from artifact.host.judge.combine import combine
from artifact.host.judge.grade import describe as describe_grade
from artifact.host.judge.verdicts import OUTCOMES
from artifact.host.report.board_spread import HEADERS as BOARD_HEADERS
from artifact.host.report.board_spread import spread_rows
from artifact.host.report.first_screen import (
    SCRIPT,
    STYLE,
    filter_buttons,
    forest_html,
    in_paper_order,
    paper_order,
    sections_html,
)
from artifact.host.report.time_bar import time_bar_html

HERE = os.path.dirname(os.path.abspath(__file__))
ADVISOR_TEXT = ("For each model, three typical constraint sets: the smallest file, the fastest inference and the least "
                "energy, each within 1 point of top-1 (BLEU for translators) of the run's fp32 model. The paper's "
                "lesson is judged among its own techniques; `python -m artifact advise` answers any constraints, "
                "with the Pareto front of every model.")
MEMORY_THREAT = (
    "Memory footprint is measured in a process of its own per variant ({how}): the peak RSS while it runs minus the "
    "RSS before loading, plus TensorFlow's GPU allocator peak when a GPU runs it. On a Jetson, CPU and GPU share DRAM; "
    "the system-wide MemAvailable drop and NvMapMemUsed growth are recorded beside it but move with other processes.")
TIMING_THREAT = (
    "Timing follows the paper's rule (repeat until the 95% CI half-width is within {target} of the mean; this "
    "profile's target) on a shared machine: differences of a few percent between variants are within run-to-run "
    "noise. A measurement that did not converge, or saw sensor errors or throttling, carries a flag shown next to "
    "its verdict.")


THREATS = [
    "The paper ran TensorFlow 1.6 on a Jetson TX2 (CUDA 8, cuDNN 6); this run used the TensorFlow named in the "
    "environment table. Grappler's constant folding differs: our quantized models keep their weights as integer "
    "variables so dequantization runs on every inference, as the paper's did.",
    "The 'embedded' profile measures stand-in models (the mini-zoo, trained here on scikit-learn digits and a "
    "num2words corpus): their numbers are not the paper's models' numbers. The 'paper' profile measures the real "
    "Table I architectures; without --checkpoints/--imagenet/--nmt their weights are initialised, so accuracy is "
    "SKIPPED and only weight-independent figures (parameters, depth, storage, memory, time ratios) are judged.",
    "Power readings depend on the sensor: INA3221 rails update at their conversion rate (repeated values at 1 kHz "
    "on a TX2); RAPL covers the CPU package only. Without a sensor, power and energy are SKIPPED, never 0.",
    MEMORY_THREAT,
    TIMING_THREAT,
    "Pruning removes filters/neurons by L1 norm. Each pruned model is fine-tuned by the retraining step and measured "
    "from the model package it wrote, or measured as pruned where no training set was given (the Retraining table "
    "says which, cell by cell). The paper gives no retraining schedule: the Table I defaults are Li et al.'s "
    "(ICLR'17), constant learning rate 0.001 with momentum; the mini-zoo gets three passes over its training split.",
]


def threats(info, records):
    """The threats to validity, with the run's own facts: how its memory probes' processes were made (from the
    records) and the timing target of its profile."""
    from artifact.core.profiles import load_profile

    memory = [m for r in records.values() for m in r.measurements.values() if m.metric == "memory_peak_bytes"]
    kinds = sorted({str(m.notes["process"]).split(" (")[0] for m in memory if m.notes.get("process")})
    unsaid = sum(1 for m in memory if not m.notes.get("process"))
    if unsaid:
        kinds.append(f"{unsaid} records do not say how")
    try:
        target = load_profile(info.get("profile_file") or info.get("profile")).measurement.get("ci_target", 0.05)
        target_text = f"{target:.0%}"
    except ArtifactError:  # a profile file that is not here (results judged on another machine): say so
        target_text = "the profile's target (profile not found here)"
    facts = {MEMORY_THREAT: {"how": "; ".join(kinds) if memory else "no memory measured in this run"},
             TIMING_THREAT: {"target": target_text}}
    return [t.format(**facts[t]) if t in facts else t for t in THREATS]


def _fmt(value, unit=""):
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text + (f" {unit}" if unit else "")


def claim_rows(verdicts, results):
    """One row per claim, columns as HEADERS."""
    results = as_results(results)
    return [
        [
            v.claim_id,
            v.source,
            v.statement,
            _fmt(v.paper_value),
            _fmt(v.measured),
            _fmt(v.delta),
            v.rule,
            v.outcome,
            describe_grade(v.grade),
            v.explanation,
            _flags_cell(v.flags),
            ", ".join(results.relative(results.record_file(e)) for e in v.evidence[:4]),
        ]
        for v in verdicts
    ]


EXPLORE_HEADERS = ["model", "trials", "grid points", "plane", "explored hypervolume", "grid hypervolume", "ratio",
                   "explored configurations on the front"]


def explore_summaries(results):
    """The `explore` summaries in the results directory, by model name (none: no search ran)."""
    folder = results.explore
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".json"):
            with open(results.explore_summary(name[:-len(".json")])) as handle:
                out.append(json.load(handle))
    return out


def explore_rows(results):
    """One row per model and plane of `explore` summaries in the results directory (none: no search ran)."""
    rows = []
    for summary in explore_summaries(results):
        on_front = ", ".join(f["config"] for f in summary.get("front", []) if f.get("explored")) or "none"
        for plane in sorted(k for k in summary if k.startswith("hypervolume_")):
            hv = summary[plane]
            rows.append(dict(zip(EXPLORE_HEADERS, [
                summary["model"], summary["trials"], summary["grid_points"],
                plane.replace("hypervolume_", "").replace("_mb", " (MB)").replace("_ms", " (ms)").replace("_", " "),
                _fmt(hv["explored"]), _fmt(hv["grid"]), _fmt(hv["ratio"]), on_front])))
    return rows


PHASE_ORDER = ("baseline", "retrain", "compress", "save", "load", "storage", "storage_gzip", "params", "depth", "time_and_power",
               "memory", "accuracy", "op_profile")


def time_rows(records):
    """Where the run's time went: per technique, its cells' total wall time and each phase's (records of
    earlier versions have only the total)."""
    phases = sorted({p for r in records.values() for p in r.phases},
                    key=lambda p: (PHASE_ORDER.index(p) if p in PHASE_ORDER else len(PHASE_ORDER), p))
    by_technique = {}
    for record in records.values():
        row = by_technique.setdefault(record.cell["technique"], {"cells": 0, "total": 0.0})
        row["cells"] += 1
        row["total"] += record.duration_s or 0.0
        for phase, seconds in record.phases.items():
            row[phase] = row.get(phase, 0.0) + seconds
    headers = ["technique", "cells", "total (s)"] + [f"{p} (s)" for p in phases]
    rows = [[t, v["cells"], f"{v['total']:.1f}"] + [f"{v[p]:.1f}" if p in v else "—" for p in phases]
            for t, v in sorted(by_technique.items(), key=lambda kv: -kv[1]["total"])]
    if rows:
        every = [sum(r.duration_s or 0.0 for r in records.values())]
        rows.append(["all", len(records), f"{every[0]:.1f}"] + [
            f"{sum(r.phases.get(p, 0.0) for r in records.values()):.1f}" for p in phases])
    return headers, rows


MODEL_HEADERS = ["model", "weights", "data", "TF-Slim params", "measured params", "Table I params",
                 "measured depth", "Table I depth", "notes"]


def model_rows(records):
    """One row per model of the run: provenance, and for Table I models TF-Slim vs measured vs Table I."""
    rows = []
    for record in sorted(records.values(), key=lambda r: r.cell["model"]):
        if record.cell["technique"] != "baseline":
            continue
        name = record.cell["model"]
        info = TABLE_I.get(name)
        params, depth = record.value("params"), record.value("depth")
        rows.append([
            name, record.provenance.get("weights", "—"), record.provenance.get("data", "—"),
            _fmt(info.slim_params if info and info.slim_params else None),
            _fmt(int(params) if params is not None else None),
            _fmt(info.paper_params if info else None),
            _fmt(int(depth) if depth is not None else None), _fmt(info.paper_depth if info else None),
            info.notes if info else "stand-in (mini-zoo); not a paper model",
        ])
    return rows


HEADERS = ["claim", "source", "statement", "paper", "measured", "delta", "rule", "verdict", "grade", "why", "flags",
           "evidence"]


def _flags_cell(flags, shown=3):
    """Measurement-quality flags of a verdict (non-converged timing, sensor errors, throttling, ...)."""
    if not flags:
        return ""
    more = f" (+{len(flags) - shown} more)" if len(flags) > shown else ""
    return "⚑ " + "; ".join(flags[:shown]) + more


RETRAINING_HEADERS = ["cell", "retrained", "trained on", "steps", "loss first → last", "trained by", "validation"]


def retraining_rows(records):
    """Each pruned cell: measured from a retraining package (what it was trained on, how long) or not, and why."""
    rows = []
    for key, record in sorted(records.items()):
        if record.cell.get("technique") not in PACKAGED_TECHNIQUES:
            continue
        provenance = record.provenance
        package = provenance.get("package")
        if not package:
            if provenance.get("retrained"):   # records from before model packages: fine-tuned inside `run`
                rows.append([key, "yes", "fine-tuned inside the run (a record without a model package)", "", "",
                             "", ""])
            else:
                rows.append([key, "no", provenance.get("retrain_note", "no package"), "", "", "", ""])
            continue
        training, validation = package.get("training", {}), package.get("validation", {})
        steps = f"{training.get('steps')}" + (f" of {training['planned_steps']}" if training.get("planned_steps")
                                               not in (None, training.get("steps")) else "")
        losses = f"{_fmt(training.get('first_loss'))} → {_fmt(training.get('final_loss'))}"
        by = f"{training.get('device', '?')}, TF {training.get('tensorflow', '?')}, {_fmt(training.get('seconds'), 's')}"
        scored = ", ".join(f"{k} {_fmt(validation[k])}" for k in ("top1", "bleu") if k in validation)
        rows.append([key, "yes", training.get("data", "?"), steps, losses, by, scored])
    return rows


QUALITY_HEADERS = ["record", "metric", "flag"]


def quality_rows(records, limit=300):
    """Every measurement-quality flag of the run, record by record (the first `limit`)."""
    rows = [[key, metric, flag] for key, record in sorted(records.items())
            for metric, m in sorted(record.measurements.items()) for flag in m.flags]
    return rows[:limit] + ([["…", "", f"{len(rows) - limit} more in the records"]] if len(rows) > limit else [])


def load_inconsistencies(path=INCONSISTENCIES):
    if not os.path.exists(path):
        return []
    return load_toml(path, "inconsistencies", FormatError).get("inconsistency", [])


BOARD_TEXT = ("Boards of one kind differ (Snowflakes at the Edge, EdgeSys'21): each board of the fleet measured the "
              "same reference cell first. A ratio far from 1 is that board's own speed; every paired ratio of this "
              "report is formed within one board (a cell's variant and baseline windows are timed in one attempt).")


def render_report(results_dir) -> dict:
    """Write report/ of a results directory (a path or a ResultsDir), every file atomically."""
    results = as_results(results_dir)
    info = load_run_info(results)
    verdict_data, verdicts = load_verdicts(results)
    records = results.load_records()
    fig_dir = results.figures
    figure_files = write_figures(records, info.get("stands_for", {}), results)
    counts = verdict_data["counts"]
    summary = {
        "profile": info.get("profile"),
        "counts": counts,
        "verdict_line": verdict_line(counts, verdict_data.get("flagged", 0), verdict_data.get("busy", 0),
                                     verdict_data.get("label", "")),
        "figures": sorted(figure_files),
        "environment": info.get("environment", {}),
        "steps": info.get("steps", {}),
        "claims": [v.to_dict() for v in verdicts],
        "sections": combine([results.path])["sections"],
    }
    verdicts = in_paper_order(verdicts, source=lambda v: v.source)
    rows = claim_rows(verdicts, results)
    summary["models"] = [dict(zip(MODEL_HEADERS, row)) for row in model_rows(records)]
    summary["quality_flags"] = [dict(zip(QUALITY_HEADERS, row)) for row in quality_rows(records)]
    summary["retraining"] = [dict(zip(RETRAINING_HEADERS, row)) for row in retraining_rows(records)]
    summary["advisor"] = [dict(zip(ADVISOR_HEADERS, row)) for row in lesson_rows(configs_by_model(records))]
    summary["explore"] = explore_rows(results)
    time_headers, time_table = time_rows(records)
    summary["time_by_technique"] = [dict(zip(time_headers, row)) for row in time_table]
    summary["threats"] = threats(info, records)
    spread = spread_rows(results)   # a fleet's boards of one kind (only where two or more measured)
    if spread:
        summary["board_spread"] = [dict(zip(BOARD_HEADERS, row)) for row in spread]
    write_json_atomic(results.summary_json, summary)
    inconsistencies = load_inconsistencies()
    from artifact.host.report.figures import figure_numbers

    numbers = {stem: figure_numbers(records, stem) for stem in figure_files}
    summary["figure_numbers"] = {stem: {"headers": n[0], "rows": n[1]} for stem, n in numbers.items() if n}
    md = markdown(info, summary, rows, figure_files, inconsistencies)
    write_atomic(results.report_md, md)
    write_atomic(results.report_html, page(info, summary, rows, figure_files, fig_dir, inconsistencies))
    return summary


def figure_order(item):
    """The paper's figures first, by number (fig05 ... fig41), then the ones beyond the paper."""
    stem = item[0]
    return (0 if stem.startswith("fig") else 1, stem)


def figure_heading(stem):
    """A paper figure's heading is its caption (captions.CAPTIONS: 'fig27_memory' -> 'Fig 27: The runtime memory
    footprint consumed by a compressed model'); a technique's other figure, its registry title ('beyond_litert' ->
    'Beyond the paper: LiteRT ...'); anything else, its file name ('advisor_fronts' -> 'Advisor fronts')."""
    from artifact.core.techniques import figures
    from artifact.host.report.captions import CAPTIONS

    number, _, rest = stem.partition("_")
    if number.startswith("fig") and number[3:].isdigit():
        caption = CAPTIONS.get(int(number[3:]))
        return f"Fig {int(number[3:])}: {caption.caption if caption else rest.replace('_', ' ')}"
    title = figures()[stem][1].title if stem in figures() else rest.replace("_", " ")
    if number == "beyond":
        return title if title.startswith("Beyond the paper") else "Beyond the paper: " + title
    if stem in figures():
        return title
    return stem.replace("_", " ").capitalize()


def write_figures(records, stands_for, results):
    """Each figure as results/report/figures/<stem>.png; `results`: a ResultsDir or its path."""
    from artifact.host.report.figures import all_figures, explored_front, plt

    results = as_results(results)
    files = {}
    drawn = all_figures(records, stands_for)
    for summary in explore_summaries(results):  # one figure per model searched: its explored front vs the grid's
        drawn["explore_" + summary["model"]] = explored_front(records, summary)
    for stem, fig in ((k, v) for k, v in drawn.items() if v is not None):
        path = results.figure_file(stem)
        write_atomic(path, lambda handle, fig=fig: fig.savefig(handle, format="png", dpi=90), binary=True)
        plt.close(fig)
        files[stem] = path
    return files


def verdict_line(counts: dict, flagged: int = 0, busy: int = 0, label: str = "") -> str:
    """'21 PASS, 14 DEVIATION, 4 FAIL, 0 NOT-RUN, 31 SKIPPED; 4 flagged ...', outcomes in a fixed order;
    `busy`: how many verdicts rest on measurements taken while other processes used the CPU."""
    order = [o for o in OUTCOMES if o in counts] + sorted(set(counts) - set(OUTCOMES))
    line = (f"{label}: " if label else "") + ", ".join(f"{counts[k]} {k}" for k in order)
    line += f"; {flagged} flagged (measurement-quality flags in the claim table)" if flagged else ""
    return line + (f"; {busy} measured on a busy machine (other processes used the CPU)" if busy else "")


def _numbers_md(summary, stem):
    numbers = summary.get("figure_numbers", {}).get(stem)
    if not numbers:
        return ""
    return "\nThe numbers it plots:\n\n" + tabulate(numbers["rows"], numbers["headers"], tablefmt="github") + "\n"


def markdown(info, summary, rows, figure_files, inconsistencies):
    env = summary["environment"]
    parts = [
        f"# Artifact evaluation report — profile `{info.get('profile')}`"
        + (f" — {info['label']}: a first look with looser precision targets" if info.get("label") else ""),
        "",
        f"**Verdicts:** {summary['verdict_line']}",
        "",
        info.get("description", ""),
        "",
        "## What each section of the paper reproduced",
        "",
        tabulate([[x["section"], x["status"], f"{x['judged']} of {x['claims']}", x["why"]]
                  for x in sorted(summary["sections"], key=lambda x: paper_order(x["section"]))],
                 ["section of the paper", "status", "claims judged", "why"], tablefmt="github"),
        "",
        "## Claims, in the paper's order",
        "",
        tabulate(rows, HEADERS, tablefmt="github"),
        "",
        "## Models, weights and data",
        "",
        tabulate([list(m.values()) for m in summary["models"]], MODEL_HEADERS, tablefmt="github"),
        "",
        "## Retraining: the pruned models and the packages they were measured from",
        "",
        tabulate([list(r.values()) for r in summary["retraining"]], RETRAINING_HEADERS, tablefmt="github")
        if summary["retraining"] else "No pruned cells in this run.",
        "",
        "## Measurement-quality flags",
        "",
        tabulate([list(q.values()) for q in summary["quality_flags"]], QUALITY_HEADERS, tablefmt="github")
        if summary["quality_flags"] else "None: every timing converged, no sensor errors, no throttling seen.",
        "",
        "## Advisor: the paper's lessons against this run's evidence",
        "",
        ADVISOR_TEXT,
        "",
        tabulate([list(a.values()) for a in summary["advisor"]], ADVISOR_HEADERS, tablefmt="github"),
        "",
        *(["### Explored configurations against the paper's grid (`python -m artifact explore`)", "",
           tabulate([list(e.values()) for e in summary["explore"]], EXPLORE_HEADERS, tablefmt="github"), ""]
          if summary["explore"] else []),
        "## Figures",
        "",
        *[f"### {figure_heading(stem)}\n\n![{stem}](figures/{os.path.basename(p)})\n" + _numbers_md(summary, stem)
          for stem, p in sorted(figure_files.items(), key=figure_order)],
        *(["## Boards of one kind: the reference cell on each board (fleet)", "", BOARD_TEXT, "",
           tabulate([list(b.values()) for b in summary["board_spread"]], BOARD_HEADERS, tablefmt="github"), ""]
          if summary.get("board_spread") else []),
        "## Environment",
        "",
        tabulate(sorted((k, str(v)) for k, v in env.items()), ["key", "value"], tablefmt="github"),
        "",
        "## Time of each step",
        "",
        tabulate([(k, f"{v:.1f} s") for k, v in summary["steps"].items()], ["step", "time"], tablefmt="github"),
        "",
        "## Where the time went",
        "",
        tabulate([list(t.values()) for t in summary["time_by_technique"]],
                 list(summary["time_by_technique"][0]) if summary["time_by_technique"] else [], tablefmt="github"),
        "",
        "## Threats to validity",
        "",
        *[f"- {t}" for t in summary["threats"]],
        "",
        "## Inconsistencies in the paper",
        "",
        *[f"- **{i['where']}**: {i['what']}" for i in inconsistencies],
        "",
    ]
    return "\n".join(parts)


def _table_html(headers, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells, outcome = [], ""
        for h, cell in zip(headers, row):
            cls = f' class="v-{html.escape(str(cell))}"' if h == "verdict" else ""
            outcome = html.escape(str(cell)) if h == "verdict" else outcome
            cells.append(f"<td{cls}>{html.escape(str(cell))}</td>")
        body.append((f'<tr data-outcome="{outcome}">' if outcome else "<tr>") + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(info, summary, rows, figure_files, fig_dir, inconsistencies):
    figs = []
    for stem, path in sorted(figure_files.items(), key=figure_order):
        with open(path, "rb") as handle:
            data = base64.b64encode(handle.read()).decode()
        numbers = summary.get("figure_numbers", {}).get(stem)
        table = _table_html(numbers["headers"], numbers["rows"]) if numbers else ""
        figs.append(f'<h3>{html.escape(figure_heading(stem))}</h3><img alt="{html.escape(stem)}" src="data:image/png;base64,{data}">'
                    + table)
    env_rows = sorted((k, str(v)) for k, v in summary["environment"].items())
    steps = [(k, f"{v:.1f} s") for k, v in summary["steps"].items()]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Artifact report: {html.escape(str(info.get("profile")))}</title>
<style>{STYLE}</style>{SCRIPT}</head><body>
<h1>Artifact evaluation report — profile <code>{html.escape(str(info.get("profile")))}</code>{html.escape(" — " + info["label"] + ": a first look with looser precision targets") if info.get("label") else ""}</h1>
<p class="summary" id="verdicts"><b>Verdicts:</b> {html.escape(summary["verdict_line"])}</p>
<p>{html.escape(info.get("description", ""))}</p>
<h2>What each section of the paper reproduced</h2>{sections_html(summary["sections"])}
<h2>Every judged claim against the paper</h2>{forest_html(summary["claims"])}
<h2>Claims, in the paper's order</h2>{filter_buttons()}{_table_html(HEADERS, rows)}
<h2>Models, weights and data</h2>{_table_html(MODEL_HEADERS, [list(m.values()) for m in summary["models"]])}
<h2>Retraining: the pruned models and the packages they were measured from</h2>{_table_html(RETRAINING_HEADERS, [list(r.values()) for r in summary["retraining"]]) if summary["retraining"] else "<p>No pruned cells in this run.</p>"}
<h2>Measurement-quality flags</h2>{_table_html(QUALITY_HEADERS, [list(q.values()) for q in summary["quality_flags"]])
  if summary["quality_flags"] else "<p>None: every timing converged, no sensor errors, no throttling seen.</p>"}
<h2>Advisor: the paper's lessons against this run's evidence</h2><p>{html.escape(ADVISOR_TEXT)}</p>{_table_html(ADVISOR_HEADERS, [list(a.values()) for a in summary["advisor"]])}
{"<h3>Explored configurations against the paper's grid</h3>" + _table_html(EXPLORE_HEADERS, [list(e.values()) for e in summary["explore"]]) if summary["explore"] else ""}
<h2>Figures</h2>{"".join(figs)}
{"<h2>Boards of one kind: the reference cell on each board (fleet)</h2><p>" + html.escape(BOARD_TEXT) + "</p>" + _table_html(BOARD_HEADERS, [list(b.values()) for b in summary["board_spread"]]) if summary.get("board_spread") else ""}
<h2>Environment</h2>{_table_html(["key", "value"], env_rows)}
<h2>Time of each step</h2>{_table_html(["step", "time"], steps)}
<h2>Where the time went</h2>{time_bar_html(summary["time_by_technique"])}{_table_html(list(summary["time_by_technique"][0]) if summary["time_by_technique"] else [], [list(t.values()) for t in summary["time_by_technique"]])}
<h2>Threats to validity</h2><ul>{"".join(f"<li>{html.escape(t)}</li>" for t in summary["threats"])}</ul>
<h2>Inconsistencies in the paper</h2><ul>{"".join(f"<li><b>{html.escape(i['where'])}</b>: {html.escape(i['what'])}</li>" for i in inconsistencies)}</ul>
<script type="application/json" id="summary">{html.escape(json.dumps(summary["counts"]))}</script>
</body></html>"""
