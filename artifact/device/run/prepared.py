"""A cell between the two stages of a two-stage run: prepared (compressed, saved, its quiet-insensitive meters run)
but not yet timed.

    results/<profile>/prepared/<cell key>.json   (ResultsDir.prepared_file; kind artifact-prepared-cell)

It holds the partial record and the deployed file it was measured on (path, size, mtime): the quiet stage times
that file, and no other. It lives outside records/, so `pending_cells`, `check` and `report` never see it: a kill
between the stages leaves the cell pending, never half-measured. A partial whose model file is gone or changed
is stale: it is removed and the cell prepared again.
"""
import os
import sys
from typing import Any, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ArtifactError
from artifact.core.jsonfile import FORMAT_VERSION, check_format, read_json, write_json_atomic
from artifact.core.records import Record
from artifact.core.results import ResultsDir  # noqa: F401 (a name of the type comments)

PREPARED_KIND = "artifact-prepared-cell"


def _file_identity(path):
    # type: (str) -> Any
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns]


def save_prepared(results, record, model_path):
    # type: (ResultsDir, Record, str) -> str
    """Write the partial record of a prepared cell, naming the deployed file its meters ran on (atomically: a kill
    leaves the old file or none)."""
    path = results.prepared_file(record.key)
    os.makedirs(results.prepared, exist_ok=True)
    write_json_atomic(path, {"format_version": FORMAT_VERSION, "kind": PREPARED_KIND, "record": record.to_dict(),
                             "model_file": results.relative(model_path),
                             "model_identity": _file_identity(model_path)})
    return path


def load_prepared(results, cell):
    # type: (ResultsDir, Any) -> Optional[Any]
    """(the partial record, its model file) of a prepared cell, or None: none prepared, or a stale or unreadable
    partial (removed, said on stderr: the cell is prepared again)."""
    path = results.prepared_file(cell.key)
    if not os.path.exists(path):
        return None
    why = None
    try:
        data = read_json(path, "prepared cell")
        check_format(data, PREPARED_KIND, path, "it is removed and the cell prepared again")
        record = Record.from_dict(data["record"], source=path)
        model_path = os.path.join(results.path, data["model_file"])
        if record.cell != cell.to_dict():
            why = "made for another definition of the cell"
        elif not os.path.exists(model_path):
            why = "its model file {} is gone".format(model_path)
        elif _file_identity(model_path) != list(data["model_identity"]):
            why = "its model file {} changed after it was prepared".format(model_path)
    except (ArtifactError, KeyError, TypeError, ValueError) as exc:
        why = "unreadable ({})".format(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if why is not None:
        sys.stderr.write("warning: {}: {}; the cell is prepared again\n".format(path, why))
        discard_prepared(results, cell.key)
        return None
    return record, model_path


def discard_prepared(results, cell_key):
    # type: (ResultsDir, str) -> None
    try:
        os.remove(results.prepared_file(cell_key))
    except OSError:
        pass
