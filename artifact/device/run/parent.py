"""The parent of a run: which cells are pending, one worker process per model, progress, failures.

`run_profile` starts `python -m artifact.device.run.worker <profile> <model> <results>` for each
model that has pending cells, shows progress from the worker's `CELL <key> <seconds>` and
`STEP <what>` lines, and reports failures at the end. Killing either at any moment loses at most
the cell in progress; a re-run redoes only that. A two-stage run (`run --two-stage`,
artifact.device.run.stages) starts each model's worker twice: `... prepare` (several models at once), then,
after every preparation has ended, `... quiet` (one at a time); a kill between the stages keeps the prepared
cells (prepared/), which the next run times without preparing them again.
"""
import os
import subprocess
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import TABLE_I
from artifact.core.children import dies_with
from artifact.core.errors import ConfigError
from artifact.core.inputs import environment_for_worker
from artifact.core.metrics import in_group
from artifact.core.packages import (
    PACKAGED_TECHNIQUES,
    architecture_revision,
    check_package_file,
    find_package,
    read_manifest,
    stale_package,
)
from artifact.core.profiles import load_profile
from artifact.core.records import rail_set
from artifact.core.results import ResultsDir, as_results  # noqa: F401 (ResultsDir: a name of the type comments)
from artifact.device.run.inputs import check_required, open_inputs
from artifact.device.run.prepared import discard_prepared, load_prepared
from artifact.device.run.stages import StageEngine, mem_available, prepare_slots

ONE_STAGE = "all"  # a one-stage run's workers: every meter of a cell at once

POWER_METRICS = in_group("power")


def pending_cells(profile, results, set_aside=False, packages=None):
    # type: (Any, ResultsDir, bool, Optional[str]) -> List[Any]
    """Cells without a record, cells whose technique could not be applied when they ran (a newer version of
    the artifact may support it now), and cells whose model package was replaced after their record was made
    (stale: measured again, said on stderr by the parent). `packages`: --retrained DIR. With `set_aside` (the
    parent, under the directory's lock), a malformed record is renamed `.broken` and its cell is pending again."""
    results = as_results(results)
    done = results.load_records(set_aside)
    todo = []
    for cell in profile.cells:
        record = done.get(cell.key)
        stale = stale_package(record.provenance, packages, results.retrained) if record is not None else None
        if stale and set_aside:
            sys.stderr.write("warning: {}: stale, {}; the cell is measured again\n".format(
                results.record_file(cell.key), stale))
        if record is None or record.provenance.get("technique_unsupported") or stale:
            todo.append(cell)
    return todo


def run_profile(profile, results, inputs=None, progress=None, python=sys.executable, before_workers=None, todo=None,
                two_stage=False, on_stage=None, events=None):
    # type: (Any, ResultsDir, Optional[Mapping[str, Any]], Optional[Callable[..., None]], str, Optional[Callable[[], None]], Optional[List[Any]], bool, Optional[Callable[[str, int, str], None]], Optional[List[Any]]) -> Tuple[int, List[str]]  # noqa: E501
    """Measure every cell of the profile that has no record yet; returns (cells to do, failures).

    `profile` is a loaded Profile (or a name/path to load); `progress(model, what, seconds)` is
    called per STEP (seconds None) and per finished CELL (and, in a two-stage run's first stage, per PREPARED
    cell); `before_workers()` once every input has been checked and before the first worker starts (the
    busy-machine check), when there is work to do, and again before a two-stage run's quiet stage; `todo`: the
    pending cells when the caller already worked them out (under the directory's lock).
    `two_stage` (artifact.device.run.stages): the models' cells prepared in parallel, then timed one model at
    a time; `on_stage(stage, cells, how)` as each stage starts; `events`: a list the engine appends its task
    stream to."""
    if isinstance(profile, str):
        profile = load_profile(profile)
    results = as_results(results)
    inputs = dict(inputs or {})
    check_required(profile, inputs)
    todo = pending_cells(profile, results, True, inputs.get("retrained")) if todo is None else todo
    open_inputs([c.model for c in todo], inputs)
    check_packages(todo, inputs.get("retrained"), results.retrained)
    results.pin_inputs(inputs)
    _pin_power_rails(todo, results)
    _sweep_prepared(profile, todo, results)
    if todo and before_workers is not None:
        before_workers()
    env = environment_for_worker(inputs)
    failures = []  # type: List[str]
    os.makedirs(results.logs, exist_ok=True)
    models = [m for m in profile.models if any(c.model == m for c in todo)]
    failed_cells = {}  # type: Dict[str, List[str]]
    logs = []  # type: List[Any]

    def start(stage, model):
        cmd = [python, "-m", "artifact.device.run.worker", profile.source, model, results.path,
               ",".join(c.key for c in todo if c.model == model)]  # only these: `run --cells` selects
        log = open(results.log_file(model), "a")  # noqa: SIM115 (closed once every worker has ended)
        logs.append(log)
        return subprocess.Popen(cmd + ([stage] if stage != ONE_STAGE else []), stdout=subprocess.PIPE, stderr=log,
                                universal_newlines=True, env=env, preexec_fn=dies_with(os.getpid()))

    def on_line(stage, model, line):
        if line.startswith(("CELL ", "PREPARED ")) and progress is not None:
            progress(model, line.split()[1], float(line.split()[2]))
        elif line.startswith("STEP ") and progress is not None:
            progress(model, line[5:].strip(), None)
        elif line.startswith("FAILED "):
            failed_cells.setdefault(model, []).append(line[7:].strip())

    engine = StageEngine(start, on_line, events)
    try:
        if not two_stage:
            codes = engine.run_stage(ONE_STAGE, models, 1)
        else:
            ready = {c.key for c in todo if load_prepared(results, c) is not None}   # a run killed between stages
            unprepared = [c for c in todo if c.key not in ready]
            to_prepare = [m for m in models if any(c.model == m for c in unprepared)]
            slots, why = prepare_slots([model_params(m) for m in to_prepare], available=mem_available())
            if on_stage is not None:
                on_stage("prepare", len(unprepared), "{} at once ({}){}".format(
                    slots, why, "; {} prepared by an earlier run".format(len(ready)) if ready else ""))
            # the models with the most cells first: the longest preparations start at once (a list schedule)
            to_prepare.sort(key=lambda m: -sum(c.model == m for c in unprepared))
            codes = engine.run_stage("prepare", to_prepare, slots)
            prepared = [c for c in todo if os.path.exists(results.prepared_file(c.key))]
            _collect(codes, failed_cells, failures, results)   # a model whose preparation failed says so once
            codes, failed_cells = {}, {}
            if prepared:
                if before_workers is not None:
                    before_workers()
                if on_stage is not None:
                    on_stage("quiet", len(prepared), "one model at a time, nothing else of this run beside it")
                codes = engine.run_stage("quiet", [m for m in models if any(c.model == m for c in prepared)], 1)
    finally:
        for log in logs:
            log.close()
    _collect(codes, failed_cells, failures, results)
    return len(todo), failures


def _collect(codes, failed_cells, failures, results):
    # type: (Dict[str, int], Dict[str, List[str]], List[str], Any) -> None
    """Each worker's failures: its FAILED cells, or its exit status and last error when it named none."""
    for model, code in codes.items():
        log_path = results.log_file(model)
        failures.extend("{} (see {})".format(cell, log_path) for cell in failed_cells.get(model, []))
        if code != 0 and not failed_cells.get(model):
            why = _last_error(log_path)
            failures.append("{} (exit {}{}; see {})".format(model, code, ": " + why if why else "", log_path))


def _sweep_prepared(profile, todo, results):
    # type: (Any, List[Any], Any) -> None
    """A prepared partial of a cell that is no longer pending (its record made since, e.g. by a one-stage run) is
    done with: removed, so prepared/ holds only cells a quiet stage still has to time. A pending cell's partial
    stays even when `todo` leaves the cell out (`run --cells` another one)."""
    if not os.path.isdir(results.prepared):
        return
    pending = {c.key for c in todo}
    for cell in profile.cells:
        if cell.key not in pending and os.path.exists(results.record_file(cell.key)):
            discard_prepared(results, cell.key)


def model_params(model):
    # type: (str) -> int
    """A model's parameter count for the memory bound (Table I's; the mini-zoo's are small: 0)."""
    row = TABLE_I.get(model)
    return int(row.expected_params or row.paper_params or 0) if row is not None else 0


def _pin_power_rails(cells, results):
    # type: (List[Any], Any) -> None
    """The power sensor's rails, the same for every record of the directory (run.json `power_rails`)."""
    if not any(m in POWER_METRICS for c in cells for m in c.metrics):
        return
    from artifact.device.measure.environment import sysfs_root
    from artifact.device.measure.power import discover_power_sensor

    sensor, _ = discover_power_sensor(sysfs_root())
    if sensor is not None:  # none: the cells skip power, saying why
        results.pin_power_rails(rail_set(sensor.describe()))
        sensor.close()


def _last_error(log_path):
    # type: (str) -> str
    """The one-line `error: ...` a worker printed for a user's mistake (the last one in its log)."""
    try:
        with open(log_path) as log:
            lines = [line[len("error: "):].strip() for line in log if line.startswith("error: ")]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def check_packages(cells, given, own):
    # type: (List[Any], Optional[str], str) -> None
    """The model packages the pruned cells will measure, checked before any worker starts: each one made for
    its cell by this code, its model file the one its manifest names. (The baseline it was pruned from is
    checked by the worker, which has the baseline.)"""
    if given and not os.path.isdir(given):
        raise ConfigError("--retrained {}: no such directory; give the directory `invoke retrain` wrote the model "
                          "packages to (RESULTS/retrained on the server)".format(given))
    for cell in cells:
        if cell.technique not in PACKAGED_TECHNIQUES:
            continue
        directory = find_package(given, cell.key) or find_package(own, cell.key)
        if directory is not None:
            check_package_file(directory, read_manifest(directory), cell,
                               architecture_revision(cell.model, cell.technique))
