"""Tolerance checks in CI on committed reference results (expected_results/reference/<profile>).

Those are the records of a real `invoke reproduce-all` on the project's machine, frozen with
`invoke freeze-reference`. These tests judge them again with today's claims and checker and render
the report from them: a change in a claim, a tolerance rule or the checker that moves a verdict shows
up here, claim by claim. If the change is intended: `invoke check` on fresh results (or a full
`invoke reproduce-all`), then `invoke freeze-reference`, and commit.
"""
import json
import math
import os
import shutil

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.host.judge.check import check, load_verdicts
from artifact.host.judge.verdicts import FAIL, NOT_RUN, PASS
from artifact.host.report.render import render_report

REFERENCE = os.path.join(ROOT, "expected_results", "reference")
PROFILES = sorted(os.listdir(REFERENCE)) if os.path.isdir(REFERENCE) else []
PAPER_FIGURES = {"fig05_motivation", "fig06_operations", "fig13_quantization", "fig20_pruning", "fig24_thresholds",
                 "fig27_memory", "fig28_dequantization", "fig41_combined"}
FIX = "if intended: `invoke check` on fresh results, then `invoke freeze-reference`, and commit"


def test_both_default_profiles_have_reference_results():
    # smoke: the CI slice the arm64 image runs under QEMU, judged against this native run (.ci/container-emulation)
    assert PROFILES == ["embedded", "paper", "smoke"]


@pytest.fixture(params=PROFILES)
def judged(request, tmp_path):
    src, results = os.path.join(REFERENCE, request.param), tmp_path / request.param
    shutil.copytree(src, results)
    with open(os.path.join(src, "verdicts.json")) as handle:
        frozen = json.load(handle)
    return request.param, str(results), frozen, check(str(results))


def test_todays_checker_gives_the_frozen_verdicts_claim_by_claim(judged):
    _, _, frozen, now = judged
    before = {v["claim_id"]: v for v in frozen["verdicts"]}
    after = {v["claim_id"]: v for v in now["verdicts"]}
    assert sorted(after) == sorted(before), f"claims added or removed: {set(after) ^ set(before)}; {FIX}"
    moved = []
    for cid, v in after.items():
        old = before[cid]
        same_value = (v["measured"] is None) == (old["measured"] is None) and (
            v["measured"] is None or math.isnan(v["measured"]) and math.isnan(old["measured"])
            or v["measured"] == pytest.approx(old["measured"], rel=1e-9, abs=1e-12))
        if v["outcome"] != old["outcome"] or not same_value:
            moved.append(f"{cid}: {old['outcome']} {old['measured']} -> {v['outcome']} {v['measured']}")
    assert not moved, "verdicts moved:\n" + "\n".join(moved) + "\n" + FIX
    assert now["counts"] == frozen["counts"]


def test_tolerances_hold_where_the_measurement_is_exact(judged):
    """Sizes and parameter counts are deterministic: the paper's storage cuts and Table I parameter
    counts must never FAIL on the real architectures; Table I claims are never judged on stand-ins."""
    profile, _, _, now = judged
    by_id = {v["claim_id"]: v for v in now["verdicts"]}
    if profile == "paper":
        for bits in (16, 8, 6):
            storage = [v for cid, v in by_id.items() if cid.endswith(f"quantize-{bits}bit/storage")]
            assert storage and all(v["outcome"] == PASS for v in storage), storage
        params = [v for cid, v in by_id.items() if cid.startswith("TableI/") and cid.endswith("/params")]
        # a parameter count FAILs only where the paper's number is another model's, and the claim says so
        assert len(params) == 11 and all(v["outcome"] != FAIL or "known:" in v["explanation"] for v in params)
        assert sorted(v["claim_id"] for v in params if v["outcome"] == FAIL) == [
            "TableI/inception_v4/params", "TableI/resnet_v1_101/params", "TableI/resnet_v1_152/params"]
        assert not [cid for cid, v in by_id.items() if v["outcome"] == NOT_RUN]
    else:
        assert all(v["outcome"] == NOT_RUN for cid, v in by_id.items() if cid.startswith("TableI/"))
    for v in now["verdicts"]:   # every non-PASS says why, every judged claim names its evidence
        assert v["explanation"]
        if v["measured"] is not None:
            assert v["evidence"], v["claim_id"]


def test_report_from_the_reference_results(judged):
    profile, results, _, now = judged
    summary = render_report(results)
    assert summary["counts"] == now["counts"]
    assert set(summary["figures"]) >= PAPER_FIGURES or profile != "paper"
    report = os.path.join(results, "report")
    with open(os.path.join(report, "report.md")) as handle:
        md = handle.read()
    with open(os.path.join(report, "index.html")) as handle:
        page = handle.read()
    _, verdicts = load_verdicts(results)
    for v in verdicts:   # every claim has its row, in both formats
        assert f"| {v.claim_id} " in md and f"<td>{v.claim_id}</td>" in page
    # the figures (<img alt=...>), and beside them the forest plot and the time bar (<img class=...>)
    assert page.count('<img alt="') == len(summary["figures"]) >= (5 if profile == "smoke" else 10)
    plots = 1 + ('alt="where the time went"' in page)   # the time bar only where the records kept their phases
    assert 'id="forest"' in page and page.count("data:image/png;base64,") == len(summary["figures"]) + plots
    assert page.count("<tr") >= len(verdicts) + len(summary["models"])
    with open(os.path.join(report, "summary.json")) as handle:
        line = json.load(handle)["verdict_line"]
    c = now["counts"]
    assert line.startswith(f"{c['PASS']} PASS, {c['DEVIATION']} DEVIATION, {c['FAIL']} FAIL, {c['NOT-RUN']} NOT-RUN, "
                           f"{c['SKIPPED']} SKIPPED")
