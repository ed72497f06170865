"""One answer per claim over every profile that ran (artifact/host/judge/combine.py, `artifact summary`)."""
import json
import os

from artifact.cli import main
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.host.judge.combine import combine, section_of

REFERENCE = os.path.join(ROOT, "expected_results", "reference")
RUNS = [os.path.join(REFERENCE, "embedded"), os.path.join(REFERENCE, "paper")]


def test_one_verdict_per_claim_from_the_most_faithful_evidence():
    data = combine(RUNS)
    ids = [v["claim_id"] for v in data["verdicts"]]
    assert len(ids) == len(set(ids)) == 92
    by_id = {v["claim_id"]: v for v in data["verdicts"]}
    storage = by_id["II-B/quantize-8bit/storage"]   # FAILs on the mini stand-ins, PASSes on the real models
    assert storage["profile"] == "paper" and storage["outcome"] == "PASS"
    assert storage["also"] == ["embedded: FAIL (stand-in)"]
    bleu = by_id["IV-G/prune/bleu-drop"]   # measured on the mini NMT only: judged beats SKIPPED
    assert bleu["profile"] == "embedded" and bleu["outcome"] != "SKIPPED"
    assert sum(data["counts"].values()) == 92


def test_sections_say_what_reproduced_and_why_not():
    sections = {s["section"]: s for s in combine(RUNS)["sections"]}
    assert sections["IV-F"]["status"] == "not testable here" and "power sensor" in sections["IV-F"]["why"]
    assert sections["IV-J"]["status"] == "partly on an x86 CPU"
    assert "IV-J/combined/vgg-faster FAIL" in sections["IV-J"]["why"]
    assert section_of("§IV-C, Fig 13a") == "IV-C" and section_of("Table I") == "Table I"


def test_the_summary_command_writes_one_page_and_one_line(tmp_path, capsys):
    assert main(["summary", "--results", ",".join(RUNS), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verdicts (one per claim, embedded + paper): ")
    assert "\nevidence: judged 60 of 92 claims: 28 on the paper's models" in out and "15 on stand-ins only" in out
    data = json.loads((tmp_path / "summary.json").read_text())
    assert len(data["verdicts"]) == 92 and (tmp_path / "index.html").stat().st_size > 5000
    assert "## What each section of the paper reproduced" in (tmp_path / "summary.md").read_text()


def test_the_page_groups_claims_by_section_with_a_verdict_filter(tmp_path):
    main(["summary", "--results", ",".join(RUNS), "--out", str(tmp_path)])
    page = (tmp_path / "index.html").read_text()
    assert page.count('<tr data-outcome="') == 92 and "onclick=\"only('FAIL')\"" in page
    assert "<h3>IV-E</h3>" in page and "<h3>Table I</h3>" in page
    assert "<th>grade</th>" in page and "<td>stand-in (model stand-in; x86 CPU; clean)</td>" in page
    assert "<b>Evidence:</b> judged 60 of 92 claims" in page
    assert "| stand-in (model stand-in; x86 CPU; clean) |" in (tmp_path / "summary.md").read_text()


SMOKE = os.path.join(REFERENCE, "smoke")   # an x86 machine reading an EMULATED TX2 sensor tree


def test_an_emulated_sensor_never_answers_for_the_paper():
    """The smoke run's power verdicts come from a test waveform: beside the answer, never the answer (issue 29)."""
    data = combine([SMOKE] + RUNS)
    sections = {s["section"]: s for s in data["sections"]}
    assert sections["IV-F"]["status"] == "not testable here", sections["IV-F"]
    for v in data["verdicts"]:
        assert v["profile"] != "smoke" and v["grade"].get("level") != "emulated", v["claim_id"]
    by_id = {v["claim_id"]: v for v in data["verdicts"]}
    assert "smoke: PASS (emulated)" in by_id["IV-F/prune/peak-power"]["also"]
    only_smoke = combine([SMOKE])
    energy = {v["claim_id"]: v for v in only_smoke["verdicts"]}["II-B/prune/energy"]
    assert energy["outcome"] == "SKIPPED" and "EMULATED power sensor" in energy["explanation"]


def test_more_of_the_claims_models_win_between_equal_grades():
    """The smoke run's one stand-in no longer outranks the embedded run's several (it used to, as a 'Jetson')."""
    by_id = {v["claim_id"]: v for v in combine([SMOKE] + RUNS)["verdicts"]}
    for v in by_id.values():
        if v["grade"].get("level") == "stand-in":
            assert v["profile"] == "embedded", (v["claim_id"], v["profile"])


def test_stand_ins_are_shown_as_such_and_never_make_a_section_reproduced():
    data = combine(RUNS)
    sections = {s["section"]: s for s in data["sections"]}
    assert sections["IV-H"]["status"] == "stand-ins only" and sections["IV-H"]["judged"] == 0
    assert sections["II-B"]["status"] == "partly on an x86 CPU"   # times of the paper's VGG, but not on a TX2
    assert sections["Table I"]["status"] == "partly"   # parameter counts: no platform changes them
    for v in data["verdicts"]:
        if v["outcome"] in ("PASS", "DEVIATION", "FAIL"):
            assert v["grade_text"].startswith(v["grade"]["level"]) and v["grade"]["platform"] == "x86 CPU"
            assert v["grade"]["model"] == ("stand-in" if v["profile"] == "embedded" else "paper, untrained")


def test_the_evidence_line_says_how_many_answers_rest_on_flagged_measurements():
    """A flagged measurement (no convergence, a busy machine) is counted at its grade, as adequate evidence: the
    line says how many answers stand on one, and that they were counted."""
    from artifact.host.judge.combine import evidence_line

    data = combine(RUNS)
    flagged = [v for v in data["verdicts"] if v["outcome"] in ("PASS", "DEVIATION", "FAIL") and v["flags"]]
    assert flagged   # the paper run's GNMT and VGG 6-bit timings did not converge
    assert evidence_line(data).endswith(f"; {len(flagged)} of the judged rest on flagged measurements (counted at "
                                        "their grade: a flag is shown beside the answer, it does not disqualify it)")
    data["verdicts"] = [dict(v, flags=[], grade=dict(v["grade"], quality="clean")) for v in data["verdicts"]]
    assert "; 0 of the judged rest on flagged measurements" in evidence_line(data)


def test_a_long_reason_is_cut_at_a_word_with_an_ellipsis():
    from artifact.host.judge.combine import _section

    reason = ("no power sensor: no INA3221 under /sys/bus/i2c/drivers/ina3221x and no hwmon rail named VDD_IN, "
              "so the model drew no measurable power; set --power-sensor")
    skipped = {"claim_id": "IV-F/x", "outcome": "SKIPPED", "grade": {"level": "none"}, "explanation": reason}
    why = _section([skipped])["why"]
    assert len(reason.split(";")[0]) > 120
    assert why.endswith(" …") and len(why) <= 120 and reason.startswith(why[:-2])
    assert reason[len(why) - 2] == " ", why   # cut between words, not inside one


def test_the_summary_sweeps_what_a_killed_summary_left_in_its_folder(tmp_path):
    """summary takes no lock: it sweeps its own temporary files (.tmp-*-summary.json, -summary.md, -index.html) when
    it writes; a file of the user's in the folder is kept."""
    out = tmp_path / "out"
    out.mkdir()
    leftovers = [out / ".tmp-abc123-summary.json", out / ".tmp-x-summary.md", out / ".tmp-y-index.html"]
    for path in leftovers:
        path.write_text("{")
    mine = out / "notes.txt"
    mine.write_text("mine")
    assert main(["summary", "--results", SMOKE, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notes.txt", "summary.json", "summary.md"]
