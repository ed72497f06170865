"""A two-stage run of one machine: every model's cells prepared in parallel, then timed one model at a time.

    stage "prepare"  a worker per model (`... worker <profile> <model> <results> prepare`), as many at once as
                     the cores and the memory allow (prepare_slots): baseline, compression, conversion, saving,
                     loading and the meters a busy machine does not disturb (sizes, parameters, depth, the memory
                     probe, accuracy); each cell's partial record is kept in prepared/ (artifact.device.run.prepared)
    (barrier)        the quiet stage starts only when every preparation worker has ended
    stage "quiet"    a worker per model with prepared cells, one at a time: time, power, op profile; the busy-
                     machine watch still brackets every timing (artifact.device.run.meters)

`StageEngine` runs the stages and keeps their task stream: `events`, ("start", stage, task, time) appended before
a worker is started and ("end", stage, task, exit code, time) after it has exited, in the order they happened
(time: time.monotonic()). Each
worker's true lifetime therefore lies inside its start/end pair, so a stream in which no "prepare" pair
overlaps a "quiet" pair proves that no preparation ran while a timing ran (tests/device/run/test_stages.py).
Python 3.6-safe and stdlib-only: it runs on the board (Dask needs Python >= 3.10; a TX2 has 3.6).
"""
import os
import queue
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

# what one preparation worker may hold at its peak: a TensorFlow process with its baseline and variant (and the
# copies compression and conversion make), plus its memory probe server and the probe's child loading the file
WORKER_BASE_BYTES = 1536 * 2 ** 20
WEIGHT_COPIES = 6  # copies of a model's fp32 weights a preparation worker may hold at once
MEMORY_SHARE = 0.8  # of MemAvailable at the start: the rest is left to the system and to others


def mem_available(meminfo="/proc/meminfo"):
    # type: (str) -> Optional[int]
    """MemAvailable in bytes, or None where /proc/meminfo does not say."""
    try:
        with open(meminfo) as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def worker_bytes(params):
    # type: (int) -> int
    """A preparation worker's peak memory, estimated from its model's parameter count (fp32)."""
    return WORKER_BASE_BYTES + WEIGHT_COPIES * 4 * max(0, int(params))


def prepare_slots(params, cpus=None, available=None):
    # type: (List[int], Optional[int], Optional[int]) -> Tuple[int, str]
    """How many preparation workers run at once, and why: no more than the cores, the models, and what the memory
    bound allows for the largest model's worker (its footprint x slots within MEMORY_SHARE of MemAvailable)."""
    cpus = cpus or os.cpu_count() or 1
    largest = worker_bytes(max(params) if params else 0)
    slots = min(cpus, max(1, len(params)))
    why = "{} cores, {} models".format(cpus, len(params))
    if available is not None:
        by_memory = max(1, int(available * MEMORY_SHARE // largest))
        why += ", memory for {} (MemAvailable {:.1f} GiB, the largest model's worker ~{:.1f} GiB)".format(
            by_memory, available / 2.0 ** 30, largest / 2.0 ** 30)
        slots = min(slots, by_memory)
    return slots, why


class StageEngine(object):
    """Runs the tasks of a stage (at most `slots` at once) and keeps the task stream (`events`).

    `start(stage, task)` starts a task's process (stdout a pipe of lines); `on_line(stage, task, line)` gets each
    line it prints. A stage returns {task: exit code} only once every one of its processes has exited: the
    barrier between the stages."""

    def __init__(self, start, on_line, events=None):
        # type: (Callable[[str, str], Any], Callable[[str, str, str], None], Optional[List[Tuple[Any, ...]]]) -> None
        self.start, self.on_line = start, on_line
        self.events = events if events is not None else []  # type: List[Tuple[Any, ...]]

    def run_stage(self, stage, tasks, slots):
        # type: (str, List[str], int) -> Dict[str, int]
        lines = queue.Queue()  # type: Any
        waiting, running, codes = list(tasks), {}, {}  # type: List[str], Dict[str, Any], Dict[str, int]
        try:
            while waiting or running:
                while waiting and len(running) < max(1, slots):
                    task = waiting.pop(0)
                    self.events.append(("start", stage, task, time.monotonic()))
                    proc = self.start(stage, task)
                    running[task] = proc
                    reader = threading.Thread(target=_read_lines, args=(proc, task, lines))
                    reader.daemon = True
                    reader.start()
                task, line = lines.get()
                if line is not None:
                    self.on_line(stage, task, line)
                    continue
                codes[task] = running.pop(task).wait()   # its stdout closed: it has ended (or is ending)
                self.events.append(("end", stage, task, codes[task], time.monotonic()))
        except BaseException:  # interrupted: the workers stop first (SIGINT: each saves what it finished)
            for proc in running.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            for task, proc in running.items():
                proc.wait()
                self.events.append(("end", stage, task, proc.returncode, time.monotonic()))
            raise
        return codes


def _read_lines(proc, task, lines):
    # type: (Any, str, Any) -> None
    try:
        for line in proc.stdout or ():
            lines.put((task, line))
    finally:
        lines.put((task, None))


def overlaps(events, first, second):
    # type: (List[Tuple[Any, ...]], str, str) -> List[Tuple[str, str]]
    """(task of `first`, task of `second`) pairs whose start/end intervals overlap in the stream: a task of one
    stage that was running (started, not yet ended) when a task of the other started."""
    running = {}  # type: Dict[Tuple[str, str], bool]
    found = []  # type: List[Tuple[str, str]]
    for event in events:
        what, stage, task = event[0], event[1], event[2]
        if what == "start":
            other = second if stage == first else first if stage == second else None
            for (s, t) in running:
                if s == other:
                    found.append((t, task) if stage == second else (task, t))
            running[(stage, task)] = True
        else:
            running.pop((stage, task), None)
    return found


def stage_times(events):
    # type: (List[Tuple[Any, ...]]) -> Dict[str, Dict[str, float]]
    """stage -> wall (first start to last end), busy (the workers' seconds summed) and most (workers at once)."""
    out = {}  # type: Dict[str, Dict[str, float]]
    began = {}  # type: Dict[Tuple[str, str], float]
    for event in events:
        what, stage, task, when = event[0], event[1], event[2], event[-1]
        times = out.setdefault(stage, {"first": when, "last": when, "busy": 0.0, "running": 0, "most": 0})
        if what == "start":
            began[(stage, task)] = when
            times["running"] += 1
            times["most"] = max(times["most"], times["running"])
        else:
            times["busy"] += when - began.pop((stage, task), when)
            times["running"] -= 1
            times["last"] = when
    return {stage: {"wall": t["last"] - t["first"], "busy": t["busy"], "most": t["most"]} for stage, t in out.items()}
