"""The paper's claims as data: `expected_results/claims/*.toml`.

Each claim names its source in the paper, the metric, the paper's models, the configuration
(technique + setting), how the measured number is derived (`statistic`, `aggregate`), the
paper's value, and a tolerance `rule` kept apart from the value:

    [[claim]]
    id = "IV-C/quantize-16bit/storage"
    source = "§IV-C, Fig 13a"
    statement = "16-bit quantization reduces model storage by 50.2% on average"
    metric = "storage_bytes"
    models = ["inception_v1", "resnet_v1_50", "vgg_16"]
    technique = "quantize"
    setting = {bits = 16}
    statistic = "reduction_pct"          # value | ratio | change_pct | reduction_pct | drop_pts
    aggregate = "mean"                   # mean over models | each (every model judged)
    paper_value = 50.2
    rule = {kind = "absolute", tolerance = 2.0, on_miss = "fail", why = "sizes are exact"}

An accuracy drop (`statistic = "drop_pts"` of a fraction metric) may use `rule = {kind = "binomial",
tolerance = 2.0}`: one-sided against the same run's fp32 model, it passes when the measured drop is at
most the paper's plus `tolerance` binomial standard errors of the difference of two accuracies on the
n scored samples (the record's `scored` note).

An ordering claim compares two configurations instead: `lhs = {technique, setting}`, `rhs = {...}`,
`rule = {kind = "ordering", relation = "<"}` (is stat(lhs)/stat(rhs) < 1?).
"""
import math
import os
from dataclasses import dataclass, field
from typing import Any

from artifact.core import schema
from artifact.core.catalog import check_model
from artifact.core.errors import ArtifactError, FormatError
from artifact.core.jsonfile import FORMAT_VERSION
from artifact.core.metrics import METRICS
from artifact.core.paths import CLAIMS_DIR
from artifact.core.techniques import TECHNIQUES, check_setting
from artifact.core.tomlfile import load_toml

STATISTICS = ("value", "ratio", "change_pct", "reduction_pct", "drop_pts")
AGGREGATES = ("mean", "each", "max", "min")  # "up to" judges the max, "at least" the min, "every" each model
RULE_KINDS = ("absolute", "relative", "at_least", "at_most", "direction", "ordering", "binomial")
SIDES = ("two", "one")


@dataclass(frozen=True)
class Config:
    technique: str
    setting: dict = field(default_factory=dict)

    def describe(self) -> str:
        if not self.setting:
            return self.technique
        return "{} {}".format(self.technique, ", ".join(f"{k}={v}" for k, v in sorted(self.setting.items())))


@dataclass(frozen=True)
class Rule:
    """How a measured number is judged against the paper's (semantics: expected_results/claims/README.md).

    `tolerance` bounds PASS; `outer` (same units; direction rules default to 2 x tolerance) bounds
    DEVIATION: beyond it the claim FAILs, so every rule can FAIL. `sided` is for binomial rules: "two"
    for a stated drop (a much smaller drop is a DEVIATION: the paper's cost does not reproduce; a gain is
    the other direction: "not resolved", a DEVIATION, within k·SE of no change, FAIL beyond), "one" for an
    upper bound ("less than 3%": a gain meets it)."""

    kind: str
    tolerance: float = 0.0
    outer: float | None = None
    relation: str = "<"
    sided: str = "two"
    why: str = ""

    def outer_band(self) -> float | None:
        if self.kind == "direction" and self.outer is None:
            return 2.0 * self.tolerance
        return self.outer

    def describe(self) -> str:
        band = self.outer_band()
        deviation = f", DEVIATION within ±{band:g}, else FAIL" if band is not None else ", else FAIL"
        if self.kind == "ordering":
            magnitude = f", magnitude within ±{self.tolerance:g}×paper" if self.tolerance else ""
            return f"ordering: lhs/rhs {self.relation} 1 beyond the measured noise{magnitude}"
        if self.kind == "direction":
            return f"same direction as paper beyond the noise, within ±{self.tolerance:g}{deviation}"
        if self.kind == "binomial":
            if self.sided == "one":
                return f"upper bound: drop ≤ paper + {self.tolerance:g}·SE (binomial, vs same run's fp32), else FAIL"
            return (f"drop within paper ± {self.tolerance:g}·SE (binomial, vs same run's fp32); smaller, or a gain "
                    f"within {self.tolerance:g}·SE of none: DEVIATION; larger, or a gain beyond it: FAIL")
        sign = {"absolute": "±", "relative": "±", "at_least": "≥ paper −", "at_most": "≤ paper +"}[self.kind]
        suffix = "×paper" if self.kind == "relative" else ""
        return f"{self.kind} {sign}{self.tolerance:g}{suffix}{deviation}"


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    statement: str
    metric: str
    models: tuple
    config: Config
    statistic: str
    aggregate: str
    paper_value: float
    rule: Rule
    unit: str = ""
    lhs: Config | None = None
    rhs: Config | None = None
    stand_ins: bool = True  # may a profile's stand-in model (mini_vgg for vgg_16) be judged?
    file: str = ""
    notes: str = ""


CLAIM_FIELDS = ("id", "source", "statement", "metric", "models", "technique", "setting", "lhs", "rhs", "statistic",
                "aggregate", "paper_value", "rule", "unit", "stand_ins", "notes")
RULE_FIELDS = ("kind", "tolerance", "outer", "relation", "sided", "why")
CONFIG_FIELDS = ("technique", "setting")
FIX = "fix the claim (format: artifact/host/judge/claims.py, expected_results/claims/README.md)"


def _need(entry: dict, name: str, kind: Any, where: str) -> Any:
    if name not in entry:
        raise FormatError(f"{where}: missing field {name!r}")
    value = entry[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise FormatError(f"{where}: field {name!r} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _choice(value: str, allowed: tuple, where: str, name: str) -> str:
    if value not in allowed:
        raise FormatError(f"{where}: {name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _config(entry: dict, where: str, fields: tuple = CONFIG_FIELDS) -> Config:
    if fields is CONFIG_FIELDS:
        schema.known_keys(entry, CONFIG_FIELDS, where, FIX)
    technique = _choice(_need(entry, "technique", str, where), tuple(TECHNIQUES), where, "technique")
    try:
        setting = check_setting(technique, entry.get("setting", {}), where)
    except ArtifactError as exc:  # the same one line, as a claims-file error
        raise FormatError(str(exc)) from None
    return Config(technique, setting)


def _rule(rule_data: dict, where: str) -> Rule:
    where = where + " rule"
    schema.known_keys(rule_data, RULE_FIELDS, where, FIX)
    kind = _choice(_need(rule_data, "kind", str, where), RULE_KINDS, where, "rule kind")
    tolerance = schema.field(rule_data, "tolerance", "a number", where, FIX, default=0.0, required=False)
    if not math.isfinite(tolerance) or tolerance < 0:
        raise FormatError(f"{where}.tolerance: {tolerance!r} must be a finite number >= 0; {FIX}")
    outer = schema.field(rule_data, "outer", "a number", where, FIX, required=False)
    if outer is not None and (not math.isfinite(outer) or outer < tolerance):
        raise FormatError(f"{where}.outer: {outer!r} must be a finite number >= the tolerance {tolerance:g}; {FIX}")
    return Rule(kind, float(tolerance), None if outer is None else float(outer),
                _choice(rule_data.get("relation", "<"), ("<", ">"), where, "relation"),
                _choice(rule_data.get("sided", "two"), SIDES, where, "sided"),
                schema.field(rule_data, "why", "a string", where, FIX, default="", required=False))


def parse_claim(entry: dict, path: str) -> Claim:
    if not isinstance(entry, dict):
        raise FormatError(f"{path}: a [[claim]] must be a table, got {entry!r}; {FIX}")
    where = f"{path}: claim {entry.get('id', '?')!r}"
    claim_id = _need(entry, "id", str, f"{path}: a claim")
    schema.known_keys(entry, CLAIM_FIELDS, where, FIX)
    metric = _choice(_need(entry, "metric", str, where), tuple(METRICS), where, "metric")
    rule = _rule(_need(entry, "rule", dict, where), where)
    kind = rule.kind
    for name in ("unit", "notes"):
        schema.field(entry, name, "a string", where, FIX, required=False)
    schema.field(entry, "stand_ins", "true or false", where, FIX, required=False)
    lhs = rhs = None
    if kind == "ordering":
        lhs = _config(_need(entry, "lhs", dict, where), where + " lhs")
        rhs = _config(_need(entry, "rhs", dict, where), where + " rhs")
        config = lhs
    else:
        config = _config(entry, where, CLAIM_FIELDS)
    if kind == "binomial" and (entry.get("statistic") != "drop_pts" or METRICS[metric].unit != "fraction"):
        raise FormatError(f"{where}: a binomial rule judges statistic = \"drop_pts\" of a fraction metric "
                          f"(top1, top5, ...); use an absolute rule for {metric}")
    models = _need(entry, "models", list, where)
    if not models or not all(isinstance(m, str) for m in models):
        raise FormatError(f"{where}: models must be a non-empty list of model names")
    for model in models:
        try:
            check_model(model, where)
        except ArtifactError as exc:
            raise FormatError(f"{exc}; {FIX}") from None
    return Claim(
        id=claim_id, source=_need(entry, "source", str, where),
        statement=_need(entry, "statement", str, where), metric=metric, models=tuple(models),
        config=config,
        statistic=_choice(entry.get("statistic", "value"), STATISTICS, where, "statistic"),
        aggregate=_choice(entry.get("aggregate", "mean"), AGGREGATES, where, "aggregate"),
        paper_value=_need(entry, "paper_value", float, where), rule=rule,
        unit=entry.get("unit", ""), lhs=lhs, rhs=rhs, stand_ins=bool(entry.get("stand_ins", True)),
        file=path, notes=entry.get("notes", ""))


def load_claims_file(path: str) -> list[Claim]:
    data = load_toml(path, "claims", FormatError)
    if data.get("format_version") != FORMAT_VERSION:
        raise FormatError(f"{path}: format_version {data.get('format_version')!r}, this artifact reads "
                          f"{FORMAT_VERSION}; update the file")
    schema.known_keys(data, ("format_version", "claim"), path, FIX)
    entries = data.get("claim")
    if not isinstance(entries, list) or not entries:
        raise FormatError(f"{path}: no [[claim]] tables")
    return [parse_claim(entry, path) for entry in entries]


def load_claims(directory: str = CLAIMS_DIR) -> list[Claim]:
    if not os.path.isdir(directory):
        raise FormatError(f"{directory}: claims directory not found")
    claims: list[Claim] = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".toml"):
            claims.extend(load_claims_file(os.path.join(directory, name)))
    if not claims:
        raise FormatError(f"{directory}: no claims files (*.toml) there; give the directory that holds them "
                          "(default expected_results/claims)")
    seen: set[str] = set()
    for claim in claims:
        if claim.id in seen:
            raise FormatError(f"{claim.file}: claim id {claim.id!r} is defined twice")
        seen.add(claim.id)
    return claims
