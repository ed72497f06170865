"""The reproduction summary over every profile that ran: one page, one verdict per claim.

It opens with what each section of the paper reproduced (and why not), counted on evidence of adequate
grade only, then the claims grouped by section, each with the grade of its evidence (artifact.host.judge.grade),
with buttons that show only one verdict. Data: artifact.host.judge.combine.
"""
import html

from tabulate import tabulate

from artifact.core.atomic import write_atomic
from artifact.core.jsonfile import write_json_atomic
from artifact.core.results import SummaryDir
from artifact.host.judge.combine import clip, section_of
from artifact.host.report.first_screen import (
    SCRIPT,
    STYLE,
    filter_buttons,
    forest_html,
    in_paper_order,
    paper_order,
    sections_html,
)

SECTION_HEADERS = ["section", "status", "claims", "judged", "not judged here", "why"]
CLAIM_HEADERS = ["claim", "verdict", "grade", "from", "other runs", "why"]


def _claim_row(v):
    return [v["claim_id"], v["outcome"], v["grade_text"], v["profile"], "; ".join(v["also"]) or "—",
            clip(v["explanation"], 240)]


def render_summary(data: dict, out: str, line: str, evidence: str = "") -> None:
    folder = SummaryDir(out)
    folder.remove_leftovers()   # what a killed summary left (it takes no lock)
    write_json_atomic(folder.summary_json, data)
    ordered = sorted(data["sections"], key=lambda s: paper_order(s["section"]))
    sections = [[s[h] for h in SECTION_HEADERS] for s in ordered]
    by_section: dict = {}
    for v in in_paper_order(data["verdicts"]):
        by_section.setdefault(section_of(v["source"]), []).append(v)
    md = ["# The paper, claim by claim: one answer each", "",
          "**Verdicts (one per claim, over {}):** {}".format(", ".join(data["runs"]), line), "",
          f"**Evidence:** {evidence}" if evidence else "", "",
          "## What each section of the paper reproduced", "", tabulate(sections, SECTION_HEADERS, tablefmt="github"),
          ""]
    for section, verdicts in by_section.items():
        md += [f"## {section}", "", tabulate([_claim_row(v) for v in verdicts], CLAIM_HEADERS, tablefmt="github"), ""]
    write_atomic(folder.summary_md, "\n".join(md))

    def cells(row):
        return "".join(f'<td{" class=v-" + html.escape(str(c)) if h == "verdict" else ""}>{html.escape(str(c))}</td>'
                       for h, c in zip(CLAIM_HEADERS, row))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in CLAIM_HEADERS)
    groups = "".join(
        f"<h3>{html.escape(section)}</h3><table><tr>{head}</tr>"
        + "".join(f'<tr data-outcome="{html.escape(v["outcome"])}">{cells(_claim_row(v))}</tr>' for v in verdicts)
        + "</table>" for section, verdicts in by_section.items())
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>Reproduction summary</title>"
            f"<style>{STYLE}</style>{SCRIPT}</head>"
            f"<body><h1>The paper, claim by claim</h1><p class=\"summary\"><b>Verdicts (one per claim, over "
            f"{html.escape(', '.join(data['runs']))}):</b> {html.escape(line)}</p>"
            f"<p class=\"summary\"><b>Evidence:</b> {html.escape(evidence)}</p>"
            f"<h2>What each section of the paper reproduced</h2>{sections_html(data['sections'])}"
            f"<h2>Every judged claim against the paper</h2>{forest_html(data['verdicts'])}"
            f"<h2>Claims by section, in the paper's order</h2>{filter_buttons()}{groups}</body></html>")
    write_atomic(folder.index_html, page)
