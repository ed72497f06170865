"""Child processes that die with their parent (Linux): a parent killed with -9 leaves no child working on.

`run` starts its workers so, and `explore` its `run`: a killed explore leaves no `run` holding the results
directory's lock (and measuring) beside its re-run.
"""
import os
import sys
from typing import Callable, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def dies_with(parent_pid):
    # type: (int) -> Optional[Callable[[], None]]
    """What a child runs before it starts (Linux, `preexec_fn`): the kernel kills it when its parent dies.
    Elsewhere a child outlives its parent (None). prctl is looked up here, in the parent: the child between fork
    and exec must not import (a lock another thread of the parent held at the fork, tqdm's monitor, would never
    be released)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes
        import signal

        prctl, kill = ctypes.CDLL(None, use_errno=True).prctl, int(signal.SIGKILL)
    except (OSError, AttributeError):
        return None

    def in_the_child():
        # type: () -> None
        prctl(PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before the line above: nothing would kill this one
            os._exit(1)

    return in_the_child
