"""Judge claims against the records of a run. Pure: no files, no printing.

Outcomes: PASS, DEVIATION (the paper's direction holds but the number is off the tolerance,
or a rule says misses are deviations), FAIL, NOT-RUN (the run has no cell for it), SKIPPED (the
cell ran but the metric could not be measured here; the record's reason is carried).
"""
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from artifact.core.metrics import CI95_RELATIVE as CI95
from artifact.core.metrics import METRICS, PAIRED_RATIO, PAIRED_RATIO_CI, SCORED, above_zero, declared_note, in_group
from artifact.core.profiles import cell_key
from artifact.host.judge.claims import Claim, Config
from artifact.host.judge.rederive import DERIVED, derived

PASS, DEVIATION, FAIL, NOT_RUN, SKIPPED = "PASS", "DEVIATION", "FAIL", "NOT-RUN", "SKIPPED"
OUTCOMES = (PASS, DEVIATION, FAIL, NOT_RUN, SKIPPED)


@dataclass
class Verdict:
    claim_id: str
    outcome: str
    paper_value: float
    measured: float | None
    delta: float | None
    rule: str
    explanation: str
    source: str = ""
    statement: str = ""
    metric: str = ""
    models: dict = field(default_factory=dict)  # run model -> per-model measured value
    evidence: list = field(default_factory=list)  # record keys
    flags: list = field(default_factory=list)  # "record key: problem" of the measurements judged
    grade: dict = field(default_factory=dict)  # what the evidence stands on (artifact.host.judge.grade), by check

    def to_dict(self) -> dict:
        return asdict(self)


class RunView:
    """Records of one run indexed by (model, technique, setting), with the model mapping."""

    def __init__(self, records: dict, stands_for: dict):
        self.records = records
        self.stands_for = stands_for

    def run_models_for(self, paper_models, stand_ins: bool = True) -> list[str]:
        """The run's models that are the paper's models, or stand in for them if allowed."""
        wanted = set(paper_models)
        models = sorted({r.cell["model"] for r in self.records.values()})
        return [m for m in models
                if m in wanted or (stand_ins and wanted & set(self.stands_for.get(m, [])))]

    def record(self, model: str, config: Config):
        return self.records.get(cell_key(model, config.technique, config.setting))


class _Missing(Exception):
    def __init__(self, outcome: str, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def _value(view: RunView, model: str, config: Config, metric: str, evidence: list) -> float:
    record = view.record(model, config)
    if record is None:
        raise _Missing(NOT_RUN, f"no {config.describe()} cell for {model} in this run")
    if metric in record.skipped:
        raise _Missing(SKIPPED, record.skipped[metric])
    value = record.value(metric)
    if value is None:
        raise _Missing(NOT_RUN, f"{record.key} has no {metric} measurement")
    if metric in in_group("power") and not above_zero(record.measurements[metric].samples):
        # a record from before the meter refused them: energy within the noise of idle is never judged
        raise _Missing(SKIPPED, f"{record.key}: {metric} {value:.3g} is not physical (not above zero beyond its "
                                "noise: the model drew no more than idle)")
    evidence.append(record.key)
    return value


def statistic(claim: Claim, view: RunView, model: str, config: Config, evidence: list) -> float:
    value = _value(view, model, config, claim.metric, evidence)
    if claim.statistic == "value":
        return value
    base = _value(view, model, Config("baseline"), claim.metric, evidence)
    if claim.statistic == "drop_pts":  # percentage points for fractions, raw units otherwise (BLEU)
        return (base - value) * (100.0 if METRICS[claim.metric].unit == "fraction" else 1.0)
    if base == 0 or not math.isfinite(base):
        return float("nan")
    paired = paired_ratio(view.record(model, config), claim.metric)
    ratio = value / base if paired is None else paired
    return {"ratio": ratio, "change_pct": (ratio - 1) * 100.0, "reduction_pct": (1 - ratio) * 100.0}[claim.statistic]


def _note(record, metric: str, name: str) -> float | None:
    """A number the metric's row declares (artifact.core.metrics), or None: a summary of the samples
    (the paired ratio, its interval, the windows' interval) re-derived from the record's raw numbers
    (artifact.host.judge.rederive), never read from its stored note; a count (`scored`) from the note."""
    if not declared_note(metric, name):
        return None
    if name in DERIVED:
        return derived(record, metric, name)
    m = record.measurements.get(metric) if record is not None else None
    value = m.notes.get(name) if m is not None else None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0 else None


def paired_ratio(record, metric: str) -> float | None:
    """The variant/baseline ratio measured window by window against the baseline (timing), if any: the median
    of the record's window-by-window ratios."""
    return _note(record, metric, PAIRED_RATIO) or None  # a ratio of 0 is no ratio


def _paired(record, metric: str, config: Config) -> tuple:
    """(ratio to the baseline, its relative 95% CI) measured in paired windows; the baseline is (1, 0)."""
    if config.technique == "baseline":
        return 1.0, 0.0
    ratio = paired_ratio(record, metric)
    ci = _note(record, metric, PAIRED_RATIO_CI) if ratio is not None else None
    return ratio, ci


def _ordering(claim: Claim, view: RunView, model: str, evidence: list) -> tuple:
    """lhs/rhs and its relative 95% CI (None when unknown).

    For variants timed in windows paired with the baseline, the ratio of their paired ratios.
    """
    assert claim.lhs is not None and claim.rhs is not None  # an ordering claim has both (claims.parse_claim)
    lhs = statistic(claim, view, model, claim.lhs, evidence)
    rhs = statistic(claim, view, model, claim.rhs, evidence)
    records = [view.record(model, c) for c in (claim.lhs, claim.rhs)]
    pairs = [_paired(r, claim.metric, c) for r, c in zip(records, (claim.lhs, claim.rhs))]
    if claim.statistic == "value" and None not in (pairs[0][0], pairs[1][0]):
        (lhs, lhs_ci), (rhs, rhs_ci) = pairs
    else:
        lhs_ci, rhs_ci = (_note(r, claim.metric, CI95) for r in records)
    ci = math.hypot(lhs_ci, rhs_ci) if None not in (lhs_ci, rhs_ci) else None
    return (lhs / rhs if rhs else float("nan")), ci


def change_noise(view: RunView, model: str, claim: Claim) -> float | None:
    """95% CI of a paired change, in the statistic's units (percent of fp32), from the paired ratio's own CI;
    None where the metric was not timed in paired windows (sizes are exact: no noise)."""
    ratio, ci = _paired(view.record(model, claim.config), claim.metric, claim.config)
    if ratio is None or ci is None or claim.statistic not in ("change_pct", "reduction_pct", "ratio"):
        return None
    return ci * ratio * (1.0 if claim.statistic == "ratio" else 100.0)


def binomial_se_pts(view: RunView, model: str, claim: Claim) -> float | None:
    """Standard error, in points, of the difference between the fp32 and the variant accuracy on n samples."""
    base, variant = view.record(model, Config("baseline")), view.record(model, claim.config)
    n = _note(variant, claim.metric, SCORED) or _note(base, claim.metric, SCORED)
    if not n:
        return None
    p_base, p_variant = base.value(claim.metric), variant.value(claim.metric)
    return 100.0 * math.sqrt((p_base * (1 - p_base) + p_variant * (1 - p_variant)) / n)


def _per_model(claim: Claim, view: RunView, models: list, evidence: list) -> tuple[dict, dict, dict]:
    """Per-model values, their noise (ordering: relative CI; binomial: SE in points; else None),
    and the models left out with why (NOT-RUN/SKIPPED cells)."""
    values, noise, missing = {}, {}, {}
    for model in models:
        try:
            if claim.rule.kind == "ordering":
                values[model], noise[model] = _ordering(claim, view, model, evidence)
            else:
                values[model] = statistic(claim, view, model, claim.config, evidence)
                if claim.rule.kind == "binomial":
                    noise[model] = binomial_se_pts(view, model, claim)
                elif claim.rule.kind == "direction":
                    noise[model] = change_noise(view, model, claim)
                else:
                    noise[model] = None
        except _Missing as exc:
            missing[model] = exc
    return values, noise, missing


def _within(gap: float, bound: float, outer: float | None, text: str) -> tuple[str, str]:
    """PASS within the tolerance, DEVIATION within the outer band, FAIL beyond: every rule can FAIL."""
    if gap <= bound:
        return PASS, f"{text} ≤ {bound:.4g}"
    if outer is not None and gap <= outer:
        return DEVIATION, f"{text} > {bound:.4g} but within the outer band {outer:.4g}"
    return FAIL, f"{text} > {bound:.4g}" + (f" and beyond the outer band {outer:.4g}" if outer is not None else "")


def apply_rule(claim: Claim, measured: float, noise: float | None = None) -> tuple[str, str]:
    """Outcome and explanation of one measured number under the claim's rule (README of the claims).

    `noise`: for orderings, the relative 95% CI of lhs/rhs; for direction rules on a paired metric, the
    95% CI of the measured change in the statistic's units; for binomial rules, the standard error of the
    drop in points (None: unknown, taken as 0). A direction or ordering the run cannot resolve (the
    difference lies inside the noise) is a DEVIATION saying so, never decided by the sign of noise.
    """
    rule, paper = claim.rule, claim.paper_value
    if measured is None or not math.isfinite(measured):
        return FAIL, "measured value is undefined (NaN or a zero baseline)"
    outer = rule.outer_band()
    if rule.kind == "ordering":
        holds = measured < 1 if rule.relation == "<" else measured > 1
        text = f"lhs/rhs = {measured:.4g}, paper says {rule.relation} 1"
        if noise is not None and abs(measured - 1) <= noise:
            return DEVIATION, f"{text}; not resolved: within the measured noise (95% CI ±{noise:.1%})"
        if not holds:
            return FAIL, text + (f", outside the measured noise (95% CI ±{noise:.1%})" if noise is not None else "")
        if rule.tolerance and paper != 1.0:  # the paper's magnitude, as a ratio
            ok = abs(measured - paper) <= rule.tolerance * abs(paper)
            return (PASS if ok else DEVIATION), (f"{text}; the paper's ratio {paper:.4g} "
                                                 f"{'within' if ok else 'not within'} ±{rule.tolerance:.0%}")
        return PASS, text
    if rule.kind == "binomial":
        se = noise or 0.0
        why = f"SE {se:.3g} points" if noise is not None else "n not recorded, SE taken as 0"
        high, low = paper + rule.tolerance * se, paper - rule.tolerance * se
        if measured > high:
            return FAIL, f"drop {measured:.4g} > {paper:.4g} + {rule.tolerance:g}×{se:.3g} = {high:.4g} ({why})"
        if rule.sided == "two" and paper > 0 and measured < 0:  # the paper states a drop; this is a gain
            gain, noise = -measured, rule.tolerance * se
            if gain <= noise:  # however wide k·SE is around the paper's drop, the run cannot tell the direction
                return DEVIATION, (f"a gain of {gain:.4g} points, not resolved: within {rule.tolerance:g}×{se:.3g} = "
                                   f"{noise:.4g} of no change ({why}); the paper states a drop of {paper:.4g}")
            return FAIL, (f"a gain of {gain:.4g} points > {rule.tolerance:g}×{se:.3g} = {noise:.4g} ({why}): the "
                          f"other way from the paper's drop of {paper:.4g}")
        if rule.sided == "two" and measured < low:
            return DEVIATION, (f"drop {measured:.4g} < {paper:.4g} − {rule.tolerance:g}×{se:.3g} = {low:.4g} ({why}): "
                               "smaller than the paper's, its cost does not reproduce")
        return PASS, f"drop {measured:.4g} within {paper:.4g} ± {rule.tolerance:g}×{se:.3g} ({why})"
    if rule.kind == "direction":
        resolved = noise is None or abs(measured) > noise
        if not resolved:
            return DEVIATION, f"{measured:+.4g} not resolved: within the measured noise (95% CI ±{noise:.3g})"
        if measured * paper < 0 or (paper != 0 and measured == 0):
            return FAIL, f"{measured:+.4g} goes the other way from the paper's {paper:+.4g}" + (
                f", beyond the measured noise (±{noise:.3g})" if noise is not None else "")
        return _within(abs(measured - paper), rule.tolerance, outer,
                       f"same direction; |{measured:.4g} − {paper:.4g}| = {abs(measured - paper):.4g}")
    if rule.kind in ("absolute", "relative"):
        scale = abs(paper) if rule.kind == "relative" else 1.0
        band = None if outer is None else outer * scale
        return _within(abs(measured - paper), rule.tolerance * scale, band,
                       f"|{measured:.4g} − {paper:.4g}| = {abs(measured - paper):.4g}")
    # at_least / at_most: how far past the paper's bound the measurement lies
    short = (paper - measured) if rule.kind == "at_least" else (measured - paper)
    sign = "≥" if rule.kind == "at_least" else "≤"
    return _within(max(0.0, short), rule.tolerance, outer,
                   f"{measured:.4g} {sign} {paper:.4g}? short by {max(0.0, short):.4g}")


def judge(claim: Claim, view: RunView) -> Verdict:
    base: dict[str, Any] = dict(claim_id=claim.id, paper_value=claim.paper_value, rule=claim.rule.describe(),
                source=claim.source, statement=claim.statement, metric=claim.metric)
    models = view.run_models_for(claim.models, claim.stand_ins)
    if not models:
        what = "(or a stand-in)" if claim.stand_ins else "(stand-ins do not count for this claim)"
        return Verdict(outcome=NOT_RUN, measured=None, delta=None,
                       explanation=f"this run has none of {', '.join(claim.models)} {what}", **base)
    evidence: list = []
    values, noise, missing = _per_model(claim, view, models, evidence)
    if not values:
        first = missing[models[0]]
        return Verdict(outcome=first.outcome, measured=None, delta=None, explanation=first.reason,
                       evidence=evidence, **base)
    if claim.aggregate == "each":
        judged = {m: apply_rule(claim, v, noise[m]) for m, v in values.items()}
        order = [FAIL, DEVIATION, PASS]
        worst_model = min(judged, key=lambda m: order.index(judged[m][0]))
        outcome, why = judged[worst_model]
        measured = values[worst_model]
        explanation = f"worst of {len(values)} models is {worst_model}: {why}"
    elif claim.aggregate in ("max", "min"):  # "up to" / "at least": the extreme model is the claim's number
        pick = max if claim.aggregate == "max" else min
        extreme = pick(values, key=lambda m: values[m] if math.isfinite(values[m]) else -math.inf)
        measured = values[extreme]
        outcome, why = apply_rule(claim, measured, noise[extreme])
        explanation = f"{claim.aggregate} over {', '.join(values)} is {extreme}: {why}"
    else:
        finite = [v for v in values.values() if math.isfinite(v)]
        measured = sum(finite) / len(finite) if len(finite) == len(values) else float("nan")
        outcome, why = apply_rule(claim, measured, _mean_noise(list(noise.values())))
        explanation = f"mean over {', '.join(values)}: {why}"
    delta = measured - claim.paper_value if measured is not None and math.isfinite(measured) else None
    if any(paired_ratio(view.records.get(k), claim.metric) is not None for k in evidence):
        explanation += " (time ratios from windows paired with the fp32 baseline)"
    if missing:  # judged on the models that were measured; the others are named, never hidden
        explanation += "; left out: " + "; ".join(f"{m} ({e.outcome}: {e.reason})" for m, e in missing.items())
    if outcome != PASS and claim.notes:
        explanation += f" — known: {claim.notes}"
    evidence = sorted(set(evidence))
    return Verdict(outcome=outcome, measured=measured, delta=delta, explanation=explanation,
                   models=values, evidence=evidence, flags=measurement_flags(view, evidence, claim.metric), **base)


def _mean_noise(noises: list) -> float | None:
    """Noise of a mean of independent per-model numbers: √(Σ σ²) / k (None if any is unknown)."""
    if not noises or any(n is None for n in noises):
        return None
    return math.sqrt(sum(n * n for n in noises)) / len(noises)


def measurement_flags(view: RunView, evidence: list, metric: str) -> list:
    """Quality flags (non-converged timing, sensor errors, throttling, ...) of the judged measurements."""
    flags = []
    for key in evidence:
        measurement = view.records[key].measurements.get(metric) if key in view.records else None
        flags += [f"{key}: {flag}" for flag in (measurement.flags if measurement is not None else [])]
    return flags


def summarize(verdicts: list) -> dict:
    counts = {o: 0 for o in OUTCOMES}
    for v in verdicts:
        counts[v.outcome] += 1
    return counts
