"""One answer per claim over every profile that ran (artifact/host/judge/combine.py, `artifact summary`)."""
import json
import os

from artifact.cli import main
from artifact.host.judge.combine import combine, section_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "expected_results", "reference")
RUNS = [os.path.join(REFERENCE, "embedded"), os.path.join(REFERENCE, "paper")]


def test_one_verdict_per_claim_from_the_most_faithful_evidence():
    data = combine(RUNS)
    ids = [v["claim_id"] for v in data["verdicts"]]
    assert len(ids) == len(set(ids)) == 92
    by_id = {v["claim_id"]: v for v in data["verdicts"]}
    storage = by_id["II-B/quantize-8bit/storage"]   # FAILs on the mini stand-ins, PASSes on the real models
    assert storage["profile"] == "paper" and storage["outcome"] == "PASS" and storage["also"] == ["embedded: FAIL"]
    bleu = by_id["IV-G/prune/bleu-drop"]   # measured on the mini NMT only: judged beats SKIPPED
    assert bleu["profile"] == "embedded" and bleu["outcome"] != "SKIPPED"
    assert sum(data["counts"].values()) == 92


def test_sections_say_what_reproduced_and_why_not():
    sections = {s["section"]: s for s in combine(RUNS)["sections"]}
    assert sections["IV-F"]["status"] == "not testable here" and "power sensor" in sections["IV-F"]["why"]
    assert sections["IV-J"]["status"] == "partly" and "IV-J/combined/vgg-faster FAIL" in sections["IV-J"]["why"]
    assert section_of("§IV-C, Fig 13a") == "IV-C" and section_of("Table I") == "Table I"


def test_the_summary_command_writes_one_page_and_one_line(tmp_path, capsys):
    assert main(["summary", "--results", ",".join(RUNS), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verdicts (one per claim, embedded + paper): ")
    data = json.loads((tmp_path / "summary.json").read_text())
    assert len(data["verdicts"]) == 92 and (tmp_path / "index.html").stat().st_size > 5000
    assert "## What each section of the paper reproduced" in (tmp_path / "summary.md").read_text()


def test_the_page_groups_claims_by_section_with_a_verdict_filter(tmp_path):
    main(["summary", "--results", ",".join(RUNS), "--out", str(tmp_path)])
    page = (tmp_path / "index.html").read_text()
    assert page.count('<tr data-outcome="') == 92 and "onclick=\"only('FAIL')\"" in page
    assert "<h3>IV-E</h3>" in page and "<h3>Table I</h3>" in page
