"""Progress of a long step you can watch: cells done and left, the current cell and phase, an ETA.

On a terminal, one status line is redrawn in place and a line is kept per finished cell; off a terminal
(a log, CI) only the line per finished cell is written, so a log still shows how far the run got and how
long it has left. Under `make`/invoke the stream is invoke's pipe: invoke sets ARTIFACT_PROGRESS_TTY=1 when
its own stderr is a terminal, and the pipe is then drawn on as one. The ETA is the mean wall time of the
cells finished so far times the cells left (Python 3.6-safe, stdlib only).
"""
import os
import sys
import time
from typing import Any, Callable, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

TTY_ENV = "ARTIFACT_PROGRESS_TTY"  # =1: the stream ends on a terminal (invoke's pipe to its own terminal)


def duration(seconds):
    # type: (float) -> str
    """45 -> '45 s'; 130 -> '2 min 10 s'; 4000 -> '1 h 07 min'."""
    seconds = int(round(max(0.0, seconds)))
    if seconds < 60:
        return "{} s".format(seconds)
    if seconds < 3600:
        return "{} min {:02d} s".format(seconds // 60, seconds % 60)
    return "{} h {:02d} min".format(seconds // 3600, seconds % 3600 // 60)


class CellProgress(object):
    """`phase(what)` when a cell enters a phase; `done(key, seconds)` when a cell is finished."""

    def __init__(self, total, stream=None, tty=None, clock=time.monotonic, unit="cell"):
        # type: (int, Any, Optional[bool], Callable[[], float], str) -> None
        self.total, self.finished, self.unit = total, 0, unit
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            tty = bool(getattr(self.stream, "isatty", lambda: False)()) or os.environ.get(TTY_ENV) == "1"
        self.tty = tty
        self.clock = clock
        self.start = clock()
        self.current = ""

    def eta(self):
        # type: () -> str
        left = self.total - self.finished
        if left <= 0:
            return "done"
        if not self.finished:
            return "ETA after the first {}".format(self.unit)
        per_cell = (self.clock() - self.start) / self.finished
        return "about {} left".format(duration(per_cell * left))

    def status(self):
        # type: () -> str
        return "[{}/{} {}s] {}; {}".format(self.finished, self.total, self.unit, self.current or "starting",
                                          self.eta())

    def phase(self, what):
        # type: (str) -> None
        self.current = what
        if self.tty:
            self.stream.write("\r\033[K" + self.status())
            self.stream.flush()

    def done(self, key, seconds):
        # type: (str, float) -> None
        self.finished += 1
        self.current = ""
        line = "[{}/{} {}s] {} done in {}; {} left, {}".format(
            self.finished, self.total, self.unit, key, duration(seconds), self.total - self.finished, self.eta())
        self.stream.write(("\r\033[K" if self.tty else "") + line + "\n")
        self.stream.flush()

    def close(self):
        # type: () -> None
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
