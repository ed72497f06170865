"""Every claim can PASS and every claim can FAIL: for each claim of expected_results/claims, records are
constructed whose derived number is the paper's (PASS) and one far from it (FAIL), and the judge is asked.
A rule that cannot fail (a DEVIATION with no outer edge, a one-sided bound that nothing crosses) fails here.
"""
import pytest

from artifact.core.metrics import METRICS
from artifact.core.profiles import cell_key
from artifact.core.records import Measurement, Record
from artifact.host.judge.claims import Config, load_claims
from artifact.host.judge.verdicts import FAIL, PASS, RunView, judge

CLAIMS = load_claims()
SCORED = 1000  # evaluation samples noted on constructed accuracies (binomial SE about 2 points)


def _record(model, config, metric, value):
    cell = {"key": cell_key(model, config.technique, config.setting), "model": model,
            "technique": config.technique, "setting": dict(config.setting), "metrics": [metric]}
    record = Record(cell, {})
    record.add(Measurement(metric, [value], notes={"scored": SCORED} if METRICS[metric].notes else {}))
    return record


def _base_value(metric):
    return {"fraction": 0.9, "BLEU": 30.0}.get(METRICS[metric].unit, 100.0)


def _variant_value(claim, target):
    """The variant's raw value whose derived statistic (against a baseline of _base_value) is `target`."""
    base = _base_value(claim.metric)
    if claim.statistic == "value":
        return target
    if claim.statistic == "drop_pts":
        return base - target / (100.0 if METRICS[claim.metric].unit == "fraction" else 1.0)
    ratio = {"ratio": target, "change_pct": 1 + target / 100.0, "reduction_pct": 1 - target / 100.0}[claim.statistic]
    return base * ratio


def records_for(claim, target):
    """A run of the claim's first model in which the claim's derived number is `target`."""
    model = claim.models[0]
    base = Config("baseline")
    if claim.rule.kind == "ordering":   # lhs/rhs = target, both as statistics of their own
        rhs = _variant_value(claim, 1.0 if claim.statistic == "ratio" else _base_value(claim.metric))
        lhs = rhs * target
        records = [_record(model, claim.lhs, claim.metric, lhs), _record(model, claim.rhs, claim.metric, rhs)]
        if claim.statistic != "value" and base not in (claim.lhs, claim.rhs):
            records.append(_record(model, base, claim.metric, _base_value(claim.metric)))
    else:
        records = [_record(model, claim.config, claim.metric, _variant_value(claim, target))]
        if claim.statistic != "value" and claim.config != base:
            records.append(_record(model, base, claim.metric, _base_value(claim.metric)))
    return RunView({r.key: r for r in records}, {})


def passing(claim):
    if claim.rule.kind == "ordering":
        if claim.paper_value != 1.0:
            return claim.paper_value
        return 0.5 if claim.rule.relation == "<" else 2.0
    return claim.paper_value


def failing(claim):
    far = _far(claim)
    while METRICS[claim.metric].group == "power" and _variant_value(claim, far) <= 0.0:
        far = claim.paper_value + (far - claim.paper_value) / 2.0  # a power at or below zero is not judged: nearer
    return far


def _far(claim):
    rule, paper = claim.rule, claim.paper_value
    band = rule.outer_band() or rule.tolerance
    if rule.kind == "ordering":
        return 2.0 if rule.relation == "<" else 0.5
    if rule.kind == "direction":
        return -paper if paper else 10.0 * band + 10.0
    if rule.kind == "binomial":
        return paper + (40.0 if METRICS[claim.metric].unit == "fraction" else 20.0)
    if rule.kind == "at_least":
        return paper - 10.0 * band - abs(paper) - 1.0
    scale = abs(paper) if rule.kind == "relative" else 1.0
    return paper + 10.0 * band * scale + abs(paper) + 1.0


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_claim_can_pass_and_can_fail(claim):
    passed = judge(claim, records_for(claim, passing(claim)))
    assert passed.outcome == PASS, (claim.id, passed.explanation)
    failed = judge(claim, records_for(claim, failing(claim)))
    assert failed.outcome == FAIL, (claim.id, failed.explanation)
