"""A two-stage run (artifact.device.run.stages): no preparation runs while a timing runs, proved from the engine's
task stream; the memory bound; a prepared cell is never a record and a stale one is prepared again.

Fast: fake workers (objects, or a script standing in for Python), no TensorFlow. The slow proof that a kill
between the stages loses nothing and mislabels nothing, with real cells, is in tests/device/run/test_worker_failures.py.
"""
import json
import os
import stat
import sys
import threading

from artifact.core.paths import PROJECT_ROOT
from artifact.core.profiles import load_profile
from artifact.core.records import Record
from artifact.core.results import ResultsDir
from artifact.device.run import parent
from artifact.device.run.prepared import load_prepared, save_prepared
from artifact.device.run.stages import StageEngine, overlaps, prepare_slots, worker_bytes


class _Proc:
    """A worker that prints a line, then runs until released (a preparation) or ends at once (a timing)."""

    def __init__(self, name, release):
        self.name, self.release, self.returncode = name, release, None

    @property
    def stdout(self):
        yield "STEP {}: working\n".format(self.name)
        self.release.wait(10)
        yield "CELL {} 0.1\n".format(self.name)

    def wait(self):
        self.release.wait(10)
        self.returncode = 0
        return 0

    def poll(self):
        return self.returncode


def _run_two_stages(engine_class=StageEngine):
    """Five preparations on two slots, released from another thread in the reverse order of their start (the
    latest first), then three timings: the stream the engine kept, and the lines it passed on."""
    started, lines = [], []
    releases = {}

    def start(stage, task):
        releases[task] = threading.Event()
        if stage == "quiet":
            releases[task].set()
        started.append(task)
        return _Proc(task, releases[task])

    engine = engine_class(start, lambda stage, task, line: lines.append((stage, line)))
    stop = threading.Event()

    def releaser():   # frees the running preparations, newest first, until told to stop
        while not stop.is_set():
            for task in reversed(list(started)):
                if not releases[task].is_set():
                    releases[task].set()
                    break
            stop.wait(0.01)

    thread = threading.Thread(target=releaser)
    thread.start()
    try:
        engine.run_stage("prepare", ["m{}".format(i) for i in range(5)], 2)
        engine.run_stage("quiet", ["q{}".format(i) for i in range(3)], 1)
    finally:
        stop.set()
        thread.join()
    return engine.events, lines


def _most_at_once(events, stage):
    running, most = 0, 0
    for event in events:
        if event[1] == stage:
            running += 1 if event[0] == "start" else -1
            most = max(most, running)
    return most


def test_no_preparation_runs_while_a_timing_runs():
    events, lines = _run_two_stages()
    assert overlaps(events, "prepare", "quiet") == []
    assert _most_at_once(events, "prepare") == 2          # the preparations did run side by side
    assert _most_at_once(events, "quiet") == 1            # the timings one at a time
    assert [e[0] for e in events].count("end") == 8       # every worker ended, each once
    assert sum(1 for stage, line in lines if line.startswith("CELL ")) == 8


def test_the_stream_shows_a_broken_barrier():
    """The check can fail: an engine whose stage returns once its last task has started (no barrier)."""

    class NoBarrier(StageEngine):
        def run_stage(self, stage, tasks, slots):
            if stage == "quiet":
                return super().run_stage(stage, tasks, slots)
            for task in tasks:   # starts every preparation and returns at once
                self.events.append(("start", stage, task))
                proc = self.start(stage, task)
                threading.Thread(target=lambda p=proc, t=task: (p.wait(), self.events.append(("end", stage, t, 0))),
                                 daemon=True).start()
            return {}

    events, _ = _run_two_stages(NoBarrier)
    assert overlaps(events, "prepare", "quiet")


def test_overlaps_reads_intervals_from_the_stream():
    events = [("start", "prepare", "a"), ("start", "quiet", "x"), ("end", "prepare", "a", 0), ("end", "quiet", "x", 0),
              ("start", "prepare", "b"), ("end", "prepare", "b", 0), ("start", "quiet", "y"), ("end", "quiet", "y", 0)]
    assert overlaps(events, "prepare", "quiet") == [("a", "x")]


def test_the_memory_bound_limits_the_workers_at_once():
    gib = 2 ** 30
    assert prepare_slots([0] * 5, cpus=2, available=24 * gib)[0] == 2          # the cores bound it
    assert prepare_slots([0], cpus=16, available=24 * gib)[0] == 1             # one model: one worker
    vgg19 = 143667240
    slots, why = prepare_slots([0, vgg19, 0, 0], cpus=16, available=6 * gib)
    assert slots == int(6 * gib * 0.8 // worker_bytes(vgg19)) == 1            # VGG-19's worker fills the bound
    assert "memory for 1" in why
    assert prepare_slots([0] * 8, cpus=16, available=1 * gib)[0] == 1          # never none


FAKE_WORKER = """#!{python}
import os, sys
profile, model, results = sys.argv[3:6]
stage = sys.argv[7] if len(sys.argv) > 7 else "all"   # sys.argv[6]: the cells the parent selected
sys.path.insert(0, {root!r})
from artifact.core.profiles import load_profile
cells = [c for c in load_profile(profile).cells_of(model)]
for cell in cells:
    if stage == "prepare":
        os.makedirs(os.path.join(results, "prepared"), exist_ok=True)
        open(os.path.join(results, "prepared", cell.key + ".json"), "w").close()
        print("PREPARED {{}} 0.1".format(cell.key), flush=True)
    else:
        print("CELL {{}} 0.1".format(cell.key), flush=True)
"""


def _fake_python(tmp_path):
    root = PROJECT_ROOT
    path = tmp_path / "python"
    path.write_text(FAKE_WORKER.format(python=sys.executable, root=root))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_run_profile_prepares_every_model_before_it_times_any(tmp_path):
    """The parent's own path (run_profile with two_stage), workers stood in for by a script: five models of the
    embedded profile prepared, the barrier, then each model's timing alone; each stage announced with its cells."""
    events, stages, done = [], [], []
    profile = load_profile("embedded")
    count, failures = parent.run_profile(
        profile, str(tmp_path / "results"), {}, lambda model, what, seconds: done.append(what) if seconds else None,
        python=_fake_python(tmp_path), two_stage=True, events=events,
        on_stage=lambda stage, cells, how: stages.append((stage, cells)))
    assert failures == [] and count == len(profile.cells)
    assert stages == [("prepare", count), ("quiet", count)]
    assert overlaps(events, "prepare", "quiet") == []
    assert sorted(e[2] for e in events if e[:2] == ("start", "prepare")) == sorted(profile.models)
    assert _most_at_once(events, "quiet") == 1
    assert len(done) == 2 * count   # each cell prepared, then timed


def test_a_one_stage_run_keeps_one_worker_at_a_time(tmp_path):
    events = []
    profile = load_profile("embedded")
    parent.run_profile(profile, str(tmp_path / "results"), {}, python=_fake_python(tmp_path), events=events)
    assert _most_at_once(events, "all") == 1 and not os.path.isdir(str(tmp_path / "results" / "prepared"))


def _prepared(tmp_path):
    results = ResultsDir(str(tmp_path))
    cell = load_profile("smoke").cells[1]
    model = tmp_path / "models" / "variant.zip"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"weights")
    record = Record(cell.to_dict(), {"python": "3"}, phases={"compress": 1.0})
    record.skip("top1", "not in this test")
    save_prepared(results, record, str(model))
    return results, cell, model


def test_a_prepared_cell_is_kept_beside_the_records_never_among_them(tmp_path):
    results, cell, model = _prepared(tmp_path)
    assert results.load_records() == {}                                     # never read as a record
    assert [c.key for c in parent.pending_cells(load_profile("smoke"), results)].count(cell.key) == 1
    loaded, path = load_prepared(results, cell)
    assert path == str(model) and loaded.phases == {"compress": 1.0} and loaded.skipped == {"top1": "not in this test"}
    with open(results.prepared_file(cell.key)) as handle:
        assert json.load(handle)["kind"] == "artifact-prepared-cell"


def test_a_prepared_cell_whose_file_changed_is_prepared_again(tmp_path, capsys):
    results, cell, model = _prepared(tmp_path)
    model.write_bytes(b"other weights, another size")
    assert load_prepared(results, cell) is None
    assert not os.path.exists(results.prepared_file(cell.key))             # removed: the cell is prepared again
    assert "changed after it was prepared" in capsys.readouterr().err


def test_a_prepared_cell_whose_file_is_gone_or_of_another_cell_is_prepared_again(tmp_path):
    results, cell, model = _prepared(tmp_path)
    model.unlink()
    assert load_prepared(results, cell) is None
    results, cell, model = _prepared(tmp_path / "again")
    other = load_profile("smoke").cells[2]
    os.rename(results.prepared_file(cell.key), results.prepared_file(other.key))
    assert load_prepared(results, other) is None                           # made for another cell: refused


def test_a_partial_is_swept_once_its_cell_has_a_record_and_kept_while_it_is_pending(tmp_path):
    profile = load_profile("smoke")
    results, cell, _ = _prepared(tmp_path)
    parent._sweep_prepared(profile, [], results)          # `run --cells` another cell: this one is still pending
    assert os.path.exists(results.prepared_file(cell.key))
    results.save_record(Record(cell.to_dict(), {}))       # measured since (a one-stage run)
    parent._sweep_prepared(profile, [], results)
    assert not os.path.exists(results.prepared_file(cell.key))
