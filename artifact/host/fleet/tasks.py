"""What a worker runs: one task of the plan (a baseline, a retrain or a measurement), in the worker's process.

The task finds its machine by the worker's name, fences the machine's stale attempts the first time the
worker takes work, runs `python -m artifact retrain|run ... --cells KEY` on the machine's engine in an
attempt directory of its own, and publishes what it made: the baseline's model file and a package
(first one stays), a record (first-writer-wins into the kind's records/, a later attempt set aside).
A machine that stops answering raises BoardLost; the worker then refuses further work (its board is gone)
and the driver retires it and moves the cell.
"""
import os
import shutil
import socket

from artifact.core.profiles import cell_key
from artifact.core.records import record_path
from artifact.core.results import FleetDir, ResultsDir
from artifact.host.fleet import BoardLost
from artifact.host.fleet.attempts import (
    attempt_dir,
    attempt_id,
    commit_record,
    keep_reference,
    publish_dir,
    publish_file,
    seed,
    stamp_record,
)
from artifact.host.fleet.engines import RESULTS, engine_for
from artifact.host.fleet.fleetfile import Fleet, read_serial

_FENCED: set = set()     # machines this worker process has fenced
_LOST: dict = {}         # machine -> why, once it stopped answering: no more work on it
_SERIALS: dict = {}      # machine -> its serial number, read once per worker


def run_task(task: dict, fleet_data: dict, settings: dict) -> dict:
    """One task of the plan on this worker's machine; returns what happened (for the driver's summary)."""
    from distributed import get_worker

    name = get_worker().name
    fleet = Fleet.from_dict(fleet_data)
    machine = fleet.machine(name)
    if name in _LOST:
        raise _lost(f"{name}: lost earlier in this run ({_LOST[name]})", name)
    main = ResultsDir(settings["results"])
    if (task["step"] == "measure" and any(a.startswith("reference|") for a in task["after"])
            and os.path.exists(record_path(settings["records"][machine.kind], task["cell"]))):
        return {"key": task["key"], "machine": name, "status": "committed by a board's reference"}
    engine = engine_for(machine, main.fleet, fleet.timeouts["call_s"],
                        settings.get("artifact_cmd"), images=settings.get("images"))
    attempt = attempt_id(name)
    try:
        if name not in _FENCED:
            fenced = engine.fence()
            _FENCED.add(name)
        else:
            fenced = []
        work = attempt_dir(main.path, task["key"].replace("|", "__"), attempt)
        shutil.copyfile(settings["profile_file"], os.path.join(work, "profile.toml"))
        attempt_results = ResultsDir(work)
        baseline_file = main.model_file(cell_key(task["model"], "baseline", {}), "baseline")
        if task["step"] != "baseline" and os.path.exists(baseline_file):
            seed(baseline_file, attempt_results.model_file(cell_key(task["model"], "baseline", {}), "baseline"))
        if task["step"] in ("measure", "reference"):
            package = os.path.join(main.retrained, task["cell"])
            if os.path.isdir(package):
                seed(package, os.path.join(attempt_results.retrained, task["cell"]))
        command = "run" if task["step"] in ("measure", "reference") else "retrain"
        cells = task["cell"] or cell_key(task["model"], "baseline", {})
        args = [command, "--profile", RESULTS + "/profile.toml", "--results", RESULTS, "--cells", cells]
        args += list(settings.get("inputs") or [])
        if command == "run" and settings.get("allow_busy"):
            args.append("--allow-busy")
        timeout = max(fleet.timeouts["cell_min_s"], fleet.timeouts["cell_factor"] * float(task["expected_s"]))
        log_path = FleetDir.attempt_log(work)
        code = engine.run(args, work, attempt, timeout, log_path)
    except BoardLost as lost:
        _LOST[name] = str(lost)
        raise _lost(str(lost), name) from None
    out = {"key": task["key"], "machine": name, "attempt": attempt, "exit": code, "fenced": fenced, "log": log_path}
    if code != 0:
        out["status"] = "failed"
        return out
    if task["step"] == "baseline":
        made = attempt_results.model_file(cell_key(task["model"], "baseline", {}), "baseline")
        out["status"] = "published" if os.path.exists(made) and publish_file(made, baseline_file) else "kept"
    elif task["step"] == "retrain":
        made = os.path.join(attempt_results.retrained, task["cell"])
        out["status"] = ("published" if os.path.isdir(made) and publish_dir(made, os.path.join(main.retrained,
                                                                                              task["cell"]))
                         else "kept" if os.path.isdir(made) else "no package")
    else:
        record = attempt_results.record_file(task["cell"])
        if not os.path.exists(record):
            out["status"] = "failed"
            return out
        stamped = stamp_record(record, FleetDir.stamped_record(work), {
            "fleet_board": name, "fleet_board_kind": machine.kind, "fleet_engine": machine.engine,
            "board_serial": _SERIALS.setdefault(name, read_serial(machine) if machine.is_local else engine.serial()),
            "fleet_worker": f"{name}@{socket.gethostname()}:{os.getpid()}", "fleet_attempt": attempt})
        if task["step"] == "reference":   # kept per board; the cell's record only when it is the first
            out["path"] = keep_reference(stamped, settings["kind_results"][machine.kind],
                                         settings["records"][machine.kind], name, task["cell"])
            out["status"] = "committed" if out["path"] else "reference kept"
        else:
            out["status"], out["path"] = commit_record(stamped, settings["records"][machine.kind], task["cell"],
                                                       attempt, main.path)
    return out


def _lost(message: str, machine: str) -> BoardLost:
    error = BoardLost(message)
    error.machine = machine  # type: ignore[attr-defined]  # pickled with the exception (its __dict__)
    return error
