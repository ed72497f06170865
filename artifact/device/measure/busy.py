"""Is the machine busy? What steals the CPU from a measurement, read from /proc (device side, Python 3.6+).

pyperf's `system show` and MLPerf's rules ask for a quiet system: nothing else running, no
frequency scaling, no stolen time. This module measures the first and the last of those (the board
monitor in `board_state` watches the clocks): over a window it reads every other process's CPU time
(/proc/<pid>/stat utime + stime) and the hypervisor's steal time (/proc/stat), and calls the
machine busy when other processes used at least `BUSY_OTHER_CORES` cores on average, or steal took
`BUSY_STEAL_FRACTION` of the CPU time. This process and its ancestors (the `run` that started it,
a test runner) are not "others". The load average is recorded beside, never judged: it counts
waiting threads, not stolen time.
"""
import os
import shlex
import sys
import time
from typing import Any, Dict, List, Optional, Set, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.metrics import BUSY_MACHINE

PROC = "/proc"
BUSY_OTHER_CORES = 0.25  # other processes' CPU, in cores, averaged over the window (an idle system: ~0.01)
BUSY_STEAL_FRACTION = 0.05
TOP = 3
ALLOW_ENV = "ARTIFACT_ALLOW_BUSY"  # =1: measure anyway, as --allow-busy
ADVICE = ("stop them (on a Jetson also set the power mode and clocks: sudo nvpmodel -m 0; sudo jetson_clocks), "
          "or measure anyway with timings flagged 'busy machine': add --allow-busy to the command, or set "
          "ARTIFACT_ALLOW_BUSY=1 before it (ARTIFACT_ALLOW_BUSY=1 make quick)")
REFUSAL = "error: {}: stop them, or measure anyway with timings flagged 'busy machine': {}"


def _read(path):
    # type: (str) -> Optional[str]
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


def _stat_fields(text):
    # type: (str) -> Tuple[str, List[str]]
    """(command, fields after the command) of a /proc/<pid>/stat line; the command may hold spaces and ')'."""
    left, right = text.index("("), text.rindex(")")
    return text[left + 1:right], text[right + 2:].split()


def process_ticks(proc=PROC):
    # type: (str) -> Dict[int, Tuple[str, int, int, int]]
    """pid -> (command, utime + stime in clock ticks, parent pid, start time) of every process now."""
    out = {}  # type: Dict[int, Tuple[str, int, int, int]]
    try:
        names = os.listdir(proc)
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        text = _read(os.path.join(proc, name, "stat"))
        if not text or ")" not in text:
            continue  # gone between listdir and open
        try:
            command, fields = _stat_fields(text)
            out[int(name)] = (command, int(fields[11]) + int(fields[12]), int(fields[1]), int(fields[19]))
        except (ValueError, IndexError):
            continue
    return out


def cpu_totals(proc=PROC):
    # type: (str) -> Tuple[int, int]
    """(all CPU time, steal time) in ticks from the first line of /proc/stat; (0, 0) if unreadable."""
    text = _read(os.path.join(proc, "stat")) or ""
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            steal = values[7] if len(values) > 7 else 0
            return sum(values[:8]), steal  # guest time is already inside user time
    return 0, 0


def load_average(proc=PROC):
    # type: (str) -> Optional[float]
    text = _read(os.path.join(proc, "loadavg"))
    try:
        return float(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None


def ancestors(pid=None, ticks=None, proc=PROC):
    # type: (Optional[int], Optional[Dict[int, Tuple[str, int, int, int]]], str) -> Set[int]
    """This process and every process above it (they wait for it, they do not compete with it)."""
    pid = os.getpid() if pid is None else pid
    ticks = process_ticks(proc) if ticks is None else ticks
    out = set()
    while pid and pid not in out:
        out.add(pid)
        pid = ticks[pid][2] if pid in ticks else 0
    return out


class Snapshot(object):
    def __init__(self, proc=PROC):
        # type: (str) -> None
        self.proc = proc
        self.time = time.monotonic()
        self.ticks = process_ticks(proc)
        self.total, self.steal = cpu_totals(proc)


def between(first, last, exclude=None, cpu_count=None):
    # type: (Snapshot, Snapshot, Optional[Set[int]], Optional[int]) -> Dict[str, Any]
    """What other processes and the hypervisor took between two snapshots, and whether that is busy."""
    hz = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
    seconds = max(last.time - first.time, 1e-6)
    exclude = ancestors(ticks=last.ticks, proc=last.proc) if exclude is None else exclude
    cores = {}
    for pid, (command, ticks, _, started) in last.ticks.items():
        if pid in exclude:
            continue
        before = first.ticks.get(pid)  # the same process if it started at the same time (pids are reused)
        used = ticks - (before[1] if before is not None and before[3] == started else 0)
        if used > 0:
            cores[pid] = (command, used / hz / seconds)
    other = sum(c for _, c in cores.values())
    total = last.total - first.total
    steal = (last.steal - first.steal) / float(total) if total > 0 else 0.0
    top = sorted(cores.items(), key=lambda kv: -kv[1][1])[:TOP]
    count = cpu_count or os.cpu_count() or 1
    busy = other >= BUSY_OTHER_CORES or steal >= BUSY_STEAL_FRACTION
    return {"busy": busy, "other_cores": round(other, 3), "cpu_count": count, "steal_fraction": round(steal, 4),
            "load1": load_average(last.proc), "window_s": round(seconds, 3),
            "top": [{"pid": pid, "command": command, "cores": round(c, 3)} for pid, (command, c) in top],
            "rule": "busy when other processes use >= {} cores or steal >= {:.0%} of CPU time".format(
                BUSY_OTHER_CORES, BUSY_STEAL_FRACTION)}


def describe(summary):
    # type: (Dict[str, Any]) -> str
    """One line: 'busy machine: other processes used 1.96 of 2 cores over 3.1 s (python3 pid 41: 0.98, ...)'."""
    top = ", ".join("{} pid {}: {:.2f}".format(p["command"], p["pid"], p["cores"]) for p in summary["top"])
    steal = "; steal {:.1%}".format(summary["steal_fraction"]) if summary["steal_fraction"] else ""
    return "{}: other processes used {:.2f} of {} cores over {:.1f} s{}{}".format(
        BUSY_MACHINE if summary["busy"] else "quiet machine", summary["other_cores"], summary["cpu_count"],
        summary["window_s"], " (" + top + ")" if top else "", steal)


def check_now(seconds=1.0, proc=PROC):
    # type: (float, str) -> Dict[str, Any]
    """Watch the machine for `seconds` (doctor, the start of run)."""
    first = Snapshot(proc)
    time.sleep(seconds)
    return between(first, Snapshot(proc))


class BusyWatch(object):
    """Brackets a timing run: a snapshot at start() and one at stop(); nothing runs in between."""

    def __init__(self, proc=PROC):
        # type: (str) -> None
        self.proc = proc
        self.first = None  # type: Optional[Snapshot]

    def start(self):
        # type: () -> BusyWatch
        self.first = Snapshot(self.proc)
        return self

    def stop(self):
        # type: () -> Dict[str, Any]
        assert self.first is not None, "start() first"
        return between(self.first, Snapshot(self.proc))


def allowed():
    # type: () -> bool
    """ARTIFACT_ALLOW_BUSY=1 in the environment: measure on a busy machine (timings flagged)."""
    return os.environ.get(ALLOW_ENV) == "1"


def refusal(summary, ways):
    # type: (Dict[str, Any], List[str]) -> str
    """The one line refusing a busy machine: what uses the CPU, then each way in as a command to paste."""
    return REFUSAL.format(describe(summary), " or ".join(ways))


def _runnable(way):
    # type: (str) -> bool
    """A way in whose program exists: `make quick` always, `.venv/bin/invoke ...` only once set up."""
    words = shlex.split(way)
    while words and "=" in words[0].split("/")[0]:   # past the leading VAR=value assignments
        words.pop(0)
    return bool(words) and ("/" not in words[0] or os.access(words[0], os.X_OK))


def main(argv=None):
    # type: (Optional[List[str]]) -> int
    """`python3 -S -m artifact.device.measure.busy WAY...`: the Makefile's watch before anything costly (before the
    virtual environment is built, so the standard library only). A busy machine: one line naming the processes and
    each WAY whose program exists, exit 2; quiet, or ARTIFACT_ALLOW_BUSY=1 (the run warns later): exit 0."""
    ways = [way for way in (sys.argv[1:] if argv is None else argv) if _runnable(way)]
    if allowed():
        return 0
    try:
        load = check_now(1.0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if not load["busy"]:
        return 0
    print(refusal(load, ways), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
