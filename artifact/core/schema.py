"""Small declared checks for the files the artifact reads: one line naming the file, the field's path
in it and the fix. Stdlib only (the device side loads records and profiles on Python 3.6, where the
usual validation libraries have no release that runs on both ends), so the schemas are the registries
themselves (`metrics`, `techniques`, `catalog`) plus these checks.

Non-finite numbers in sample lists are written as the strings "NaN", "Infinity", "-Infinity" (JSON has
no token for them) and read back as floats; `null`, what older versions wrote, reads as NaN.
"""
import math
import numbers
import re
from typing import Any, Dict, Iterable, List  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError

NONFINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_KINDS = {
    "a string": lambda v: isinstance(v, str),
    "a whole number": lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool),
    "a number": lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool),
    "true or false": lambda v: isinstance(v, bool),
    "a table": lambda v: isinstance(v, dict),
    "a list": lambda v: isinstance(v, list),
}


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-]+\Z")


def shown_key(key):
    # type: (Any) -> str
    """A key read from a file as a message shows it: as written when it is a plain name, else quoted (repr), so a
    key holding a newline or a control character can never break the one-line message."""
    return key if isinstance(key, str) and _PLAIN_KEY.match(key) else repr(key)


def check(value, kind, where, fix, error=FormatError, optional=False):
    # type: (Any, str, str, str, type, bool) -> Any
    """`value` if it is of `kind` (a key of _KINDS; None passes when `optional`), else one line."""
    if optional and value is None:
        return value
    if not _KINDS[kind](value):
        raise error("{}: must be {}, got {!r}; {}".format(where, kind, _short(value), fix))
    return value


def field(data, name, kind, where, fix, error=FormatError, default=None, required=True):
    # type: (Dict[str, Any], str, str, str, str, type, Any, bool) -> Any
    if name not in data:
        if required:
            raise error("{}: missing field {!r}; {}".format(where, name, fix))
        return default
    return check(data[name], kind, "{}.{}".format(where, name) if where else name, fix, error)


def known_keys(data, allowed, where, fix, error=FormatError):
    # type: (Dict[str, Any], Iterable[str], str, str, type) -> None
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise error("{}: unknown field {!r} (known: {}); {}".format(where, unknown[0], ", ".join(sorted(allowed)), fix))


def encode_number(x):
    # type: (float) -> Any
    return x if math.isfinite(x) else ("NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity"))


def numbers_list(value, where, fix, error=FormatError):
    # type: (Any, str, str, type) -> List[float]
    """A list of numbers, with the declared encoding of non-finite ones."""
    check(value, "a list", where, fix, error)
    out = []
    for i, item in enumerate(value):
        if item is None:
            out.append(float("nan"))
        elif isinstance(item, str) and item in NONFINITE:
            out.append(NONFINITE[item])
        else:
            out.append(float(check(item, "a number", "{}[{}]".format(where, i), fix, error)))
    return out


def _short(value):
    # type: (Any) -> Any
    text = repr(value)
    return value if len(text) <= 60 else text[:57] + "..."
