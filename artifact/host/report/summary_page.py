"""The reproduction summary over every profile that ran: one page, one verdict per claim.

It opens with what each section of the paper reproduced (and why not), then the claims grouped by
section, with buttons that show only one verdict. Data: artifact.host.judge.combine.
"""
import html

from tabulate import tabulate

from artifact.core.atomic import write_atomic
from artifact.core.jsonfile import write_json_atomic
from artifact.core.results import SummaryDir
from artifact.host.judge.combine import section_of
from artifact.host.judge.verdicts import OUTCOMES

SECTION_HEADERS = ["section", "status", "claims", "judged", "not judged here", "why"]
CLAIM_HEADERS = ["claim", "verdict", "from", "other runs", "why"]
SCRIPT = """<script>
function only(outcome) {
  document.querySelectorAll('tr[data-outcome]').forEach(function (row) {
    row.style.display = (!outcome || row.dataset.outcome === outcome) ? '' : 'none';
  });
}
</script>"""


def _claim_row(v):
    return [v["claim_id"], v["outcome"], v["profile"], "; ".join(v["also"]) or "—", v["explanation"][:200]]


def render_summary(data: dict, out: str, line: str) -> None:
    folder = SummaryDir(out)
    write_json_atomic(folder.summary_json, data)
    sections = [[s[h] for h in SECTION_HEADERS] for s in data["sections"]]
    by_section: dict = {}
    for v in data["verdicts"]:
        by_section.setdefault(section_of(v["source"]), []).append(v)
    md = ["# The paper, claim by claim: one answer each", "",
          "**Verdicts (one per claim, over {}):** {}".format(", ".join(data["runs"]), line), "",
          "## What each section of the paper reproduced", "", tabulate(sections, SECTION_HEADERS, tablefmt="github"),
          ""]
    for section, verdicts in by_section.items():
        md += [f"## {section}", "", tabulate([_claim_row(v) for v in verdicts], CLAIM_HEADERS, tablefmt="github"), ""]
    write_atomic(folder.summary_md, "\n".join(md))

    def cells(row):
        return "".join(f"<td>{html.escape(str(c))}</td>" for c in row)

    head = "".join(f"<th>{html.escape(h)}</th>" for h in CLAIM_HEADERS)
    groups = "".join(
        f"<h3>{html.escape(section)}</h3><table><tr>{head}</tr>"
        + "".join(f'<tr data-outcome="{html.escape(v["outcome"])}">{cells(_claim_row(v))}</tr>' for v in verdicts)
        + "</table>" for section, verdicts in by_section.items())
    buttons = " ".join(f'<button onclick="only(\'{o}\')">{o}</button>' for o in OUTCOMES) + \
        ' <button onclick="only(\'\')">all</button>'
    section_rows = "".join(f"<tr>{cells(row)}</tr>" for row in sections)
    section_head = "".join(f"<th>{html.escape(h)}</th>" for h in SECTION_HEADERS)
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>Reproduction summary</title>{SCRIPT}</head>"
            f"<body><h1>The paper, claim by claim</h1><p><b>Verdicts:</b> {html.escape(line)}</p>"
            f"<h2>What each section of the paper reproduced</h2><table><tr>{section_head}</tr>{section_rows}</table>"
            f"<h2>Claims by section</h2><p>Show only: {buttons}</p>{groups}</body></html>")
    write_atomic(folder.index_html, page)
