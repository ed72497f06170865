"""Boards of one kind differ (issue 28): a fleet's per-board reference cells in the report, and the board named
in each verdict's evidence. A copy of the frozen smoke reference stands for a fleet run of two tx2 boards."""
import json
import os
import shutil

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.results import ResultsDir
from artifact.host.judge.check import check
from artifact.host.judge.grade import describe
from artifact.host.report.board_spread import spread_rows
from artifact.host.report.render import render_report

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")
REFERENCE = "mini_vgg__baseline__fp32"


def fleet_run(tmp_path, boards=("tx2-a", "tx2-b"), slower=1.5):
    """The smoke reference as if measured by a fleet: each record stamped with a board (round robin), each board's
    reference cell kept under fleet/references/ (the second board `slower` times the first)."""
    results = ResultsDir(str(tmp_path / "smoke"))
    shutil.copytree(SMOKE, results.path)
    for i, name in enumerate(sorted(os.listdir(results.records))):
        path = os.path.join(results.records, name)
        with open(path) as handle:
            data = json.load(handle)
        data["environment"].update(fleet_board=boards[i % len(boards)], fleet_board_kind="tx2",
                                   board_serial="SN-" + boards[i % len(boards)])
        with open(path, "w") as handle:
            json.dump(data, handle)
    with open(results.record_file(REFERENCE)) as handle:
        base = json.load(handle)
    for i, board in enumerate(boards):
        data = json.loads(json.dumps(base))
        data["environment"].update(fleet_board=board, board_serial="SN-" + board)
        timing = data["measurements"]["inference_time_s"]
        timing["samples"] = [s * (slower ** i) for s in timing["samples"]]
        os.makedirs(os.path.dirname(results.fleet.reference_record(board, REFERENCE)), exist_ok=True)
        with open(results.fleet.reference_record(board, REFERENCE), "w") as handle:
            json.dump(data, handle)
    return results, base


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def test_the_report_shows_the_spread_of_the_boards_of_one_kind(tmp_path):
    results, base = fleet_run(tmp_path)
    rows = spread_rows(results)
    first = median(base["measurements"]["inference_time_s"]["samples"])
    assert [r[:4] for r in rows] == [["tx2-a", "tx2", "SN-tx2-a", REFERENCE], ["tx2-b", "tx2", "SN-tx2-b", REFERENCE]]
    assert rows[0][4] == f"{first * 1e3:.3f} ms" and rows[1][4] == f"{first * 1.5 * 1e3:.3f} ms"
    assert [r[5] for r in rows] == [f"{1 / 1.25:.3f}", f"{1.5 / 1.25:.3f}"]   # to the median of the two boards
    assert [r[6] for r in rows] == [2, 1]   # the committed records each board measured (3 cells, round robin)
    check(results.path)
    summary = render_report(results)
    assert [b["board"] for b in summary["board_spread"]] == ["tx2-a", "tx2-b"]
    with open(results.report_md) as handle:
        md = handle.read()
    assert "## Boards of one kind: the reference cell on each board (fleet)" in md and "SN-tx2-b" in md
    assert "; boards tx2-a, tx2-b)" in md   # the claim table's grade names the boards of its evidence
    with open(results.report_html) as handle:
        assert "SN-tx2-b" in handle.read()


def test_one_board_of_a_kind_shows_no_spread_and_a_run_without_a_fleet_no_section(tmp_path):
    results, _ = fleet_run(tmp_path, boards=("tx2-a",))
    assert spread_rows(results) == []
    plain = ResultsDir(str(tmp_path / "plain"))
    shutil.copytree(SMOKE, plain.path)
    assert spread_rows(plain) == []
    check(plain.path)
    assert "board_spread" not in render_report(plain)


def test_each_verdict_names_the_boards_its_evidence_was_measured_on(tmp_path):
    results, _ = fleet_run(tmp_path)
    stamped = {k: r.environment["fleet_board"] for k, r in results.load_records().items()}
    graded = [v for v in check(results.path)["verdicts"] if v["grade"]]
    assert graded and any(len(v["grade"]["boards"]) == 2 for v in graded)
    for v in graded:
        boards = sorted({stamped[k] for k in v["evidence"] if k in stamped})
        assert v["grade"]["boards"] == boards
        assert ("board " if len(boards) == 1 else "boards ") + ", ".join(boards) in describe(v["grade"])
    # a run that no fleet measured: no board named
    plain = ResultsDir(str(tmp_path / "plain"))
    shutil.copytree(SMOKE, plain.path)
    assert all("boards" not in v["grade"] for v in check(plain.path)["verdicts"])
