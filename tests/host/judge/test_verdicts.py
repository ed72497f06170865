import math

import pytest

from artifact.core.errors import FormatError
from artifact.core.paths import PROJECT_ROOT
from artifact.core.records import Measurement, Record
from artifact.host.judge.claims import load_claims, load_claims_file, parse_claim
from artifact.host.judge.rederive import half_width
from artifact.host.judge.verdicts import DEVIATION, FAIL, NOT_RUN, PASS, SKIPPED, RunView, apply_rule, judge


def claim(**over):
    entry = {"id": "c", "source": "§X", "statement": "s", "metric": "inference_time_s", "models": ["vgg_16"],
             "technique": "quantize", "setting": {"bits": 8}, "statistic": "change_pct", "paper_value": 40.0,
             "rule": {"kind": "direction", "tolerance": 10.0}}
    entry.update(over)
    return parse_claim(entry, "test.toml")


def rec(model, technique, setting, **metrics):
    slug = "_".join(f"{k}-{v}" for k, v in sorted(setting.items())) or "fp32"
    r = Record({"key": f"{model}__{technique}__{slug}", "model": model, "technique": technique, "setting": setting,
                "metrics": list(metrics)}, {})
    for metric, value in metrics.items():
        if isinstance(value, str):
            r.skip(metric, value)
        else:
            r.add(Measurement(metric, [value]))
    return r


def view(*records, stands_for=None):
    return RunView({r.key: r for r in records}, stands_for or {"mini_vgg": ["vgg_16"]})


def test_repo_claims_load_and_have_unique_ids():
    claims = load_claims()
    assert len(claims) >= 25
    assert len({c.id for c in claims}) == len(claims)


@pytest.mark.parametrize(("measured", "noise", "outcome"), [
    (45.0, None, PASS),        # within ±10 of +40
    (55.0, None, DEVIATION),   # right direction, 15 off: inside the outer band (2 x 10)
    (80.0, None, FAIL),        # right direction, 40 off: beyond it (the rule can FAIL)
    (0.5, None, FAIL),         # "+40%" measured as +0.5%: FAIL, not a deviation
    (-5.0, None, FAIL),        # the other way, resolved
    (-5.0, 8.0, DEVIATION),    # the other way but inside the measured noise: not resolved
    (5.0, 8.0, DEVIATION),     # the right way but inside the noise: not resolved either
    (math.nan, None, FAIL),
])
def test_direction_rule(measured, noise, outcome):
    assert apply_rule(claim(), measured, noise)[0] == outcome


@pytest.mark.parametrize(
    ("rule", "measured", "outcome"),
    [
        ({"kind": "absolute", "tolerance": 2.0}, 41.5, PASS),
        ({"kind": "absolute", "tolerance": 2.0}, 43.0, FAIL),
        ({"kind": "absolute", "tolerance": 2.0, "outer": 5.0}, 43.0, DEVIATION),
        ({"kind": "absolute", "tolerance": 2.0, "outer": 5.0}, 46.0, FAIL),
        ({"kind": "relative", "tolerance": 0.1}, 44.0, PASS),
        ({"kind": "relative", "tolerance": 0.1}, 44.5, FAIL),
        ({"kind": "at_most", "tolerance": 0.0}, 40.0, PASS),
        ({"kind": "at_most", "tolerance": 0.0}, 40.1, FAIL),
        ({"kind": "at_least", "tolerance": 1.0}, 39.0, PASS),
        ({"kind": "at_least", "tolerance": 1.0}, 38.9, FAIL),
    ],
)
def test_value_rules(rule, measured, outcome):
    assert apply_rule(claim(rule=rule), measured)[0] == outcome


def test_ratio_to_same_run_baseline_through_a_stand_in():
    v = judge(claim(), view(rec("mini_vgg", "baseline", {}, inference_time_s=1.0),
                            rec("mini_vgg", "quantize", {"bits": 8}, inference_time_s=1.45)))
    assert v.outcome == PASS and v.measured == pytest.approx(45.0) and v.delta == pytest.approx(5.0)
    assert v.evidence == ["mini_vgg__baseline__fp32", "mini_vgg__quantize__bits-8"]


def test_zero_baseline_fails_loudly():
    v = judge(claim(), view(rec("mini_vgg", "baseline", {}, inference_time_s=0.0),
                            rec("mini_vgg", "quantize", {"bits": 8}, inference_time_s=1.0)))
    assert v.outcome == FAIL and "undefined" in v.explanation


def test_missing_configuration_is_not_run_and_skipped_metric_carries_reason():
    only_base = view(rec("mini_vgg", "baseline", {}, inference_time_s=1.0))
    assert judge(claim(), only_base).outcome == NOT_RUN
    skipped = view(rec("mini_vgg", "baseline", {}, energy_j="needs a power sensor"),
                   rec("mini_vgg", "quantize", {"bits": 8}, energy_j="needs a power sensor"))
    v = judge(claim(metric="energy_j"), skipped)
    assert v.outcome == SKIPPED and v.explanation == "needs a power sensor"


def test_stand_ins_refused_when_claim_says_so():
    v = judge(claim(stand_ins=False, statistic="value"), view(rec("mini_vgg", "baseline", {}, inference_time_s=1.0)))
    assert v.outcome == NOT_RUN and "stand-ins do not count" in v.explanation


def test_ordering_between_configurations():
    c = claim(technique=None, lhs={"technique": "quantize", "setting": {"bits": 6}},
              rhs={"technique": "quantize", "setting": {"bits": 16}}, rule={"kind": "ordering", "relation": "<"},
              statistic="value")
    faster = view(rec("mini_vgg", "quantize", {"bits": 6}, inference_time_s=0.9),
                  rec("mini_vgg", "quantize", {"bits": 16}, inference_time_s=1.0))
    slower = view(rec("mini_vgg", "quantize", {"bits": 6}, inference_time_s=1.1),
                  rec("mini_vgg", "quantize", {"bits": 16}, inference_time_s=1.0))
    assert judge(c, faster).outcome == PASS
    assert judge(c, slower).outcome == FAIL


def test_each_aggregate_reports_the_worst_model():
    c = claim(aggregate="each", models=["vgg_16", "resnet_v1_50"])
    records = [rec("a", "baseline", {}, inference_time_s=1.0), rec("a", "quantize", {"bits": 8}, inference_time_s=1.4),
               rec("b", "baseline", {}, inference_time_s=1.0), rec("b", "quantize", {"bits": 8}, inference_time_s=0.9)]
    v = judge(c, view(*records, stands_for={"a": ["vgg_16"], "b": ["resnet_v1_50"]}))
    assert v.outcome == FAIL and "worst of 2 models is b" in v.explanation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format_version = 1\n[[claim]]\nid='x'\n", "missing field 'metric'"),
        ("format_version = 3\n[[claim]]\n", "format_version 3"),
        ("format_version = 1\n", "no \\[\\[claim\\]\\] tables"),
        ("format_version = 1\n[[claim]]\nid='x'\nsource='s'\nstatement='t'\nmetric='speed'\n", "metric 'speed'"),
        ("format_version = 1\n[[claim\n", "not valid TOML"),
    ],
)
def test_malformed_claims_file_gets_one_clear_line(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(FormatError, match=message) as info:
        load_claims_file(str(path))
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_mean_over_the_measured_models_names_the_ones_left_out():
    run = view(rec("vgg_16", "baseline", {}, inference_time_s=1.0),
               rec("vgg_16", "quantize", {"bits": 8}, inference_time_s=1.4),
               rec("nmt", "baseline", {}, inference_time_s=2.0),
               rec("nmt", "quantize", {"bits": 8}, inference_time_s="quantize cannot be applied to nmt yet"))
    v = judge(claim(models=["vgg_16", "nmt"]), run)
    assert v.outcome == PASS and math.isclose(v.measured, 40.0) and list(v.models) == ["vgg_16"]
    assert "left out: nmt (SKIPPED: quantize cannot be applied to nmt yet)" in v.explanation


def test_measurement_flags_travel_to_the_verdict_and_survive_json():
    base = rec("mini_vgg", "baseline", {}, inference_time_s=1.0)
    quant = rec("mini_vgg", "quantize", {"bits": 8}, inference_time_s=1.45)
    quant.measurements["inference_time_s"].flags.append("timing did not converge")
    quant = Record.from_dict(quant.to_dict())  # flags are part of the record format
    v = judge(claim(), view(base, quant))
    assert v.outcome == PASS  # a flag qualifies a verdict, it does not change it
    assert v.flags == ["mini_vgg__quantize__bits-8: timing did not converge"]
    assert judge(claim(), view(base, rec("mini_vgg", "quantize", {"bits": 8}, inference_time_s=1.45))).flags == []


def test_paired_time_ratios_are_preferred_over_medians_of_separate_runs():
    base = rec("mini_vgg", "baseline", {}, inference_time_s=1.0)
    q8 = rec("mini_vgg", "quantize", {"bits": 8}, inference_time_s=2.0)   # measured while the machine was slow
    pair(q8, 1.40)
    v = judge(claim(), view(base, q8))
    assert v.measured == pytest.approx(40.0) and v.outcome == PASS and "paired with the fp32 baseline" in v.explanation
    q6 = rec("mini_vgg", "quantize", {"bits": 6}, inference_time_s=1.0)
    pair(q6, 1.5)
    order = claim(statistic="value", lhs={"technique": "quantize", "setting": {"bits": 6}},
                  rhs={"technique": "quantize", "setting": {"bits": 8}}, paper_value=0.97,
                  rule={"kind": "ordering", "relation": "<"})
    v = judge(order, view(base, q8, q6))
    assert v.measured == pytest.approx(1.5 / 1.4) and v.outcome == FAIL   # raw medians would say 0.5: PASS


def acc_rec(model, technique, setting, top1, scored):
    r = rec(model, technique, setting, top1=top1)
    r.measurements["top1"].notes["scored"] = scored
    return r


def binomial_claim(paper=1.0, sided="two"):
    return claim(metric="top1", statistic="drop_pts", paper_value=paper,
                 rule={"kind": "binomial", "tolerance": 2.0, "sided": sided})


@pytest.mark.parametrize(("variant", "n", "sided", "outcome"), [
    (0.88, 360, "two", PASS),          # drop 2 points; SE = 100·√((.9·.1 + .88·.12)/360) = 2.33 → 1 ± 4.66
    (0.82, 360, "two", FAIL),          # drop 8 points > 1 + 2·2.57
    (0.88, 100000, "two", FAIL),       # drop 2 points > 1 + 2·0.14: the same drop is resolved on many samples
    (0.95, 360, "two", FAIL),          # a 5-point gain beyond 2·1.95 of no change: the other way from the paper's drop
    (0.91, 360, "two", DEVIATION),     # a 1-point gain within 2·2.18 of no change: not resolved, never a PASS
    (0.93, 360, "two", DEVIATION),     # a 3-point gain, still within 2·2.07: not resolved
    (0.90, 100000, "two", DEVIATION),  # no drop, resolved: the paper's 1-point cost does not reproduce
    (0.95, 360, "one", PASS),          # an upper bound: a gain never misses
    (0.82, 360, "one", FAIL),
])
def test_binomial_rule_against_same_run_fp32(variant, n, sided, outcome):
    v = judge(binomial_claim(sided=sided), view(acc_rec("mini_vgg", "baseline", {}, 0.90, n),
                                                acc_rec("mini_vgg", "quantize", {"bits": 8}, variant, n)))
    assert v.outcome == outcome
    se = 100 * math.sqrt((0.9 * 0.1 + variant * (1 - variant)) / n)
    assert f"SE {se:.3g} points" in v.explanation


def test_a_gain_within_the_noise_on_a_stated_drop_says_it_is_not_resolved():
    """A claim that states a drop (pruning costs 1.7 points of top-5) is not confirmed by a measured gain just
    because 2 SE exceed the paper's drop: the run cannot tell the direction (issue 29)."""
    v = judge(binomial_claim(paper=1.7), view(acc_rec("mini_vgg", "baseline", {}, 0.90, 360),
                                              acc_rec("mini_vgg", "quantize", {"bits": 8}, 0.91, 360)))
    assert v.outcome == DEVIATION and "not resolved" in v.explanation and "gain" in v.explanation


def test_binomial_bound_scales_with_n():
    # the same 4-point drop is within noise on 360 samples and a deviation on 50,000
    small = judge(binomial_claim(), view(acc_rec("mini_vgg", "baseline", {}, 0.90, 360),
                                         acc_rec("mini_vgg", "quantize", {"bits": 8}, 0.86, 360)))
    large = judge(binomial_claim(), view(acc_rec("mini_vgg", "baseline", {}, 0.90, 50000),
                                         acc_rec("mini_vgg", "quantize", {"bits": 8}, 0.86, 50000)))
    assert small.outcome == PASS and large.outcome == FAIL


def test_binomial_without_sample_count_says_so():
    v = judge(binomial_claim(paper=3.0, sided="one"), view(rec("mini_vgg", "baseline", {}, top1=0.9),
                                              rec("mini_vgg", "quantize", {"bits": 8}, top1=0.88)))
    assert v.outcome == PASS and "n not recorded" in v.explanation


def test_binomial_rule_is_for_fraction_drops_only():
    with pytest.raises(FormatError, match="binomial"):
        claim(metric="bleu", statistic="drop_pts", rule={"kind": "binomial", "tolerance": 2.0})
    with pytest.raises(FormatError, match="binomial"):
        claim(metric="top1", statistic="value", rule={"kind": "binomial", "tolerance": 2.0})


def pair(record, ratio, ci=None):
    """Give a record's timing windows paired baseline windows whose median ratio is `ratio` and whose relative
    95% CI is `ci` (one window, so no interval, when ci is None): the judge derives both from the windows."""
    m = record.measurements["inference_time_s"]
    seconds = m.samples[0]
    if ci is None:
        wobble = [0.0]
    else:  # ratio x (1, 1+a, 1-a, 1, 1+a, 1-a, 1): mean and median ratio; a sets the interval
        a = ci / half_width([0.0, 1, -1, 0, 1, -1, 0])
        wobble = [0.0, a, -a, 0.0, a, -a, 0.0]
    m.samples = [seconds * (1 + d) for d in wobble]
    m.notes["paired_reference_s"] = [seconds / ratio] * len(wobble)
    return record


def timed(model, technique, setting, seconds, paired=None, ci=None):
    r = rec(model, technique, setting, inference_time_s=seconds)
    return r if paired is None else pair(r, paired, ci)


def ordering_claim():
    return claim(rule={"kind": "ordering", "relation": "<"}, statistic="value", technique=None,
                 lhs={"technique": "quantize", "setting": {"bits": 6}},
                 rhs={"technique": "quantize", "setting": {"bits": 16}})


@pytest.mark.parametrize(("lhs", "rhs", "ci", "outcome"), [
    (1.10, 1.20, 0.02, PASS),
    (1.21, 1.20, 0.02, DEVIATION),   # 0.8% the wrong way, CI ±2.8%: the run cannot resolve it
    (1.30, 1.20, 0.02, FAIL),        # 8% the wrong way: resolved
    (1.21, 1.20, None, FAIL),        # no CI recorded: no benefit of the doubt
])
def test_ordering_within_measured_noise_is_a_deviation(lhs, rhs, ci, outcome):
    v = judge(ordering_claim(), view(timed("mini_vgg", "baseline", {}, 1.0),
                                     timed("mini_vgg", "quantize", {"bits": 6}, 9.9, lhs, ci),
                                     timed("mini_vgg", "quantize", {"bits": 16}, 0.1, rhs, ci)))
    assert v.outcome == outcome
    assert v.measured == pytest.approx(lhs / rhs)  # paired ratios, not the raw medians 9.9 / 0.1


def test_ordering_against_the_baseline_uses_the_paired_ratio_and_its_ci():
    c = claim(rule={"kind": "ordering", "relation": "<"}, statistic="value", technique=None,
              lhs={"technique": "quantize_prune", "setting": {"bits": 8, "threshold": 0.05}},
              rhs={"technique": "baseline"})
    v = judge(c, view(timed("mini_vgg", "baseline", {}, 1.0),
                      timed("mini_vgg", "quantize_prune", {"bits": 8, "threshold": 0.05}, 1.5, 1.01, 0.03)))
    assert v.measured == pytest.approx(1.01) and v.outcome == DEVIATION and "noise" in v.explanation


def test_check_writes_a_tidy_results_csv_with_the_number_the_judge_uses(tmp_path):
    import os
    import shutil

    import pandas as pd

    from artifact.core.results import ResultsDir
    from artifact.host.judge.check import check

    root = PROJECT_ROOT
    results = tmp_path / "smoke"
    shutil.copytree(os.path.join(root, "expected_results", "reference", "smoke"), results)
    check(str(results))
    df = pd.read_csv(results / "results.csv")
    assert list(df.columns) == ["profile", "model", "technique", "setting", "bits", "threshold", "cell", "metric",
                                "unit", "statistic", "value", "ci95_low", "ci95_high", "n", "quality_flags", "skipped"]
    assert df.bits.dtype.kind == "f" and df.threshold.dtype.kind == "f"   # numbers, not an encoded string
    assert set(df[df.cell == "mini_vgg__quantize__bits-8"].bits) == {8.0}
    records = ResultsDir(str(results)).load_records()
    key = "mini_vgg__quantize__bits-8"
    summary = df[(df.cell == key) & (df.metric == "inference_time_s") & (df.statistic == "summary")].value.item()
    assert summary == records[key].value("inference_time_s")
    paired = df[(df.cell == key) & (df.metric == "inference_time_s") & (df.statistic == "paired_ratio")].value.item()
    assert paired == pytest.approx(records[key].measurements["inference_time_s"].notes["paired_ratio"], rel=1e-12)
    row = df[(df.cell == key) & (df.metric == "inference_time_s") & (df.statistic == "paired_ratio")].iloc[0]
    half = records[key].measurements["inference_time_s"].notes["paired_ratio_ci95_relative"] * paired
    assert row.ci95_low == pytest.approx(paired - half) and row.ci95_high == pytest.approx(paired + half)
    size = df[(df.cell == key) & (df.metric == "storage_bytes") & (df.statistic == "ratio_to_fp32")].value.item()
    assert size == records[key].value("storage_bytes") / records["mini_vgg__baseline__fp32"].value("storage_bytes")


def test_a_quick_runs_verdicts_carry_its_label_and_the_same_outcomes(tmp_path):
    """The quick tier is a view of the full one: judged on the same evidence, every verdict has the same outcome,
    and each one the quick run shows says QUICK (looser precision targets); the report's title says it too."""
    import json
    import os
    import shutil

    from artifact.core.results import ResultsDir
    from artifact.host.judge.check import check
    from artifact.host.report.render import render_report

    root = PROJECT_ROOT
    full, quick = tmp_path / "full", tmp_path / "quick"
    for results in (full, quick):
        shutil.copytree(os.path.join(root, "expected_results", "reference", "smoke"), results)
    run_json = ResultsDir(str(quick)).run_json
    with open(run_json) as handle:
        info = json.load(handle)
    info["label"] = "QUICK"
    with open(run_json, "w") as handle:
        json.dump(info, handle)
    full_verdicts, quick_verdicts = check(str(full))["verdicts"], check(str(quick))["verdicts"]
    assert [v["claim_id"] for v in full_verdicts] == [v["claim_id"] for v in quick_verdicts]
    judged = 0
    for plain, labelled in zip(full_verdicts, quick_verdicts):
        assert plain["outcome"] == labelled["outcome"] and plain["measured"] == labelled["measured"]
        if labelled["outcome"] != "NOT-RUN":
            judged += 1
            assert labelled["explanation"] == "QUICK (looser precision targets): " + plain["explanation"]
    assert judged > 0
    summary = render_report(str(quick))
    html_path = os.path.join(ResultsDir(str(quick)).report, "index.html")
    with open(html_path) as handle:
        assert "QUICK: a first look with looser precision targets" in handle.read()
    assert "QUICK" in summary["verdict_line"]
