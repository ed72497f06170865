"""One answer per claim: the verdicts of every profile that ran, combined (`python -m artifact summary`).

For each claim the most faithful evidence wins: a judged verdict (PASS, DEVIATION, FAIL) over SKIPPED
over NOT-RUN; then the paper's own architectures over stand-ins (the mini-zoo); then a Jetson over any
other machine; then the order the runs were given in. The other profiles' verdicts are shown beside it.
Each section of the paper is then: reproduced (every judged claim PASSes), partly (PASS and DEVIATION or
FAIL), not reproduced (none PASSes), or not testable here (nothing judged: why, from the verdicts).
"""
import os
import re

from artifact.core.catalog import TABLE_I
from artifact.core.errors import ConfigError, FormatError
from artifact.core.results import ResultsDir
from artifact.core.schema import check, field
from artifact.host.judge.verdicts import DEVIATION, FAIL, NOT_RUN, OUTCOMES, PASS, SKIPPED

JUDGED = (PASS, DEVIATION, FAIL)


def section_of(source: str) -> str:
    """'§IV-C, Fig 13a' -> 'IV-C'; 'Table I' -> 'Table I'."""
    match = re.match(r"§([IVX]+-[A-Z])", source)
    return match.group(1) if match else source.split(",")[0].strip()


def _rank(verdict: dict, on_jetson: bool) -> tuple:
    judged = 0 if verdict["outcome"] in JUDGED else (1 if verdict["outcome"] == SKIPPED else 2)
    stand_in = 0 if verdict["models"] and all(m in TABLE_I for m in verdict["models"]) else 1
    return judged, stand_in, 0 if on_jetson else 1


# The fields of a verdict the summary reads, and their types (artifact.host.judge.verdicts.Verdict writes them).
VERDICT_FIELDS = (("claim_id", "a string"), ("outcome", "a string"), ("source", "a string"),
                  ("explanation", "a string"), ("models", "a table"))


def read_verdicts(results: ResultsDir) -> list[dict]:
    """A run's verdicts, each field the summary reads checked: one line naming the file and the field."""
    data, fix = results.read_verdicts(), "re-run `invoke check` on that run"
    where = results.verdicts_json
    verdicts = field(data, "verdicts", "a list", where, fix)
    for i, verdict in enumerate(verdicts):
        at = f"{where}: verdicts[{i}]"
        check(verdict, "a table", at, fix)
        for name, kind in VERDICT_FIELDS:
            field(verdict, name, kind, at, fix)
        if verdict["outcome"] not in OUTCOMES:
            raise FormatError(f"{at}.outcome: {verdict['outcome']!r} is not an outcome ({', '.join(OUTCOMES)}); {fix}")
    return verdicts


def combine(results_dirs: list[str]) -> dict:
    runs = []
    for path in results_dirs:
        if not os.path.isdir(path):
            raise ConfigError(f"--results {path}: no such results directory; give the directories of runs that were "
                              "checked (comma-separated)")
        results = ResultsDir(path)
        info, verdicts = results.read_run_info(), read_verdicts(results)
        on_jetson = bool((info.get("environment") or {}).get("l4t_release"))
        runs.append((info.get("profile") or path, on_jetson, {v["claim_id"]: v for v in verdicts}))
    chosen = []
    for claim_id in sorted({cid for _, _, verdicts in runs for cid in verdicts}):
        candidates = [(profile, jetson, verdicts[claim_id]) for profile, jetson, verdicts in runs
                      if claim_id in verdicts]
        best = min(range(len(candidates)), key=lambda i: (_rank(candidates[i][2], candidates[i][1]), i))
        profile, _, verdict = candidates[best]
        others = [f"{p}: {v['outcome']}" for i, (p, _, v) in enumerate(candidates) if i != best]
        chosen.append(dict(verdict, profile=profile, also=others))
    sections: dict = {}
    for verdict in chosen:
        sections.setdefault(section_of(verdict["source"]), []).append(verdict)
    summary = []
    for section, verdicts in sections.items():
        judged = [v for v in verdicts if v["outcome"] in JUDGED]
        passed = [v for v in judged if v["outcome"] == PASS]
        if not judged:
            reasons = sorted({v["explanation"].split(";")[0][:120] for v in verdicts})
            status, why = "not testable here", "; ".join(reasons[:3])
        elif len(passed) == len(judged):
            status, why = "reproduced", f"{len(passed)} of {len(judged)} judged claims PASS"
        elif passed:
            status, why = "partly", "{} PASS; not: {}".format(len(passed), "; ".join(
                f"{v['claim_id']} {v['outcome']}" for v in judged if v["outcome"] != PASS))
        else:
            status, why = "not reproduced", "; ".join(f"{v['claim_id']} {v['outcome']}" for v in judged)
        untested = len(verdicts) - len(judged)
        summary.append({"section": section, "status": status, "claims": len(verdicts), "judged": len(judged),
                        "not judged here": untested, "why": why})
    counts = {o: sum(1 for v in chosen if v["outcome"] == o) for o in OUTCOMES}
    return {"runs": [p for p, _, _ in runs], "counts": counts, "sections": summary,
            "verdicts": chosen}


__all__ = ["NOT_RUN", "combine", "section_of"]
