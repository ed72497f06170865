"""The measurement's own threads (power sampler, board monitor): what CPU they use and where they run.

Device side, Python 3.6+: the TX2's Python has no ``time.thread_time``.
"""
# typing.Optional and no `X | None`: Python 3.6 (TX2).
# ruff: noqa: UP045
import os
import time
from typing import Optional


def thread_cpu_s() -> Optional[float]:
    """CPU seconds of the calling thread: time.thread_time (Python >= 3.7), else getrusage(RUSAGE_THREAD) (Linux,
    the TX2's Python 3.6), else None."""
    thread_time = getattr(time, "thread_time", None)
    if thread_time is not None:
        return thread_time()
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_THREAD)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError, ValueError):
        return None
    return usage.ru_utime + usage.ru_stime


SPARE_CPUS_NEEDED = 4   # pin a normal-priority helper only where one CPU is at most a quarter of what the process has


def place_helper_thread(idle=True):
    # type: (bool) -> str
    """Schedule the calling helper thread (power sampler, board monitor) so it disturbs the inference least, and
    say how it runs.

    idle=True: SCHED_IDLE (Linux; nice 19 where that is refused): the thread runs only on a core no other
    thread wants, so it never delays an inference thread, wherever that runs; on a core saturated by other
    work it reads less often, which its trace reports. Not pinned: any idle core may serve it.
    idle=False: normal priority, moved to the last CPU the process may use when it may use SPARE_CPUS_NEEDED or
    more (on fewer, every core runs inference threads: TensorFlow sizes its pools to all of them).
    The paper infers on the TX2's GPU, so its six CPU cores are mostly idle and either way costs it nothing."""
    if idle:
        return _idle_priority()
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is None:
        return "normal priority, not pinned (no sched_setaffinity on this OS)"
    try:
        cpus = sorted(getaffinity(0))
    except OSError as exc:
        return "normal priority, not pinned (affinity unreadable: {})".format(exc)
    if len(cpus) < SPARE_CPUS_NEEDED:
        return "normal priority, not pinned: {} CPUs, all of them run inference threads".format(len(cpus))
    try:
        os.sched_setaffinity(0, {cpus[-1]})   # pid 0 = this thread on Linux
    except OSError as exc:
        return "normal priority, not pinned ({})".format(exc)
    return "normal priority, pinned to CPU {} of {}".format(cpus[-1], len(cpus))


def _idle_priority():
    # type: () -> str
    setscheduler = getattr(os, "sched_setscheduler", None)
    if setscheduler is not None and hasattr(os, "SCHED_IDLE"):
        try:
            setscheduler(0, os.SCHED_IDLE, os.sched_param(0))   # pid 0 = this thread on Linux
            return "SCHED_IDLE (runs only on an otherwise idle core), not pinned"
        except OSError:
            pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 19)   # who 0 = this thread on Linux
        return "nice 19 (SCHED_IDLE refused), not pinned"
    except (AttributeError, OSError) as exc:
        return "normal priority (neither SCHED_IDLE nor nice 19 allowed: {}), not pinned".format(exc)
