"""`invoke check`: judge every claim against a run's records and write verdicts.json."""
import os

from artifact.core.errors import FormatError
from artifact.core.metrics import BUSY_MACHINE
from artifact.core.packages import stale_package
from artifact.core.records import record_path
from artifact.core.results import as_results, timestamp
from artifact.host.judge.claims import CLAIMS_DIR, load_claims
from artifact.host.judge.grade import LEVELS, grade
from artifact.host.judge.rederive import check_summaries
from artifact.host.judge.tidy import rows as tidy_rows
from artifact.host.judge.tidy import to_csv
from artifact.host.judge.verdicts import RunView, Verdict, judge, summarize


def load_run_info(results_dir) -> dict:
    return as_results(results_dir).read_run_info()


def check(results_dir: str, claims_dir: str = CLAIMS_DIR) -> dict:
    results = as_results(results_dir)
    info = results.read_run_info()
    records = results.load_records()
    rails = info.get("power_rails")
    for key, record in sorted(records.items()):
        measured_on = record.power_rails()
        rails = rails or measured_on  # a run from before run.json kept them: its records must agree
        if measured_on is not None and measured_on != rails:
            raise FormatError(f"{results.record_file(key)}: power measured on {measured_on}, but this run's power "
                              f"is {rails} (run.json power_rails); delete the record and `invoke run` again, or "
                              "give --results NEWDIR")
        stale = stale_package(record.provenance, results.retrained)
        if stale:
            raise FormatError(f"{results.record_file(key)}: stale, {stale}; run `invoke run` (it measures the cell "
                              "again)")
        check_summaries(record, record_path(results.records, key))  # every summary the judge uses is re-derived
    claims = load_claims(claims_dir)  # every input checked before anything is written
    view = RunView(records, info.get("stands_for", {}))
    verdicts = [judge(claim, view) for claim in claims]
    for verdict in verdicts:  # what each verdict stands on, from the records it was judged on
        verdict.grade = grade(verdict.to_dict(), records)
    results.write_text_atomic(results.results_csv, to_csv(tidy_rows(records, info.get("profile") or "")))
    label = info.get("label") or ""
    for verdict in verdicts:  # a quick run's verdicts say so wherever they are shown
        if label and verdict.outcome not in ("NOT-RUN",):
            verdict.explanation = f"{label} (looser precision targets): {verdict.explanation}"
    data = {"profile": info.get("profile"), "label": label, "checked_at": timestamp(),
            "claims_dir": os.path.relpath(claims_dir),
            "counts": summarize(verdicts), "flagged": sum(1 for v in verdicts if v.flags),
            "busy": sum(1 for v in verdicts if any(BUSY_MACHINE in f for f in v.flags)),
            "grades": {level: sum(1 for v in verdicts if v.grade.get("level") == level) for level in LEVELS},
            "verdicts": [v.to_dict() for v in verdicts]}
    return results.write_verdicts(data)


def load_verdicts(results_dir) -> tuple[dict, list[Verdict]]:
    results = as_results(results_dir)
    data = results.read_verdicts()
    try:
        return data, [Verdict(**v) for v in data["verdicts"]]
    except (KeyError, TypeError) as exc:
        raise FormatError(f"{results.verdicts_json}: malformed verdicts ({exc}); re-run `invoke check`") from None
