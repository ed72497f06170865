"""The one atomic writer: every file the artifact writes into a results directory is written by `write_atomic`.

A reader, or a run killed mid-write, finds the old file or the whole new one, never a part of it or an empty
file: the content goes to a temporary file in the target's own directory whose name starts with ".tmp-" (the
leftovers of killed writes, swept under a results directory's lock: `ResultsDir.remove_leftovers`), is
flushed and fsynced, then renamed over the target (os.replace, atomic within a file system).
"""
import os
import tempfile
from typing import IO, Any, Callable, Union  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError

TMP_PREFIX = ".tmp-"  # every temporary file of a write in progress


def write_atomic(path, content, binary=False):
    # type: (str, Union[str, bytes, Callable[[IO[Any]], Any]], bool) -> None
    """Replace `path` with `content`: text (written as UTF-8), bytes, or a function that writes into the open
    file it is given (`binary`: the file is opened for bytes, e.g. matplotlib's savefig or a zip archive)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix="-" + os.path.basename(path)[-40:], dir=directory)
    except OSError as exc:
        raise ConfigError("{}: cannot write it ({}); give a results directory you can write to".format(
            path, exc.strerror or exc))
    try:
        as_bytes = binary or isinstance(content, bytes)
        with (os.fdopen(fd, "wb") if as_bytes else os.fdopen(fd, "w", encoding="utf-8")) as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ConfigError("{}: cannot write it ({}); give a results directory you can write to".format(
                path, exc.strerror or exc)) from None
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    # type: (str) -> None
    """Make the rename itself durable (best effort: some file systems cannot open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
