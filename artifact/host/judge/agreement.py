"""Does a run agree with a frozen reference run of the same profile? (`artifact check --against DIR`)

Used where the same pipeline runs somewhere else (a container, an emulated arm64 image, a reviewer's
machine) and must be shown to do the same work. Two verdict files agree when
- every claim the reference judged (PASS, DEVIATION or FAIL) is judged here too: no experiment
  silently lost, no metric newly SKIPPED or NOT-RUN;
- claims on exact metrics (sizes, parameter counts, depth) reach the same outcome with the same
  value to within `EXACT_REL` (the serializer is the same; only the platform differs);
- nothing new is judged that the reference could not judge, unless it is an added claim, or the reference
  measured it and could not use its reading (`UNUSABLE_READING`: a non-physical energy, a stuck or
  unresolvable power rail: a property of that run's samples, e.g. an emulated waveform's idle noise, not of
  what the pipeline can measure).
Noisy metrics (time, power, energy, memory, accuracy after training) may move between PASS,
DEVIATION and FAIL: their tolerance is the claim's own rule, judged by `check`, not here.

`timing_disagreements` compares what both runs timed in windows paired with the fp32 baseline: a
variant's paired time ratio differs when the two ratios are further apart than the 95% interval of
their difference (the half-widths in quadrature). These count as disagreements with
`check --against DIR --strict-timing`; without it they are printed, not failed, because two
machines (or a container and its host) legitimately time differently and the paired intervals,
computed within one run, understate run-to-run noise.
"""
import math
import os

from artifact.core.errors import MissingInputError
from artifact.core.metrics import PAIRED_RATIO, PAIRED_RATIO_CI, exact_metrics
from artifact.core.results import ResultsDir
from artifact.host.judge.combine import check_verdicts
from artifact.host.judge.rederive import derive
from artifact.host.judge.verdicts import DEVIATION, FAIL, PASS

EXACT_METRICS = exact_metrics()
EXACT_REL = 0.01
JUDGED = (PASS, DEVIATION, FAIL)
# what a SKIPPED verdict says when the cell was measured but its reading could not be used (the meters' and the
# judge's own words: artifact.device.run.meters, artifact.device.measure.power, artifact.host.judge.verdicts)
UNUSABLE_READING = ("is not physical", "not physical:", "power not resolvable", "power sensor stuck")


def _unusable_reading(verdict: dict) -> bool:
    return any(words in (verdict.get("explanation") or "") for words in UNUSABLE_READING)


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= EXACT_REL * max(abs(a), abs(b), 1e-12)


def disagreements(verdicts: dict, reference: dict) -> list[str]:
    """One line per disagreement between two verdicts.json documents (empty: they agree)."""
    now = {v["claim_id"]: v for v in verdicts["verdicts"]}
    before = {v["claim_id"]: v for v in reference["verdicts"]}
    problems = []
    for cid, old in sorted(before.items()):
        new = now.get(cid)
        if new is None:
            problems.append(f"{cid}: in the reference verdicts, absent here (claims differ?)")
            continue
        if old["outcome"] in JUDGED and new["outcome"] not in JUDGED:
            problems.append(f"{cid}: {old['outcome']} in the reference, {new['outcome']} here: {new['explanation']}")
        elif old["outcome"] not in JUDGED and new["outcome"] in JUDGED and not _unusable_reading(old):
            problems.append(f"{cid}: {old['outcome']} in the reference but judged here ({new['outcome']}): "
                            "the run measured something the reference could not")
        elif new.get("metric") in EXACT_METRICS and old["outcome"] in JUDGED and (
                new["outcome"] != old["outcome"] or not _close(new["measured"], old["measured"])):
            problems.append(f"{cid}: exact metric {new['metric']} moved: {old['outcome']} {old['measured']} "
                            f"-> {new['outcome']} {new['measured']}")
    return problems


def timing_disagreements(records: dict, reference_records: dict) -> list[str]:
    """One line per cell whose paired time ratio differs from the reference's beyond both intervals."""
    problems = []
    for key in sorted(set(records) & set(reference_records)):
        pairs: list[tuple[float, float]] = []
        for record in (records[key], reference_records[key]):
            m = record.measurements.get("inference_time_s")
            ratio, ci = derive(m, PAIRED_RATIO), derive(m, PAIRED_RATIO_CI)  # from the windows, as the judge does
            if not (isinstance(ratio, (int, float)) and isinstance(ci, (int, float))
                    and all(math.isfinite(v) and v > 0 for v in (ratio, ci))):
                break
            pairs.append((float(ratio), float(ci) * float(ratio)))
        if len(pairs) != 2:
            continue
        (new, h_new), (old, h_old) = pairs
        bound = math.hypot(h_new, h_old)
        if abs(new - old) > bound:
            problems.append(f"{key}: paired time ratio {new:.3f} here, {old:.3f} in the reference: "
                            f"|difference| {abs(new - old):.3f} > {bound:.3f} (95% intervals in quadrature)")
    return problems


def reference_verdicts(reference_dir: str) -> dict:
    """The verdicts.json of `--against DIR`, read and checked as summary reads a run's (one line, exit 2): before
    `check` takes the lock or writes anything."""
    reference = ResultsDir(reference_dir)
    if not os.path.isfile(reference.verdicts_json):
        raise MissingInputError(f"--against {reference_dir}: no verdicts.json there; give a results or "
                                "expected_results/reference/<profile> directory")
    return {"verdicts": check_verdicts(reference.read_verdicts(), reference.verdicts_json,
                                       "give the directory of a run that `check` judged")}
