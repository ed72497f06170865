"""JSON files of the artifact: written atomically, read with one-line errors, kind and version checked."""
import json
import math
from typing import Any  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.atomic import write_atomic
from artifact.core.errors import FormatError

FORMAT_VERSION = 1  # of every JSON file the artifact writes (records, run, inputs, verdicts)


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def dumps_json(data):
    # type: (Any) -> str
    """Strict JSON text of `data` (indented, keys sorted): a non-finite number is null, never a bare NaN/Infinity."""
    return json.dumps(_json_safe(data), indent=1, sort_keys=True, allow_nan=False)


def write_json_atomic(path, data):
    # type: (str, Any) -> None
    """Write JSON so that readers see the old file or the whole new one, never a part (artifact.core.atomic)."""
    write_atomic(path, dumps_json(data) + "\n")


def read_json(path, what):
    # type: (str, str) -> Any
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        raise FormatError("{}: no such {} file".format(path, what))
    except IsADirectoryError:
        raise FormatError("{}: is a directory, not a {} file".format(path, what))
    except UnicodeDecodeError as exc:
        raise FormatError("{}: not UTF-8 ({}); delete it and regenerate it".format(path, exc))
    except ValueError as exc:
        raise FormatError("{}: not valid JSON ({}); delete it and regenerate it".format(path, exc))


def check_format(data, kind, source, fix):
    # type: (Any, str, str, str) -> None
    """Refuse files of another kind or an unknown format version, saying what to do."""
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise FormatError("{}: not an {} file; {}".format(source, kind, fix))
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise FormatError("{}: format_version {!r}, this artifact reads {}; {}".format(
            source, version, FORMAT_VERSION, fix))
