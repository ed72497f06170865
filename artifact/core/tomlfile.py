"""TOML files (profiles, claims, settings): tomllib on Python >= 3.11, its backport tomli below.

tomli is the one third-party package `core` may import: it is tomllib itself, released for the
Pythons of the Jetson images (3.6, 3.8, 3.10) before it entered the standard library.
"""
from typing import Any, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

try:
    import tomllib as _toml  # novermin (Python >= 3.11)
except ImportError:  # pragma: no cover - Python 3.6 to 3.10 (Jetson images)
    import tomli as _toml  # type: ignore[no-redef]


def load_toml(path, what, error):
    # type: (str, str, type) -> Dict[str, Any]
    """The parsed file, or `error` (an ArtifactError subclass) with one line naming the file and the fix."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise error("{}: {} file not found".format(path, what))
    except IsADirectoryError:
        raise error("{}: is a directory, not a {} file".format(path, what))
    except UnicodeDecodeError as exc:
        raise error("{}: not UTF-8 text ({}); save the {} file as UTF-8".format(path, exc, what))
    try:
        return _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise error("{}: not valid TOML ({}); fix the syntax".format(path, exc))
