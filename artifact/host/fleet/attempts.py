"""Attempts and the exactly-once commit.

Dask runs a task at least once (a worker lost mid-task has its task run again elsewhere), so exactly-once
is ours: each try of a cell runs in an attempt directory of its own,

    <results>/fleet/attempts/<task key>/<attempt id>/     (a results directory: records/, models/, logs/)

and its record is committed into <results>/records/ first-writer-wins: a hard link of the attempt's record,
which fails when the target exists (os.link never replaces). A later attempt's record is set aside, never
over the committed one:

    <results>/fleet/aside/<cell key>--<attempt id>.json

Model files (the published baseline, a server's package) are published the same way: a link, or a
directory renamed into place (a rename onto a non-empty directory fails), so the first one stays.
"""
import json
import os
import shutil
import time
import uuid

from artifact.core.atomic import write_atomic
from artifact.core.records import record_path
from artifact.core.results import FleetDir


def attempt_id(worker: str) -> str:
    """Unique per try: the worker's name, a time and a random part (sortable by time within a worker)."""
    return f"{worker}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


def attempt_dir(results: str, task_key: str, attempt: str) -> str:
    path = FleetDir(results).attempt(task_key, attempt)
    os.makedirs(path, exist_ok=True)
    return path


def commit_record(record_file: str, records: str, cell_key: str, attempt: str, results: str) -> tuple:
    """Link the attempt's record into `records` unless a record of the cell is there: ("committed", path) or
    ("aside", path); the attempt's file is never changed, the committed one never replaced."""
    target = commit_first(record_file, records, cell_key)
    if target:
        return "committed", target
    kept = FleetDir(results).aside_record(cell_key, attempt)
    os.makedirs(os.path.dirname(kept), exist_ok=True)
    try:
        os.link(record_file, kept)
    except FileExistsError:
        pass
    return "aside", kept


def commit_first(record_file: str, records: str, cell_key: str) -> str:
    """Link the record into `records` unless the cell has one there: its path, or "" (nothing changed)."""
    os.makedirs(records, exist_ok=True)
    target = record_path(records, cell_key)
    try:
        os.link(record_file, target)
        return target
    except FileExistsError:
        return ""


def keep_reference(record_file: str, kind_results: str, records: str, board: str, cell_key: str) -> str:
    """A board's reference record: kept as that board's (FleetDir.reference_record, unless it has one) and linked
    into `records` as the cell's record if it has none: that path, or "" (the cell had one)."""
    publish_file(record_file, FleetDir(kind_results).reference_record(board, cell_key))
    return commit_first(record_file, records, cell_key)


def stamp_record(record_file: str, out: str, stamp: dict) -> str:
    """A copy of the attempt's record with the board's identity in its environment (`fleet_*`, `board_serial`),
    written to `out` in the attempt (`.tmp-` then os.replace): the file that is then linked into records/."""
    with open(record_file) as handle:
        data = json.load(handle)
    data.setdefault("environment", {}).update({k: str(v) for k, v in stamp.items()})
    write_atomic(out, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return out


def publish_file(source: str, target: str) -> bool:
    """Link `source` to `target` unless it exists (True: this one was published)."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError:   # another filesystem: a copy under a temporary name, then the same no-replace link
        tmp = os.path.join(os.path.dirname(target), ".tmp-" + os.path.basename(target))
        shutil.copy2(source, tmp)
        try:
            os.link(tmp, target)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)


def publish_dir(source: str, target: str) -> bool:
    """Copy the directory `source` to `target` unless one is there (True: this one was published)."""
    if os.path.isdir(target):
        return False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = os.path.join(os.path.dirname(target), f".tmp-{os.path.basename(target)}-{uuid.uuid4().hex[:8]}")
    shutil.copytree(source, tmp)
    try:
        os.rename(tmp, target)   # onto an existing non-empty directory: fails, the first one stays
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def seed(source: str, target: str) -> None:
    """Give an attempt a published file or directory (hard links where the filesystem allows: read only)."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.isdir(source):
        shutil.copytree(source, target, copy_function=_link_or_copy, dirs_exist_ok=True)
    elif not os.path.exists(target):
        _link_or_copy(source, target)


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def committed_keys(records: str) -> set:
    if not os.path.isdir(records):
        return set()
    return {n[:-len(".json")] for n in os.listdir(records) if n.endswith(".json") and not n.startswith(".")}
