"""The driver of a fleet run: the plan submitted to the workers, dependencies kept here, longest first.

A task is submitted when the tasks it waits for have finished, and at most as many measurements of a kind
are in flight as that kind has live boards: the ready queue stays here, sorted longest first, so Dask
never over-queues a board (dask/distributed#6467) and the list schedule is the one the benchmark bounds.
Dask places each task on a worker with its resource and reruns it elsewhere when its worker dies.

A task that raises BoardLost: its worker is retired and the task is submitted again (a new key, `|tryN`):
it runs on another machine of its resource. When a kind has no live board left while cells of it are
pending, the run stops with one line naming the kind and the cells left; committed records stay (a
re-run does only the rest). At the start and the end of a run, every attempt that finished but was not
committed (a killed worker's cell, which went on without it) is committed or set aside: nothing lost,
nothing committed twice. A lost machine is fenced when it next takes work (artifact.host.fleet.tasks).
"""
import os
import shutil
import time
from dataclasses import asdict

from artifact.core.profiles import load_profile
from artifact.core.results import FleetDir, ResultsDir
from artifact.host.fleet import BoardLost, FleetError
from artifact.host.fleet.attempts import commit_record, committed_keys, keep_reference, stamp_record
from artifact.host.fleet.cluster import WORKERS, FleetCluster
from artifact.host.fleet.plan import make_plan, reference_cell
from artifact.host.fleet.tasks import run_task

MAX_TRIES = 4
NO_BOARD_GRACE_S = 5.0   # a kind counts as gone when the scheduler has shown no board of it for this long
ALIVE_EVERY_S = 0.5      # how often the driver asks the scheduler which workers are alive


def results_by_kind(results: str, kinds: list) -> dict:
    """One results directory per board kind: RESULTS itself for one kind, RESULTS-<kind> for several."""
    if len(kinds) == 1:
        return {kinds[0]: ResultsDir(results)}
    return {kind: ResultsDir(f"{results.rstrip('/')}-{kind}") for kind in kinds}


def check_kinds(fleet, kinds) -> list:
    known = fleet.kinds()
    kinds = list(kinds or known)
    for kind in kinds:
        if kind not in known:
            raise FleetError(f"--kinds {kind}: {fleet.source} has no board of that kind; its kinds: {', '.join(known)}")
    return kinds


def run_fleet(fleet, profile_name: str, results: str, kinds=None, inputs=(), allow_busy=False, artifact_cmd=None,
              say=print, join_timeout=60.0, on_started=None, poll_s=0.2) -> dict:
    """Measure the profile on the fleet's boards (each kind asked); returns a summary (counts, tasks, lost)."""
    profile = load_profile(profile_name)
    kinds = check_kinds(fleet, kinds)
    images = _images(fleet)   # before anything is written
    main = ResultsDir(results)
    by_kind = results_by_kind(results, kinds)
    boards = {b.name: b.kind for b in fleet.boards}
    swept = sweep_attempts(main.path, by_kind, boards)   # a lost worker's finished cells
    done = {kind: committed_keys(rd.records) for kind, rd in by_kind.items()}
    reference = reference_cell(profile, fleet.reference)
    if reference is None and fleet.reference:
        raise FleetError(f"{fleet.source}: reference = {fleet.reference!r} is not a cell of profile {profile.name}; "
                         f"name one of its cells (e.g. {profile.cells[0].key}) or leave it out")
    references = {kind: (reference, [b.name for b in fleet.boards if b.kind == kind and not os.path.exists(
        by_kind[kind].fleet.reference_record(b.name, reference.key))]) for kind in kinds} if reference else {}
    plan = make_plan(profile, kinds, [rd.records for rd in by_kind.values()], done, references)
    if any(t.resource == "server" for t in plan) and not fleet.servers:
        raise FleetError(f"{fleet.source}: no [[server]], but the profile's cells need a baseline trained (and pruned "
                         f"cells fine-tuned) on one; add a [[server]] (engine = \"local\" runs it here)")
    summary = {"kinds": kinds, "tasks": [], "lost": {}, "set_aside": swept, "committed": 0,
               "results": {k: rd.path for k, rd in by_kind.items()}}
    if not plan:
        say(f"fleet: every cell of {profile.name} is committed for {', '.join(kinds)}: nothing to do")
        return summary
    main.make()
    for rd in by_kind.values():
        rd.make()
    profile_file = main.fleet.profile_file
    os.makedirs(main.fleet.path, exist_ok=True)
    shutil.copyfile(profile.source, profile_file)
    settings = {"results": os.path.abspath(main.path), "profile_file": profile_file, "inputs": list(inputs),
                "allow_busy": allow_busy, "artifact_cmd": artifact_cmd,
                "records": {k: os.path.abspath(rd.records) for k, rd in by_kind.items()},
                "images": images, "kind_results": {k: os.path.abspath(rd.path) for k, rd in by_kind.items()}}
    say(f"fleet: {profile.name} on {len(fleet.boards)} boards ({', '.join(kinds)}) and {len(fleet.servers)} servers: "
        f"{sum(t.step == 'measure' for t in plan)} measurements, {sum(t.step != 'measure' for t in plan)} server tasks")
    start = time.perf_counter()
    with FleetCluster(fleet, main.fleet.logs, join_timeout=join_timeout) as cluster:
        if on_started is not None:
            on_started(cluster)
        drive(cluster, fleet, plan, settings, summary, say, poll_s)
    summary["set_aside"] += sweep_attempts(main.path, by_kind, boards)
    for rd in by_kind.values():
        rd.update_run_info(profile, {"fleet": time.perf_counter() - start})
    summary["committed"] = sum(1 for t in summary["tasks"] if t.get("status") == "committed")
    return summary


def _images(fleet) -> dict:
    """invoke.yaml's docker.images (role -> image) for the fleet's Docker engines, read once here (a mistake in it
    stops the run before any work); {} when every machine is local."""
    if all(m.is_local for m in fleet.machines):
        return {}
    from artifact.host.containers.settings import DockerSettings

    return DockerSettings.from_project().images


def drive(cluster, fleet, plan, settings, summary, say, poll_s, task_fn=run_task) -> None:
    """Submit `plan` to `cluster` (.client, .alive_resources(), .retire(name)) and follow it to the end; `task_fn`
    is what a worker runs (run_task; the benchmark's stand-in sleeps)."""
    from distributed.scheduler import KilledWorker

    fleet_data = fleet.to_dict()
    pending = {t.key: t for t in plan}
    finished: set = set()
    failed: dict = {}
    tries: dict = {}
    running: dict = {}   # future -> task
    missing_since: dict = {}   # resource -> when the scheduler first showed no worker with it
    worker_gone_since: dict = {}   # board -> when the scheduler first showed no worker of that name
    alive, asked = {}, -ALIVE_EVERY_S

    def lose(machine: str, reason: str, said: str) -> None:
        """Count `machine` lost (its first reason kept), say so, and retire its worker: no more tasks go to it."""
        summary["lost"].setdefault(machine, reason)
        say(said)
        cluster.retire(machine)

    while pending or running:
        now = time.monotonic()
        if now - asked >= ALIVE_EVERY_S:   # a scheduler round trip: not at every turn of the loop
            alive, asked = cluster.alive_resources(exclude=set(summary["lost"])), now
        for resource in {t.resource for t in pending.values()}:
            missing_since[resource] = (missing_since.get(resource) or now) if not alive.get(resource) else None
        gone = {r for r, since in missing_since.items() if since is not None and now - since >= NO_BOARD_GRACE_S}
        # no worker has the resource: its submitted tasks wait in "no-worker" forever (dask/distributed#9269)
        waiting = list(pending.values()) + list(running.values())
        for task in [t for t in waiting if t.resource.startswith("board-") and t.resource in gone]:
            left = sorted({t.cell for t in waiting if t.resource == task.resource})
            for future in running:
                future.cancel()
            raise FleetError(f"no board of kind {task.kind} left ({_lost_of(summary, fleet, task.kind)}); "
                                 f"cells left: {', '.join(left)}; committed records are kept: bring a {task.kind} "
                                 f"board back (or add one to {fleet.source}) and run the same command again")
        # a task pinned to one board (its reference) is never moved by Dask: when that board's worker dies, the
        # task waits for it for ever ("no-worker"); the driver counts the board lost and the task with it
        for future, task in list(running.items()):
            if task.board and WORKERS in alive and task.board not in alive[WORKERS]:
                worker_gone_since.setdefault(task.board, now)
                if now - worker_gone_since[task.board] >= NO_BOARD_GRACE_S:
                    future.cancel()
                    del running[future]
                    lose(task.board, f"its worker left the cluster during {task.key}",
                         f"fleet: lost {task.board}: its worker left the cluster; the kind's other boards measure")
                    finished.add(task.key)   # a reference: the cell's own measurement still runs
            elif task.board:
                worker_gone_since.pop(task.board, None)
        in_flight: dict = {}
        for task in running.values():
            in_flight[task.resource] = in_flight.get(task.resource, 0) + 1
        ready = [t for t in pending.values() if all(a in finished for a in t.after)]
        ready.sort(key=lambda t: (t.step == "measure", -t.expected_s, t.key))
        for task in ready:
            # a failed reference does not hold the cell back: its own measurement runs instead
            if any(a in failed and not a.startswith("reference|") for a in task.after):
                failed[task.key] = "waits for " + next(a for a in task.after if a in failed)
                del pending[task.key]
                continue
            if in_flight.get(task.resource, 0) >= alive.get(task.resource, 0):
                continue
            if task.board and task.board in summary["lost"]:   # a reference: only its own board measures it
                finished.add(task.key)
                del pending[task.key]
                continue
            tries[task.key] = tries.get(task.key, 0) + 1
            key = task.key if tries[task.key] == 1 else f"{task.key}|try{tries[task.key]}"
            allowed = [task.board] if task.board else [m.name for m in fleet.machines
                                                       if m.resource == task.resource and m.name not in summary["lost"]]
            future = cluster.client.submit(task_fn, asdict(task), fleet_data, settings, key=key, pure=False,
                                           resources={task.resource: 1}, priority=int(task.expected_s * 1000),
                                           workers=allowed, allow_other_workers=False)
            running[future] = task
            in_flight[task.resource] = in_flight.get(task.resource, 0) + 1
            del pending[task.key]
        if not running:
            if pending and not ready:
                raise FleetError("fleet: tasks wait for tasks that never ran: " + ", ".join(sorted(pending)))
            time.sleep(poll_s)   # ready tasks wait for a machine of their resource (or for it to count as gone)
            continue
        done = [f for f in running if f.done()]
        if not done:
            time.sleep(poll_s)
        for future in done:
            task = running.pop(future)
            error = future.exception() if future.status == "error" else None
            if isinstance(error, (BoardLost, KilledWorker)) or future.status == "cancelled":
                machine = getattr(error, "machine", "?")
                lose(machine, str(error),
                     f"fleet: lost {machine}: {error}; {task.cell or task.model} moves to another {task.resource}")
                asked = -ALIVE_EVERY_S   # ask again before handing out more work
                if task.step == "reference":   # its board is gone: the kind's other boards still measure
                    finished.add(task.key)
                elif tries[task.key] >= MAX_TRIES:
                    failed[task.key] = f"lost {tries[task.key]} times"
                else:
                    pending[task.key] = task
                continue
            if error is not None:
                failed[task.key] = f"{type(error).__name__}: {error}"
                say(f"fleet: {task.key} failed: {failed[task.key]}")
                continue
            result = future.result()
            summary["tasks"].append(result)
            if result["status"] == "failed":
                failed[task.key] = f"exit {result['exit']} (see {result['log']})"
                say(f"fleet: {task.key} failed on {result['machine']}: {failed[task.key]}")
                if task.step == "reference":   # the cell's own measurement still runs on the kind's boards
                    finished.add(task.key)
            else:
                finished.add(task.key)
                say(f"fleet: {task.cell or task.model} {task.step} on {result['machine']}: {result['status']}")
    summary["failed"] = failed


def _lost_of(summary, fleet, kind) -> str:
    names = [b.name for b in fleet.boards if b.kind == kind]
    lost = [n for n in names if n in summary["lost"]]
    return "lost: " + ", ".join(lost) if lost else "none joined"


def sweep_attempts(results: str, by_kind: dict, boards: dict) -> list:
    """Attempts whose record exists but was never committed (their worker died after the cell ended), in the
    kinds' results (`by_kind`: kind -> ResultsDir; `boards`: board name -> kind). A cell's measurement: committed
    when the cell has no record yet, else set aside. A board's reference: kept as that board's reference, and as
    the cell's record if it has none (as run_task keeps one). Returns the records set aside."""
    aside: list = []
    root = ResultsDir(results).fleet.attempts
    if not os.path.isdir(root):
        return aside
    for task_dir in sorted(os.listdir(root)):
        parts = task_dir.split("__")
        if parts[0] not in ("measure", "reference") or len(parts) < 4:
            continue
        cell = "__".join(parts[1:-2])
        kind = parts[-1] if parts[0] == "measure" else boards.get(parts[-1])   # reference|cell|revision|board
        if kind not in by_kind:
            continue
        records = by_kind[kind].records
        for attempt in sorted(os.listdir(os.path.join(root, task_dir))):
            work = ResultsDir(results).fleet.attempt(task_dir, attempt)
            record = ResultsDir(work).record_file(cell)
            if not os.path.exists(record):
                continue
            stamped = FleetDir.stamped_record(work)
            if os.path.exists(stamped):   # handled by its task: committed or set aside then
                continue
            board = attempt.rsplit("-", 2)[0]
            stamped = stamp_record(record, stamped, {"fleet_board": board, "fleet_board_kind": kind,
                                                     "fleet_attempt": attempt,
                                                     "fleet_note": "committed by the sweep: its worker was lost"})
            if parts[0] == "reference":
                keep_reference(stamped, by_kind[kind].path, records, board, cell)
                continue
            status, path = commit_record(stamped, records, cell, attempt, results)
            if status == "aside":
                aside.append(path)
    return aside
