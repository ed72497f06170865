import copy

from artifact.host.judge.agreement import disagreements


def doc(*verdicts):
    return {"verdicts": [dict(zip(("claim_id", "metric", "outcome", "measured", "explanation"), v))
                         for v in verdicts]}


REFERENCE = doc(("size", "storage_bytes", "PASS", 74.3, ""), ("time", "inference_time_s", "DEVIATION", 12.0, ""),
                ("energy", "energy_j", "SKIPPED", None, "no sensor"), ("t1", "top1", "NOT-RUN", None, "no cell"))


def test_identical_runs_agree_and_noisy_metrics_may_move():
    moved = copy.deepcopy(REFERENCE)
    moved["verdicts"][1].update(outcome="FAIL", measured=-3.0)  # timing noise is the claim rule's business
    assert disagreements(REFERENCE, REFERENCE) == []
    assert disagreements(moved, REFERENCE) == []


def test_lost_experiment_exact_metric_change_and_new_judgement_are_named():
    run = doc(("size", "storage_bytes", "PASS", 70.0, ""), ("time", "inference_time_s", "SKIPPED", None, "crashed"),
              ("energy", "energy_j", "PASS", 1.0, ""))
    problems = "\n".join(disagreements(run, REFERENCE))
    assert "size: exact metric storage_bytes moved" in problems
    assert "time: DEVIATION in the reference, SKIPPED here: crashed" in problems
    assert "energy: SKIPPED in the reference but judged here" in problems
    assert "t1: in the reference verdicts, absent here" in problems


def test_exact_metrics_tolerate_one_percent():
    run = copy.deepcopy(REFERENCE)
    run["verdicts"][0]["measured"] = 74.3 * 1.005
    assert disagreements(run, REFERENCE) == []


def test_check_against_a_reference_exits_1_on_disagreement(tmp_path, capsys):
    import os
    import shutil

    from artifact.cli import main

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reference = os.path.join(root, "expected_results", "reference")
    results = tmp_path / "smoke"
    shutil.copytree(os.path.join(reference, "smoke"), results)
    assert main(["check", "--profile", "smoke", "--results", str(results),
                 "--against", os.path.join(reference, "smoke")]) == 0
    assert main(["check", "--profile", "smoke", "--results", str(results),
                 "--against", os.path.join(reference, "embedded")]) == 1
    assert "NOT-RUN here" in capsys.readouterr().out
    assert main(["check", "--profile", "smoke", "--results", str(results), "--against", str(tmp_path)]) == 2
