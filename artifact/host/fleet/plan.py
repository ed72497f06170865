"""The fleet's graph as data: which tasks, their deterministic keys, what each waits for, and their order.

    baseline|<model>                         on a server: train (or load) the model's fp32 baseline, published
                                             into <results>/models/ for every other task of the model
    retrain|<cell>|<revision>                on a server: fine-tune one pruned cell, its package published into
                                             <results>/retrained/<cell>/ (waits for the baseline)
    measure|<cell>|<revision>|<kind>         on a board of the kind: measure the cell (waits for the baseline
                                             and, for a pruned cell, its package)
    reference|<cell>|<revision>|<board>      on that board only: its reference cell, first (boards of one kind
                                             differ); kept per board in <results>/fleet/references/, committed
                                             as the cell's record only by the first; the cell's own measurement
                                             waits for the kind's references (and runs only if none committed)

<revision> is the package's code revision (artifact.core.packages.architecture_revision: the same checkout,
the same key), "-" for a cell without a package. Measurements go longest first: a cell's expected duration is
its `duration_s` in a previous run's record of the same results directory, else in the profile's reference
run (expected_results/reference/<profile>), else an estimate by technique.
"""
import json
import os
from dataclasses import dataclass, field

from artifact.core.packages import PACKAGED_TECHNIQUES, architecture_revision
from artifact.core.paths import EXPECTED_RESULTS
from artifact.core.records import record_path
from artifact.core.results import ResultsDir
from artifact.core.techniques import retrains

# seconds, when no record says better (the mini-zoo on an x86 core: expected_results/reference/embedded)
ESTIMATE_S = {"baseline": 15.0, "retrain": 20.0}
ESTIMATE_DEFAULT_S = 6.0


@dataclass
class Task:
    key: str
    step: str            # baseline, retrain, measure
    model: str
    cell: str            # cell key ("" for a baseline task)
    resource: str        # "server" or "board-<kind>"
    expected_s: float
    after: list = field(default_factory=list)   # keys of the tasks it waits for
    kind: str = ""       # measure, reference: the board kind
    board: str = ""      # reference: the one board that runs it


def revision(cell) -> str:
    return architecture_revision(cell.model, cell.technique) if cell.technique in PACKAGED_TECHNIQUES else "-"


def expected_durations(profile, records_dirs) -> dict:
    """cell key -> (measure seconds, retrain seconds or None), from the first records directory that has it."""
    out = {}
    reference = ResultsDir(os.path.join(EXPECTED_RESULTS, "reference", profile.name)).records
    for cell in profile.cells:
        for folder in list(records_dirs) + [reference]:
            try:
                with open(record_path(folder, cell.key)) as handle:
                    data = json.load(handle)
                seconds = float(data["duration_s"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            phases = data.get("phases") or {}
            retrain_s = phases.get("retrain")
            out[cell.key] = (max(0.0, seconds - float(retrain_s or 0.0)), retrain_s)
            break
    return out


def reference_cell(profile, named=""):
    """The cell every board measures first: `named` (the fleet file's `reference`), else the profile's first
    baseline cell; None when the profile has neither."""
    for cell in profile.cells:
        if cell.key == named or (not named and cell.technique == "baseline"):
            return cell
    return None


def make_plan(profile, kinds, records_dirs=(), done=None, references=None) -> list:
    """The tasks of the profile for boards of `kinds`; `done` ({kind: set of committed cell keys}) leaves their
    measurements out (and the server tasks nobody then needs); `references` ({kind: (cell, [boards without a
    reference record])}) adds each such board's reference task. Returned in submission order: server work
    first, then references, then measurements longest first."""
    done = done or {}
    references = references or {}
    durations = expected_durations(profile, records_dirs)
    measures, firsts = [], []
    for kind in kinds:
        ref_cell, ref_boards = references.get(kind, (None, []))
        ref_keys = []
        for cell in profile.cells:
            seconds = durations.get(cell.key, (None, None))[0]
            if seconds is None:
                seconds = ESTIMATE_S.get(cell.technique, ESTIMATE_DEFAULT_S)
            after = [f"baseline|{cell.model}"]
            if cell.technique in PACKAGED_TECHNIQUES and retrains(cell.technique):
                after.append(f"retrain|{cell.key}|{revision(cell)}")
            if ref_cell is not None and cell.key == ref_cell.key:
                for board in ref_boards:
                    ref_keys.append(f"reference|{cell.key}|{revision(cell)}|{board}")
                    firsts.append(Task(ref_keys[-1], "reference", cell.model, cell.key, "board-" + kind, seconds,
                                       list(after), kind, board))
            if cell.key in done.get(kind, set()):
                continue
            if ref_cell is not None and cell.key == ref_cell.key:
                after = after + ref_keys
            measures.append(Task(f"measure|{cell.key}|{revision(cell)}|{kind}", "measure", cell.model, cell.key,
                                 "board-" + kind, seconds, after, kind))
    needed = {k for t in measures + firsts for k in t.after}
    server = []
    for model in profile.models:
        key = f"baseline|{model}"
        if key in needed:
            server.append(Task(key, "baseline", model, "", "server", ESTIMATE_S["baseline"]))
    for cell in profile.cells:
        key = f"retrain|{cell.key}|{revision(cell)}"
        if key in needed:
            seconds = durations.get(cell.key, (None, None))[1] or ESTIMATE_S["retrain"]
            server.append(Task(key, "retrain", cell.model, cell.key, "server", float(seconds),
                               [f"baseline|{cell.model}"]))
    server.sort(key=lambda t: (t.step != "baseline", -t.expected_s, t.key))
    measures.sort(key=lambda t: (-t.expected_s, t.key))
    return server + sorted(firsts, key=lambda t: t.key) + measures


def longest_first_makespan(durations, boards: int) -> float:
    """The makespan of `durations` handed longest first to `boards` identical boards (each task to the board
    that frees first): the schedule the fleet's priorities ask of Dask, for the benchmark's bound."""
    import heapq

    free = [0.0] * max(1, boards)
    for seconds in sorted(durations, reverse=True):
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return max(free)
