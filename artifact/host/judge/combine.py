"""One answer per claim: the verdicts of every profile that ran, combined (`python -m artifact summary`).

Every verdict is graded from the records it was judged on (artifact.host.judge.grade: the model, the power
sensor, the platform, the measurement flags), never from a run's name or a field a person sets. For each
claim the best evidence wins: a judged verdict (PASS, DEVIATION, FAIL) over SKIPPED over NOT-RUN; then the
better grade (the paper's models on its board, then elsewhere, then stand-ins; the paper's architecture
before a stand-in model); then fewer flags; then more of the claim's models; then the order the runs were
given in. A verdict on an EMULATED power sensor (a test waveform) is never an answer about the paper: it is
shown beside the answer, and a claim only such a run judged is SKIPPED here. The other profiles' verdicts
are shown beside each answer, with their grades.

Each section of the paper is then judged on the verdicts of adequate grade only (grade.ADEQUATE): reproduced
(every one PASSes), partly (PASS and DEVIATION or FAIL), not reproduced (none PASSes), each "on an x86 CPU"
or "on another board" where a platform-dependent number was not measured on the paper's board; "stand-ins
only" when only stand-in models were judged; or not testable here (nothing judged: why, from the verdicts).
"""
import math
import os
import re
import textwrap

from artifact.core.errors import ConfigError, FormatError
from artifact.core.evidence import OTHER_BOARD, PLATFORMS, X86_CPU, emulated
from artifact.core.metrics import METRICS
from artifact.core.results import ResultsDir
from artifact.core.schema import check, field
from artifact.host.judge.grade import (
    ADEQUATE,
    EMULATED,
    LEVELS,
    MODELS,
    OTHER_PLATFORM,
    SENSORS,
    STAND_IN,
    describe,
    grade,
    rank,
)
from artifact.host.judge.verdicts import DEVIATION, FAIL, NOT_RUN, OUTCOMES, PASS, SKIPPED

JUDGED = (PASS, DEVIATION, FAIL)
WHY_WIDTH = 120  # characters of each verdict's reason in a section's "why"


def clip(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut between words with ' …' (the summary, its page and the report)."""
    return textwrap.shorten(text, width, placeholder=" …")

ON = {X86_CPU: "on an x86 CPU", OTHER_BOARD: "on another board"}


def section_of(source: str) -> str:
    """'§IV-C, Fig 13a' -> 'IV-C'; 'Table I' -> 'Table I'."""
    match = re.match(r"§([IVX]+-[A-Z])", source)
    return match.group(1) if match else source.split(",")[0].strip()


def _rank(verdict: dict) -> tuple:
    judged = 0 if verdict["outcome"] in JUDGED else (1 if verdict["outcome"] == SKIPPED else 2)
    return (judged,) + rank(verdict["grade"]) + (-len(verdict["models"]),)


def _shown(profile: str, verdict: dict) -> str:
    level = verdict["grade"].get("level")
    return f"{profile}: {verdict['outcome']}" + (f" ({level})" if level else "")


def _emulated_only(verdict: dict, profiles: list) -> dict:
    """The answer to a claim only emulated-sensor runs judged: SKIPPED, saying so."""
    why = ("measured here only on an EMULATED power sensor tree ({}): a test waveform, not hardware; "
           "needs a real power sensor".format(", ".join(profiles)))
    return dict(verdict, outcome=SKIPPED, measured=None, delta=None, models={}, evidence=[], flags=[], grade={},
                explanation=why)


def _answer(candidates: list) -> dict:
    usable = [i for i, (_, v) in enumerate(candidates)
              if v["grade"].get("level") != EMULATED and not v.get("emulated_sensor_run")]
    if usable:
        best = min(usable, key=lambda i: (_rank(candidates[i][1]), i))
        profile, verdict = candidates[best]
    else:
        best, (profile, verdict) = -1, candidates[0]
        verdict = _emulated_only(verdict, [p for p, _ in candidates])
        profile = "—"
    others = [_shown(p, v) for i, (p, v) in enumerate(candidates) if i != best]
    return dict(verdict, profile=profile, also=others, grade_text=describe(verdict["grade"]))


def _section(verdicts: list) -> dict:
    judged = [v for v in verdicts if v["outcome"] in JUDGED]
    counted = [v for v in judged if v["grade"].get("level") in ADEQUATE]
    stand_ins = [v for v in judged if v["grade"].get("level") == STAND_IN]
    passed = [v for v in counted if v["outcome"] == PASS]
    if not counted and stand_ins:
        status = "stand-ins only"
        why = "{} of {} judged on stand-ins PASS (stand-in models, or untrained weights where the weights " \
              "decide the number): not evidence about the paper's models".format(
            sum(1 for v in stand_ins if v["outcome"] == PASS), len(stand_ins))
    elif not counted:
        reasons = sorted({clip(v["explanation"].split(";")[0], WHY_WIDTH) for v in verdicts})
        status, why = "not testable here", "; ".join(reasons[:3])
    else:
        if len(passed) == len(counted):
            status, why = "reproduced", f"{len(passed)} of {len(counted)} judged claims PASS"
        elif passed:
            status, why = "partly", "{} PASS; not: {}".format(len(passed), "; ".join(
                f"{v['claim_id']} {v['outcome']}" for v in counted if v["outcome"] != PASS))
        else:
            status, why = "not reproduced", "; ".join(f"{v['claim_id']} {v['outcome']}" for v in counted)
        elsewhere = [v["grade"]["platform"] for v in counted if v["grade"]["level"] == OTHER_PLATFORM]
        if elsewhere:
            status += " " + ON[X86_CPU if X86_CPU in elsewhere else OTHER_BOARD]
        if stand_ins:
            why += f"; not counted: {len(stand_ins)} judged on stand-ins"
    return {"status": status, "claims": len(verdicts), "judged": len(counted),
            "not judged here": len(verdicts) - len(counted), "why": why}


# The fields of a verdict the summary and `check --against` read, and their types (artifact.host.judge.verdicts.Verdict
# writes every one): (name, kind, required). An optional field may be absent; present, it must be of its kind.
VERDICT_FIELDS = (("claim_id", "a string", True), ("outcome", "a string", True), ("source", "a string", True),
                  ("explanation", "a string", True), ("models", "a table", True), ("metric", "a string", True),
                  ("paper_value", "a number", True), ("measured", "a number or null", True),
                  ("evidence", "a list of strings", False), ("flags", "a list of strings", False),
                  ("grade", "a table", False))
# the fields of a non-empty stored grade (artifact.host.judge.grade.grade writes them), with the words each may be
GRADE_FIELDS = (("level", LEVELS), ("model", MODELS), ("platform", PLATFORMS), ("sensor", SENSORS), ("quality", None))
QUALITY = re.compile(r"(clean|[0-9]+ flagged)\Z")


def _typed(verdict: dict, name: str, kind: str, at: str, fix: str) -> None:
    value = verdict[name]
    where = f"{at}.{name}"
    if kind == "a number or null":
        check(value, "a number", where, fix, optional=True)
    elif kind == "a list of strings":
        for i, item in enumerate(check(value, "a list", where, fix)):
            check(item, "a string", f"{where}[{i}]", fix)
    else:
        check(value, kind, where, fix)


def _check_grade(stored: dict, at: str, fix: str) -> None:
    """A stored grade is {} (nothing judged) or what grade.grade writes: ranked and described as it is."""
    if not stored:
        return
    for name, words in GRADE_FIELDS:
        value = field(stored, name, "a string", at, fix)
        if words is not None and value not in words:
            raise FormatError(f"{at}.{name}: {value!r} is not one of {', '.join(words)}; {fix}")
    if not QUALITY.match(stored["quality"]):
        raise FormatError(f"{at}.quality: {stored['quality']!r} is not 'clean' or '<n> flagged'; {fix}")
    for i, board in enumerate(check(stored.get("boards", []), "a list", f"{at}.boards", fix)):
        check(board, "a string", f"{at}.boards[{i}]", fix)


def check_verdicts(data, where: str, fix: str) -> list[dict]:
    """The verdicts of a verdicts.json document, each field a reader uses checked: one line naming the file and
    the field (summary and `check --against` read verdicts only through this)."""
    verdicts = field(data, "verdicts", "a list", where, fix)
    for i, verdict in enumerate(verdicts):
        at = f"{where}: verdicts[{i}]"
        check(verdict, "a table", at, fix)
        for name, kind, required in VERDICT_FIELDS:
            if name not in verdict:
                if required:
                    raise FormatError(f"{at}: missing field {name!r}; {fix}")
                continue
            _typed(verdict, name, kind, at, fix)
        if verdict["outcome"] not in OUTCOMES:
            raise FormatError(f"{at}.outcome: {verdict['outcome']!r} is not an outcome ({', '.join(OUTCOMES)}); {fix}")
        if verdict["metric"] and verdict["metric"] not in METRICS:
            raise FormatError(f"{at}.metric: {verdict['metric']!r} is not a metric (artifact.core.metrics); {fix}")
        if not math.isfinite(verdict["paper_value"]):
            raise FormatError(f"{at}.paper_value: must be a finite number, got {verdict['paper_value']!r}; {fix}")
        _check_grade(verdict.get("grade") or {}, f"{at}.grade", fix)
    return verdicts


def read_verdicts(results: ResultsDir) -> list[dict]:
    """A run's verdicts, each field the summary reads checked: one line naming the file and the field."""
    return check_verdicts(results.read_verdicts(), results.verdicts_json, "re-run `invoke check` on that run")


def combine(results_dirs: list[str]) -> dict:
    runs = []
    for path in results_dirs:
        if not os.path.isdir(path):
            raise ConfigError(f"--results {path}: no such results directory; give the directories of runs that were "
                              "checked (comma-separated)")
        results = ResultsDir(path)
        info, verdicts, records = results.read_run_info(), read_verdicts(results), results.load_records()
        # graded again from the records (runs judged before grades existed); what check stored where they are gone
        graded = {v["claim_id"]: dict(v, grade=grade(v, records) or v.get("grade") or {}) for v in verdicts}
        # a power claim this run did not judge (SKIPPED: a non-physical reading, say) is still a word from an
        # emulated sensor tree when the run had one: never the answer about the paper either
        on_emulated_tree = emulated(info.get("environment") or {}) or any(emulated(r.environment)
                                                                           for r in records.values())
        for v in graded.values():
            if on_emulated_tree and v.get("metric") in METRICS and METRICS[v["metric"]].group == "power":
                v["emulated_sensor_run"] = True
        runs.append((info.get("profile") or path, graded))
    chosen = []
    for claim_id in sorted({cid for _, verdicts in runs for cid in verdicts}):
        chosen.append(_answer([(p, verdicts[claim_id]) for p, verdicts in runs if claim_id in verdicts]))
    sections: dict = {}
    for verdict in chosen:
        sections.setdefault(section_of(verdict["source"]), []).append(verdict)
    summary = [dict(section=section, **_section(verdicts)) for section, verdicts in sections.items()]
    counts = {o: sum(1 for v in chosen if v["outcome"] == o) for o in OUTCOMES}
    grades = {level: sum(1 for v in chosen if v["outcome"] in JUDGED and v["grade"].get("level") == level)
              for level in LEVELS if level != EMULATED}
    return {"runs": [p for p, _ in runs], "counts": counts, "grades": grades, "sections": summary,
            "verdicts": chosen}


def evidence_line(data: dict) -> str:
    """How many claims were judged, on what grade of evidence (grade.LEVELS), and how many of those answers rest
    on flagged measurements: a flag (no convergence, a busy machine, throttling) is shown beside the answer and
    the answer counts at its grade, as adequate evidence where the grade is."""
    g = data["grades"]
    flagged = sum(1 for v in data["verdicts"]
                  if v["outcome"] in JUDGED and (v.get("grade") or {}).get("quality", "clean") != "clean")
    return ("judged {} of {} claims: {} on the paper's models (on its board, or a number no platform changes), "
            "{} on the paper's models on another platform, {} on stand-ins only; {} not judged here; {} of the "
            "judged rest on flagged measurements (counted at their grade: a flag is shown beside the answer, it "
            "does not disqualify it)").format(
        sum(g.values()), len(data["verdicts"]), g["paper"], g["other platform"], g["stand-in"],
        len(data["verdicts"]) - sum(g.values()), flagged)


__all__ = ["NOT_RUN", "check_verdicts", "combine", "evidence_line", "section_of"]
