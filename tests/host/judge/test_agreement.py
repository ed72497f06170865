import copy

from artifact.core.paths import PROJECT_ROOT
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


def test_a_reading_the_reference_measured_but_could_not_use_may_be_judged_here():
    """The smoke reference's energy was measured on an emulated waveform and SKIPPED as not physical (idle noise):
    a run whose reading is usable is not 'measuring something the reference could not'. A reference without
    the sensor at all still makes a newly judged claim a disagreement (the test above)."""
    unusable = doc(("energy", "energy_j", "SKIPPED", None, "cell_x: energy_j 2.27e-05 is not physical (not above "
                                                         "zero beyond its noise: the model drew no more than idle)"),
                   ("peak", "power_peak_w", "SKIPPED", None, "power sensor stuck: the same reading (3.000 W) for "
                                                            "the cell's 1.5 s while the model ran"))
    run = doc(("energy", "energy_j", "FAIL", -40.0, ""), ("peak", "power_peak_w", "PASS", 9.0, ""))
    assert disagreements(run, unusable) == []
    assert disagreements(unusable, run) == ["energy: FAIL in the reference, SKIPPED here: " +
                                            unusable["verdicts"][0]["explanation"],
                                            "peak: PASS in the reference, SKIPPED here: " +
                                            unusable["verdicts"][1]["explanation"]]


def test_exact_metrics_tolerate_one_percent():
    run = copy.deepcopy(REFERENCE)
    run["verdicts"][0]["measured"] = 74.3 * 1.005
    assert disagreements(run, REFERENCE) == []


def test_check_against_a_reference_exits_1_on_disagreement(tmp_path, capsys):
    import os
    import shutil

    from artifact.cli import main

    root = PROJECT_ROOT
    reference = os.path.join(root, "expected_results", "reference")
    results = tmp_path / "smoke"
    shutil.copytree(os.path.join(reference, "smoke"), results)
    assert main(["check", "--profile", "smoke", "--results", str(results),
                 "--against", os.path.join(reference, "smoke")]) == 0
    assert main(["check", "--profile", "smoke", "--results", str(results),
                 "--against", os.path.join(reference, "embedded")]) == 1
    assert "NOT-RUN here" in capsys.readouterr().out
    assert main(["check", "--profile", "smoke", "--results", str(results), "--against", str(tmp_path)]) == 2


def _with_paired_ratio(results, key, ratio, ci):
    import json

    from artifact.host.judge.rederive import half_width

    path = results / "records" / (key + ".json")
    data = json.loads(path.read_text())
    timing = data["measurements"]["inference_time_s"]
    reference = timing["notes"]["paired_reference_s"]
    pattern = [(0.0, 1.0, -1.0)[i % 3] for i in range(len(reference))]  # median and mean ratio: `ratio`
    wobble = ci / half_width([1.0 + d for d in pattern])  # sets the ratios' relative 95% interval to `ci`
    timing["samples"] = [b * ratio * (1 + wobble * d) for b, d in zip(reference, pattern)]
    for summary in ("paired_ratio", "paired_ratio_ci95_relative", "ci95_relative", "ci95_half_width_s"):
        timing["notes"].pop(summary, None)  # the judge derives them from the windows
    path.write_text(json.dumps(data))


def test_paired_time_ratios_beyond_both_intervals_are_timing_disagreements(tmp_path, capsys):
    import os
    import shutil

    from artifact.cli import main
    from artifact.core.results import ResultsDir
    from artifact.host.judge.agreement import timing_disagreements

    root = PROJECT_ROOT
    reference = os.path.join(root, "expected_results", "reference", "smoke")
    here, there = tmp_path / "here", tmp_path / "there"
    shutil.copytree(reference, here)
    shutil.copytree(reference, there)
    key = "mini_vgg__quantize__bits-8"
    _with_paired_ratio(here, key, 1.25, 0.03)
    _with_paired_ratio(there, key, 1.27, 0.03)   # 0.02 apart, intervals 0.0375 and 0.038: agree
    assert timing_disagreements(ResultsDir(str(here)).load_records(), ResultsDir(str(there)).load_records()) == []
    _with_paired_ratio(there, key, 1.02, 0.03)   # 0.23 apart: a 1.25x slowdown is not a 1.02x one
    found = timing_disagreements(ResultsDir(str(here)).load_records(), ResultsDir(str(there)).load_records())
    assert len(found) == 1 and found[0].startswith(key + ": paired time ratio 1.250 here, 1.020 in the reference")
    args = ["check", "--profile", "smoke", "--results", str(here), "--against", str(there)]
    assert main(args) == 0   # printed, not failed: two machines time differently
    out = capsys.readouterr().out
    assert "timing differs from" in out and "give --strict-timing to fail on them" in out
    assert main(args + ["--strict-timing"]) == 1
