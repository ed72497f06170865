"""The first screen of the report and of the summary page: what each section of the paper reproduced, then a
forest plot of every judged claim (measured against the paper, with the claim's tolerance and outer band,
coloured by verdict); and the paper's order, in which the claims are listed after them.

One style for both pages (`STYLE`, `SCRIPT`); the verdict colours of the tables are the CSS ones below, the
forest plot's markers darker shades of them (so a screenshot tells a plot from a table cell).
"""
import base64
import html
import io
import re

from artifact.host.judge.combine import clip, section_of

JUDGED = ("PASS", "DEVIATION", "FAIL")
MARKER = {"PASS": "#2e8b57", "DEVIATION": "#c99700", "FAIL": "#c0392b"}
TOLERANCE_FILL, OUTER_FILL = "#e3f1e3", "#f7efd9"
CLIP = 1.5   # the plot's x range: ±150% of the paper's value; further points sit on the edge, with their value
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7}

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#eee}
.v-PASS{background:#c8f0c8}.v-FAIL{background:#f5b5b5}.v-DEVIATION{background:#fbe3a8}
.v-SKIPPED{background:#ddd}.v-NOT-RUN{background:#eee;color:#777}img{max-width:100%;border:1px solid #ddd}
.summary{font-size:18px;padding:.5em;background:#f4f4f4}
.s-reproduced{background:#a9dfa9}.s-partly{background:#f3d98e}.s-not-reproduced{background:#ee9d9d}
.s-not-testable-here{background:#dde3ec;color:#555}.s-stand-ins-only{background:#e8e0f0;color:#555}
table.sections td{font-size:13px}
img.forest,img.plot{border:none;max-width:100%}button{margin:0 2px}"""
SCRIPT = """<script>
function only(outcome) {
  document.querySelectorAll('tr[data-outcome]').forEach(function (row) {
    row.style.display = (!outcome || row.dataset.outcome === outcome) ? '' : 'none';
  });
}
</script>"""
OUTCOME_BUTTONS = ("PASS", "DEVIATION", "FAIL", "SKIPPED", "NOT-RUN")


def paper_order(source):
    """A sort key putting a claim's source in the paper's order: §II-B, Table I (§III-A), §IV-B ... §IV-J, §V."""
    section = section_of(source or "")
    if section.startswith("Table"):
        return (3, "A")
    match = re.match(r"([IVX]+)-([A-Z])", section)
    if match:
        return (ROMAN.get(match.group(1), 9), match.group(2))
    return (9, section)


def in_paper_order(verdicts, source=lambda v: v["source"]):
    """The verdicts sorted by the paper's section order, stable within a section."""
    return sorted(verdicts, key=lambda v: paper_order(source(v)))


def filter_buttons():
    return ("<p>Show only: " + " ".join(f'<button onclick="only(\'{o}\')">{o}</button>' for o in OUTCOME_BUTTONS)
            + ' <button onclick="only(\'\')">all</button></p>')


STATUSES = ("not reproduced", "not testable here", "stand-ins only", "reproduced", "partly")


def status_class(status):
    """The CSS class of a section status: its leading status words ("partly on an x86 CPU" is coloured as partly)."""
    return next((s for s in STATUSES if status.startswith(s)), "unknown").replace(" ", "-")


def sections_html(sections):
    """The per-section table: status coloured (reproduced / partly / not reproduced / not testable here)."""
    rows = []
    for s in sorted(sections, key=lambda s: paper_order(s["section"])):
        status = html.escape(s["status"])
        why = clip(s["why"], 220)
        rows.append(f'<tr><td>{html.escape(s["section"])}</td><td class="s-{status_class(s["status"])}">{status}</td>'
                    f'<td>{s["judged"]} of {s["claims"]}</td><td>{html.escape(why)}</td></tr>')
    return ('<table class="sections"><thead><tr><th>section of the paper</th><th>status</th><th>claims judged</th>'
            f'<th>why</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _bands(verdict, rule):
    """(tolerance band, outer band) as (low, high) fractions of the paper's value, or None where the rule has none
    (an ordering is judged on the side of 1 and the noise; a binomial drop on the samples' standard error)."""
    if rule is None:
        return None, None
    paper = abs(verdict["paper_value"]) or 1.0
    scale = 1.0 if rule.kind == "relative" else 1.0 / paper
    tol = rule.tolerance * scale
    outer = rule.outer_band()
    outer = None if outer is None else outer * scale
    if rule.kind in ("absolute", "relative", "direction"):
        return (-tol, tol), (None if outer is None else (-outer, outer))
    if rule.kind == "at_least":
        return (-tol, CLIP), (None if outer is None else (-outer, CLIP))
    if rule.kind == "at_most":
        return (-CLIP, tol), (None if outer is None else (-CLIP, outer))
    if rule.kind == "ordering":
        return ((-CLIP, 0.0) if rule.relation == "<" else (0.0, CLIP)), None
    return None, None


def forest_rows(verdicts, rules):
    """(label, outcome, x, tolerance band, outer band) of every judged claim with a number, in the paper's order;
    x = (measured - paper) / |paper| (an ordering's ratio: ratio - 1)."""
    rows = []
    for v in in_paper_order([v for v in verdicts if v["outcome"] in JUDGED and v.get("measured") is not None]):
        paper = v["paper_value"]
        x = (v["measured"] - paper) / abs(paper) if paper else v["measured"]
        tolerance, outer = _bands(v, rules.get(v["claim_id"]))
        rows.append((v["claim_id"], v["outcome"], x, tolerance, outer))
    return rows


def forest_figure(rows):
    from artifact.host.report.figures import plt

    height = 0.9 + 0.17 * max(1, len(rows))
    fig, ax = plt.subplots(figsize=(10, height))
    for y, (_, outcome, x, tolerance, outer) in enumerate(rows):
        if outer:
            ax.fill_betweenx([y - 0.42, y + 0.42], *outer, color=OUTER_FILL, lw=0)
        if tolerance:
            ax.fill_betweenx([y - 0.42, y + 0.42], *tolerance, color=TOLERANCE_FILL, lw=0)
        shown = max(-CLIP, min(CLIP, x))
        edge = shown != x
        ax.plot([shown], [y], marker=(">" if x > 0 else "<") if edge else "o", color=MARKER[outcome], ms=5)
        if edge:
            ax.annotate(f"{x:+.0%}", (shown, y), xytext=(-4 if x > 0 else 4, 0), textcoords="offset points",
                        ha="right" if x > 0 else "left", va="center", fontsize=6, color=MARKER[outcome])
    ax.axvline(0, color="#444", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=6.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-CLIP * 1.02, CLIP * 1.02)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:+.0%}" if v else "paper"))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("measured − paper, as a share of the paper's value (an ordering: ratio − 1); shaded: green = "
                  "tolerance (PASS), sand = outer band (DEVIATION)", fontsize=7)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=o) for o, c in MARKER.items()]
    ax.legend(handles=handles, loc="lower right", fontsize=7, ncol=3, frameon=False,
              bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Every judged claim against the paper", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def forest_html(verdicts):
    """The forest plot as an embedded PNG (the page stays self-contained), or a line saying nothing was judged."""
    from artifact.host.judge.claims import load_claims
    from artifact.host.report.figures import plt

    rules = {c.id: c.rule for c in load_claims()}
    rows = forest_rows(verdicts, rules)
    if not rows:
        return "<p>No claim could be judged in this run (every claim SKIPPED or NOT-RUN).</p>"
    fig = forest_figure(rows)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img class="forest" id="forest" alt="forest plot of the judged claims" src="data:image/png;base64,{data}">'
