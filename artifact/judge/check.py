"""`invoke check`: judge every claim against a run's records and write verdicts.json."""
import os
import time

from artifact.errors import FormatError
from artifact.judge.claims import CLAIMS_DIR, load_claims
from artifact.judge.verdicts import RunView, Verdict, judge, summarize
from artifact.records import FORMAT_VERSION, check_format, load_records, read_json, write_json_atomic

VERDICTS_KIND = "artifact-verdicts"
RUN_KIND = "artifact-run"


def run_info_path(results_dir: str) -> str:
    return os.path.join(results_dir, "run.json")


def verdicts_path(results_dir: str) -> str:
    return os.path.join(results_dir, "verdicts.json")


def load_run_info(results_dir: str) -> dict:
    path = run_info_path(results_dir)
    if not os.path.exists(path):
        raise FormatError(f"{path}: no run here; run `invoke run` (or `invoke reproduce-all`) first")
    data = read_json(path, "run")
    check_format(data, RUN_KIND, path, "re-run `invoke run`")
    return data


def check(results_dir: str, claims_dir: str = CLAIMS_DIR) -> dict:
    info = load_run_info(results_dir)
    records = load_records(os.path.join(results_dir, "records"))
    view = RunView(records, info.get("stands_for", {}))
    verdicts = [judge(claim, view) for claim in load_claims(claims_dir)]
    data = {"format_version": FORMAT_VERSION, "kind": VERDICTS_KIND, "profile": info.get("profile"),
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "claims_dir": os.path.relpath(claims_dir),
            "counts": summarize(verdicts),
            "flagged": sum(1 for v in verdicts if v.flags), "verdicts": [v.to_dict() for v in verdicts]}
    write_json_atomic(verdicts_path(results_dir), data)
    return data


def load_verdicts(results_dir: str) -> tuple[dict, list[Verdict]]:
    path = verdicts_path(results_dir)
    if not os.path.exists(path):
        raise FormatError(f"{path}: no verdicts yet; run `invoke check` first")
    data = read_json(path, "verdicts")
    check_format(data, VERDICTS_KIND, path, "re-run `invoke check`")
    try:
        return data, [Verdict(**v) for v in data["verdicts"]]
    except (KeyError, TypeError) as exc:
        raise FormatError(f"{path}: malformed verdicts ({exc}); re-run `invoke check`") from None
