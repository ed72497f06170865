"""The fleet (artifact.host.fleet) on a LocalCluster here, its cells run by a STAND-IN for `python -m artifact`
(tests/data/fleet_fake_artifact.py: no TensorFlow, the reference's records): what is tested is the engine
(exactly once, a board lost, a board that stops answering, servers in parallel, fencing, the fleet file),
not a measurement. tests/behaviour/test_fleet_smoke.py runs the real smoke profile on three emulated boards."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.results import FleetDir
from artifact.host.fleet import FleetError
from artifact.host.fleet.attempts import commit_record, committed_keys
from artifact.host.fleet.engines import ATTEMPT_ENV, LABEL_ATTEMPT, LABEL_BOARD, DockerEngine, LocalEngine
from artifact.host.fleet.fleetfile import Machine, check_reachable, load_fleet
from artifact.host.fleet.run import run_fleet

FAKE = [sys.executable, os.path.join(ROOT, "tests", "data", "fleet_fake_artifact.py")]
REFERENCE = "mini_vgg__baseline__fp32"   # the smoke profile's first baseline cell: each board measures it first
SMOKE_KEYS = {"mini_vgg__baseline__fp32", "mini_vgg__quantize__bits-8", "mini_vgg__prune__threshold-0.05"}


def write_fleet(tmp_path, boards, servers=(("srv-1", "local"),), extra="", timeouts=""):
    """A fleet file of local machines, each board with an emulated tree of its own (its serial in it)."""
    from artifact.device.emulation.board import make_orin_board, make_tx2_board

    lines = ['scheduler = "local"', extra, "[timeouts]", timeouts or "cell_min_s = 60"]
    for name, kind in boards:
        tree = tmp_path / "boards" / name
        (make_tx2_board if kind == "tx2" else make_orin_board)(str(tree), serial="SN-" + name)
        lines += ["[[board]]", f'name = "{name}"', f'kind = "{kind}"', 'engine = "local"', f'sysfs = "{tree}"']
    for name, engine in servers:
        lines += ["[[server]]", f'name = "{name}"', f'engine = "{engine}"']
    path = tmp_path / "fleet.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def fake_env(monkeypatch, tmp_path, sleep="0.5", hang=None):
    log = tmp_path / "fake.log"
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_SLEEP_S", sleep)
    if hang:
        monkeypatch.setenv("FAKE_HANG", hang)
    monkeypatch.setenv("PYTHONPATH", ROOT)
    return log


def events(log):
    out = []
    for line in log.read_text().splitlines():
        what, when, machine, command, key, pid, seen = line.split()
        out.append({"what": what, "t": float(when), "machine": machine, "command": command, "key": key,
                    "pid": int(pid), "seen": seen == "1"})
    return out


def read(path):
    with open(path) as handle:
        return handle.read()


def records(folder):
    return {n[:-5]: json.loads(read(os.path.join(folder, n))) for n in os.listdir(folder) if n.endswith(".json")}


# ---- the fleet file: everything checked before any work starts
LOCAL = 'engine = "local"\n'


@pytest.mark.parametrize("body, expected", [
    ('[[board]]\nname = "a"\nkind = "nano2"\n' + LOCAL,
     r"board\[0\] \(a\): kind = 'nano2' is not a board kind; use one of tx2, xavier, orin, x86"),
    ('[[board]]\nname = "a"\nkind = "tx2"\nengine = "local"\n[[board]]\nname = "a"\nkind = "orin"\nengine = "local"\n',
     r"board\[1\] \(a\): the name 'a' is taken by .*board\[0\] \(a\); give each board and server a name of its own"),
    ('[[board]]\nname = "a"\nkind = "tx2"\nengine = "http://x"\n',
     r"board\[0\] \(a\): engine = 'http://x'; give \"local\""),
    ('scheduler = "gateway"\n[[board]]\nname = "a"\nkind = "tx2"\nengine = "local"\n', r"scheduler = 'gateway'"),
    ('[[board]]\nname = "a"\nkind = "tx2"\n' + LOCAL + 'colour = 1\n', r"board\[0\] \(a\): unknown field 'colour'"),
    ('[timeouts]\ncall_s = -1\n[[board]]\nname = "a"\nkind = "tx2"\nengine = "local"\n', r"timeouts.call_s = -1"),
    ('[[board]]\nname = "a"\nkind = "tx2"\n' + LOCAL + 'emulated = true\n',
     r"board\[0\] \(a\): emulated is for a Docker engine; a local board's emulated tree is sysfs = \"DIR\""),
    ('[[board]]\nname = "a"\nkind = "xavier"\nengine = "ssh://ci@board"\nemulated = true\n',
     r"board\[0\] \(a\): emulated = true, but there is no emulated xavier board; emulated kinds: tx2, orin, x86"),
    ('[[board]]\nname = "a"\nkind = "tx2"\nengine = "ssh://ci@board"\nemulated = "yes"\n',
     r"board\[0\] \(a\): emulated = 'yes'; give true or false"),
])
def test_fleet_file_mistakes_are_one_line_naming_the_entry(tmp_path, body, expected):
    path = tmp_path / "fleet.toml"
    path.write_text(body)
    with pytest.raises(FleetError, match=expected) as error:
        load_fleet(str(path))
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_an_unreachable_scheduler_or_engine_stops_the_command_before_anything_is_written(tmp_path):
    with socket.socket() as probe:   # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cases = [(f'scheduler = "tcp://127.0.0.1:{port}"\n[[board]]\nname = "a"\nkind = "tx2"\nengine = "local"\n',
              f"scheduler tcp://127.0.0.1:{port} does not answer"),
             (f'[[board]]\nname = "tx2-a"\nkind = "tx2"\nengine = "unix://{tmp_path}/no.sock"\n',
              "board[0] (tx2-a): engine unix://"),
             ('[[board]]\nname = "a"\nkind = "tx2"\nengine = "local"\nsysfs = "missing"\n',
              "sysfs {} is not a directory; make it with `python -m artifact.device.emulation tx2".format(
                  tmp_path / "missing"))]
    for body, expected in cases:
        path = tmp_path / "fleet.toml"
        path.write_text(body)
        results = tmp_path / "results"
        proc = subprocess.run([sys.executable, "-m", "artifact", "fleet", str(path), "--profile", "smoke",
                               "--results", str(results)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env=dict(os.environ, PYTHONPATH=ROOT))
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and expected in lines[0], lines
        assert not results.exists()


def test_check_reachable_asks_a_docker_engine_with_its_timeout(tmp_path):
    asked = {}

    class Silent:
        def __init__(self, **kwargs):
            asked.update(kwargs)

        def ping(self):
            raise TimeoutError("read timed out")

    path = tmp_path / "fleet.toml"
    path.write_text('[[board]]\nname = "tx2-a"\nkind = "tx2"\nengine = "ssh://nvidia@tx2-a"\n')
    with pytest.raises(FleetError, match=r"board\[0\] \(tx2-a\): engine ssh://nvidia@tx2-a does not answer in 2 s "
                                         r"\(read timed out\); check `ssh nvidia@tx2-a docker info` works"):
        check_reachable(load_fleet(str(path)), timeout=2, docker_factory=Silent)
    assert asked == {"base_url": "ssh://nvidia@tx2-a", "timeout": 2, "use_ssh_client": True}


# ---- exactly once
def test_the_first_record_is_committed_and_a_later_attempt_is_set_aside(tmp_path):
    first, second = tmp_path / "a1.json", tmp_path / "a2.json"
    first.write_text('{"n": 1}')
    second.write_text('{"n": 2}')
    records = tmp_path / "results" / "records"
    assert commit_record(str(first), str(records), "cell", "a1", str(tmp_path / "results"))[0] == "committed"
    status, kept = commit_record(str(second), str(records), "cell", "a2", str(tmp_path / "results"))
    assert status == "aside" and kept.endswith("fleet/aside/cell--a2.json")
    assert json.loads(read(records / "cell.json")) == {"n": 1} and json.loads(read(kept)) == {"n": 2}
    assert committed_keys(str(records)) == {"cell"}


def test_three_boards_two_servers_measure_each_cell_once_per_kind_and_name_the_board(tmp_path, monkeypatch):
    log = fake_env(monkeypatch, tmp_path)
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2"), ("tx2-b", "tx2"), ("orin-a", "orin")],
                                   servers=[("srv-1", "local"), ("srv-2", "local")]))
    results = str(tmp_path / "results" / "smoke")
    summary = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert summary["lost"] == {} and not summary["failed"] and summary["committed"] == 6
    for kind, boards in (("tx2", {"tx2-a", "tx2-b"}), ("orin", {"orin-a"})):
        got = records(os.path.join(f"{results}-{kind}", "records"))
        assert set(got) == SMOKE_KEYS
        for record in got.values():
            env = record["environment"]
            assert env["fleet_board"] in boards and env["fleet_board_kind"] == kind
            assert env["board_serial"] == "SN-" + env["fleet_board"] and env["fleet_attempt"].startswith(
                env["fleet_board"] + "-") and env["fleet_worker"].startswith(env["fleet_board"] + "@")
    seen = events(log)
    starts = [e for e in seen if e["what"] == "start"]
    # the baseline first (on a server), the pruned cell's package before its measurements, handed to the board
    baseline_end = next(e["t"] for e in seen if e["what"] == "end" and e["key"].endswith("baseline__fp32")
                        and e["command"] == "retrain")
    assert all(e["t"] >= baseline_end for e in starts if e["command"] == "run")
    pruned = [e for e in starts if e["command"] == "run" and "prune" in e["key"]]
    assert len(pruned) == 2 and all(e["seen"] for e in pruned)
    assert {e["machine"] for e in starts if e["command"] == "retrain"} <= {"srv-1", "srv-2"}
    # each board measured the reference cell first, kept per board; only the first is the cell's record
    for kind, boards in (("tx2", {"tx2-a", "tx2-b"}), ("orin", {"orin-a"})):
        kept = {b: read(FleetDir(f"{results}-{kind}").reference_record(b, REFERENCE)) for b in boards}
        for board, text in kept.items():
            assert json.loads(text)["environment"]["fleet_board"] == board
            assert [e["key"] for e in starts if e["machine"] == board][0] == REFERENCE
        assert read(os.path.join(f"{results}-{kind}", "records", REFERENCE + ".json")) in kept.values()
    assert summary["set_aside"] == [] and not os.path.exists(os.path.join(results, "fleet", "aside"))
    assert sum(e["key"] == REFERENCE and e["command"] == "run" for e in starts) == 3   # once a board, no more
    # a re-run skips committed cells: nothing submitted, nothing started
    again = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert again["tasks"] == [] and len(events(log)) == len(seen)


def test_two_servers_retrain_pruned_cells_in_parallel_and_hand_the_packages_over(tmp_path, monkeypatch):
    log = fake_env(monkeypatch, tmp_path, sleep="1.5")
    profile = tmp_path / "two_pruned.toml"
    text = read(os.path.join(ROOT, "artifact", "profiles", "smoke.toml"))
    profile.write_text(text.replace('name = "smoke"', 'name = "two_pruned"').replace(
        "settings = [{threshold = 0.05}]", "settings = [{threshold = 0.05}, {threshold = 0.1}]"))
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2")], servers=[("srv-1", "local"), ("srv-2", "local")]))
    summary = run_fleet(fleet, str(profile), str(tmp_path / "results"), artifact_cmd=FAKE, say=lambda *_: None)
    assert not summary["failed"]
    seen = events(log)
    retrains = {e["key"]: e for e in seen if e["command"] == "retrain" and "prune" in e["key"] and e["what"] == "start"}
    spans = {k: (retrains[k]["t"], next(e["t"] for e in seen if e["what"] == "end" and e["key"] == k
                                        and e["command"] == "retrain")) for k in retrains}
    assert len(spans) == 2
    (a0, a1), (b0, b1) = spans.values()
    assert max(a0, b0) < min(a1, b1), "the two pruned cells were not fine-tuned at the same time"
    machines = {e["machine"] for e in seen if e["command"] == "retrain" and "prune" in e["key"]}
    assert machines == {"srv-1", "srv-2"}
    for key, (_, end) in spans.items():
        measured = next(e for e in seen if e["command"] == "run" and e["key"] == key and e["what"] == "start")
        assert measured["t"] >= end and measured["seen"]
    assert sorted(os.listdir(tmp_path / "results" / "retrained")) == sorted(spans)


# ---- a board that drops
def test_a_worker_killed_mid_cell_moves_the_cell_to_the_other_board_of_its_kind(tmp_path, monkeypatch):
    log = fake_env(monkeypatch, tmp_path, sleep="4")
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2"), ("tx2-b", "tx2")]))
    results = str(tmp_path / "results")
    killed = {}

    def kill_the_first_measuring_worker(cluster):   # a measurement, not a board's reference
        def watch():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                for event in events(log) if log.exists() else []:
                    if event["command"] == "run" and event["what"] == "start" and event["key"] != REFERENCE:
                        time.sleep(0.5)
                        killed.update(event, worker=cluster.processes[event["machine"]].pid)
                        os.kill(killed["worker"], signal.SIGKILL)   # the worker only: its cell goes on, orphaned
                        return
                time.sleep(0.1)
        threading.Thread(target=watch, daemon=True).start()

    summary = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None,
                        on_started=kill_the_first_measuring_worker)
    assert killed, "no measurement started"
    got = records(os.path.join(results, "records"))
    assert set(got) == SMOKE_KEYS, "a cell was lost"
    other = ({"tx2-a", "tx2-b"} - {killed["machine"]}).pop()
    assert got[killed["key"]]["environment"]["fleet_board"] == other
    # the orphaned try ends on its own; the sweep at the end of this run (or at the start of the next) sets its
    # record aside, never over the committed one
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{killed['pid']}") and time.monotonic() < deadline:
        time.sleep(0.2)
    committed_before = read(os.path.join(results, "records", killed["key"] + ".json"))
    again = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert again["tasks"] == []
    aside = os.listdir(os.path.join(results, "fleet", "aside"))
    assert len(aside) == 1 and aside[0].startswith(killed["key"] + "--" + killed["machine"] + "-")
    assert [os.path.basename(p) for p in summary["set_aside"] + again["set_aside"]] == aside
    kept = json.loads(read(os.path.join(results, "fleet", "aside", aside[0])))
    assert kept["environment"]["fleet_board"] == killed["machine"]
    assert read(os.path.join(results, "records", killed["key"] + ".json")) == committed_before
    assert len(os.listdir(os.path.join(results, "records"))) == 3   # 0 duplicated committed records
    assert summary["committed"] == 3


def test_a_worker_killed_during_its_boards_reference_is_swept_and_nothing_is_measured_again(tmp_path, monkeypatch):
    """The reference cell's orphaned attempt ends on its own with a record: the sweep keeps it as that board's
    reference (and as the cell's record only if none was committed), so the next run has nothing to do."""
    log = fake_env(monkeypatch, tmp_path, sleep="4")
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2"), ("tx2-b", "tx2")]))
    results = str(tmp_path / "results")
    killed = {}

    def kill_the_first_reference(cluster):
        def watch():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                for event in events(log) if log.exists() else []:
                    if event["command"] == "run" and event["what"] == "start" and event["key"] == REFERENCE:
                        time.sleep(0.5)
                        killed.update(event, worker=cluster.processes[event["machine"]].pid)
                        os.kill(killed["worker"], signal.SIGKILL)
                        return
                time.sleep(0.1)
        threading.Thread(target=watch, daemon=True).start()

    summary = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None,
                        on_started=kill_the_first_reference)
    assert killed and killed["machine"] in summary["lost"]
    assert set(records(os.path.join(results, "records"))) == SMOKE_KEYS
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{killed['pid']}") and time.monotonic() < deadline:
        time.sleep(0.2)
    committed_before = {n: read(os.path.join(results, "records", n)) for n in os.listdir(results + "/records")}
    again = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert again["tasks"] == [], again["tasks"]   # the killed board's reference is not measured a second time
    kept = json.loads(read(FleetDir(results).reference_record(killed["machine"], REFERENCE)))
    assert kept["environment"]["fleet_board"] == killed["machine"]
    assert kept["environment"]["fleet_note"] == "committed by the sweep: its worker was lost"
    assert {n: read(os.path.join(results, "records", n)) for n in os.listdir(results + "/records")} == committed_before
    assert not os.path.exists(os.path.join(results, "fleet", "aside"))   # a board's reference is kept, not aside


def test_an_engine_that_stops_answering_is_timed_out_and_its_cell_moves(tmp_path, monkeypatch):
    log = fake_env(monkeypatch, tmp_path, sleep="0.3", hang="tx2-a")
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2"), ("tx2-b", "tx2")],
                                   timeouts="cell_min_s = 3\ncell_factor = 0.01"))
    results = str(tmp_path / "results")
    summary = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert "tx2-a" in summary["lost"] and "no answer from its cell in 3 s" in summary["lost"]["tx2-a"]
    got = records(os.path.join(results, "records"))
    assert set(got) == SMOKE_KEYS and {r["environment"]["fleet_board"] for r in got.values()} == {"tx2-b"}
    hung = [e for e in events(log) if e["machine"] == "tx2-a" and e["what"] == "start"]
    assert len(hung) == 1 and not os.path.exists(f"/proc/{hung[0]['pid']}")   # killed with its session


def test_no_board_of_a_kind_left_stops_with_one_line_and_keeps_what_was_committed(tmp_path, monkeypatch):
    fake_env(monkeypatch, tmp_path, sleep="0.3", hang="tx2-a")
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2")], timeouts="cell_min_s = 2\ncell_factor = 0.01"))
    with pytest.raises(FleetError) as error:
        run_fleet(fleet, "smoke", str(tmp_path / "results"), artifact_cmd=FAKE, say=lambda *_: None)
    line = str(error.value)
    assert "\n" not in line and line.startswith("no board of kind tx2 left (lost: tx2-a); cells left: ")
    assert all(key in line for key in SMOKE_KEYS)


# ---- fencing
def test_fencing_kills_a_stale_local_attempt_and_spares_a_reused_pid(tmp_path):
    machine = Machine("tx2-a", "tx2", "local")
    engine = LocalEngine(machine, str(tmp_path / "running"))
    stale = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True,
                             env=dict(os.environ, **{ATTEMPT_ENV: "tx2-a-old"}))
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    os.makedirs(engine.running)
    for attempt, proc in (("tx2-a-old", stale), ("tx2-a-gone", other)):   # the second pid is not that attempt's
        with open(os.path.join(engine.running, attempt), "w") as handle:
            handle.write(str(proc.pid))
    try:
        assert engine.fence() == ["tx2-a-old"]
        assert stale.wait(timeout=10) == -signal.SIGKILL
        assert other.poll() is None and os.listdir(engine.running) == []
    finally:
        other.kill()
        stale.kill()


def test_fencing_removes_the_stale_containers_of_its_board_on_a_docker_engine():
    class Container:
        def __init__(self, board, attempt):
            self.labels = {LABEL_BOARD: board, LABEL_ATTEMPT: attempt}
            self.removed = False

        def remove(self, force=False):
            self.removed = force

    mine, theirs = Container("tx2-a", "tx2-a-20261207T120000-abcd0123"), Container("tx2-b", "tx2-b-x")

    class Containers:
        def list(self, all=False, filters=None):
            board = filters["label"].split("=", 1)[1]
            return [c for c in (mine, theirs) if c.labels[LABEL_BOARD] == board and all]

    class Client:
        def __init__(self, **kwargs):
            self.containers = Containers()

    engine = DockerEngine(Machine("tx2-a", "tx2", "ssh://nvidia@tx2-a"), 5, client_factory=Client, image="img")
    assert engine.fence() == ["tx2-a-20261207T120000-abcd0123"]
    assert mine.removed and not theirs.removed


def test_an_emulated_board_on_a_docker_engine_plays_its_tree_beside_the_run_in_the_container(tmp_path):
    """CI's board engine has no sensors: `emulated = true` runs the cell under the emulator in the container (its
    own tree at a path of the container, its serial from the fleet file's name); a real board's command is bare."""
    import io
    import tarfile

    made = []

    class Container:
        def put_archive(self, path, data):
            return True

        def start(self):
            pass

        def wait(self, timeout=None):
            return {"StatusCode": 0}

        def logs(self):
            return b""

        def get_archive(self, path):
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                archive.addfile(tarfile.TarInfo("results"))
            return [buffer.getvalue()], {}

        def remove(self, force=False):
            pass

    class Containers:
        def create(self, image, command, **options):
            made.append((command, options))
            return Container()

    class Client:
        def __init__(self, **kwargs):
            self.containers = Containers()

        def info(self):
            return {"KernelVersion": "6.1.0-amd64", "Runtimes": {}}

    path = tmp_path / "fleet.toml"
    path.write_text('[[board]]\nname = "ci-tx2"\nkind = "tx2"\nengine = "ssh://root@127.0.0.1:2222"\n'
                    'emulated = true\n[[board]]\nname = "tx2-a"\nkind = "tx2"\nengine = "ssh://nvidia@tx2-a"\n')
    emulated, real = load_fleet(str(path)).boards
    args = ["run", "--profile", "RESULTS/profile.toml", "--results", "RESULTS", "--cells", REFERENCE]
    for machine in (emulated, real):
        engine = DockerEngine(machine, 5, client_factory=Client, image="img")
        work = tmp_path / machine.name
        work.mkdir()
        assert engine.run(args, str(work), "attempt-1", 60, str(work / "log")) == 0
    (wrapped, _), (bare, options) = made
    run = ["python3", "-m", "artifact", "run", "--profile", "/results/profile.toml", "--results", "/results",
           "--cells", REFERENCE]
    assert wrapped == ["python3", "-m", "artifact.device.emulation", "tx2", "/tmp/emulated-board",
                       "--serial", "EMULATED-ci-tx2", "--"] + run
    assert bare == run and options["environment"]["ARTIFACT_SYSFS_ROOT"] == "/host"
    assert DockerEngine(emulated, 5, client_factory=Client, image="img").serial() == "EMULATED-ci-tx2"


def test_run_and_retrain_refuse_a_cell_the_profile_does_not_have(tmp_path):
    for command in ("run", "retrain"):
        proc = subprocess.run([sys.executable, "-m", "artifact", command, "--profile", "smoke", "--results",
                               str(tmp_path / "r"), "--cells", "mini_vgg__quantize__bits-7"], capture_output=True,
                              text=True, cwd=ROOT, timeout=300, env=dict(os.environ, PYTHONPATH=ROOT))
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith(
            "error: --cells mini_vgg__quantize__bits-7: not a cell of profile smoke; its cells: mini_vgg__baseline")
        assert not (tmp_path / "r").exists()


def test_a_docker_engine_runs_the_images_named_in_invoke_yaml(tmp_path, monkeypatch):
    """invoke.yaml's docker.images, not the defaults: read by the driver for the workers, or by the engine itself."""
    from artifact.core.results import FleetDir
    from artifact.host.containers.settings import DockerSettings
    from artifact.host.fleet.engines import engine_for

    (tmp_path / "invoke.yaml").write_text("docker:\n  images:\n    jetson: lab/jetson:r32-a\n"
                                          "    server: lab/server:gpu-b\n")
    monkeypatch.setattr("artifact.core.paths.PROJECT_ROOT", str(tmp_path))
    ran = []

    class Containers:
        def run(self, image, command, **kwargs):
            ran.append(image)
            return b"SN-1\0"

    class Client:
        def __init__(self, **kwargs):
            self.containers = Containers()

    images = DockerSettings.from_project().images
    fleet_dir = FleetDir(str(tmp_path / "results"))
    for machine, image in ((Machine("tx2-a", "tx2", "ssh://nvidia@tx2-a"), "lab/jetson:r32-a"),
                           (Machine("gpu-1", "server", "ssh://lab@gpu-1"), "lab/server:gpu-b")):
        for given in (images, None):   # the driver's settings["images"], or invoke.yaml read here
            engine = engine_for(machine, fleet_dir, 5, client_factory=Client, images=given)
            assert engine.image == image and engine.serial() == "SN-1" and ran[-1] == image


def test_a_named_reference_that_is_not_a_cell_of_the_profile_stops_before_anything_is_written(tmp_path):
    path = write_fleet(tmp_path, [("tx2-a", "tx2")], extra='reference = "mini_vgg__quantize__bits-7"')
    with pytest.raises(FleetError, match=r"^.*fleet.toml: reference = 'mini_vgg__quantize__bits-7' is not a cell "
                                         r"of profile smoke; name one of its cells"):
        run_fleet(load_fleet(path), "smoke", str(tmp_path / "results"), artifact_cmd=FAKE, say=lambda *_: None)
    assert not (tmp_path / "results").exists()


def test_a_failed_reference_is_reported_and_the_cell_is_measured_on_its_own(tmp_path, monkeypatch):
    log = fake_env(monkeypatch, tmp_path, sleep="0.2")
    monkeypatch.setenv("FAKE_FAIL", "tx2-a:" + REFERENCE)
    fleet = load_fleet(write_fleet(tmp_path, [("tx2-a", "tx2")]))
    results = str(tmp_path / "results")
    summary = run_fleet(fleet, "smoke", results, artifact_cmd=FAKE, say=lambda *_: None)
    assert list(summary["failed"]) == [f"reference|{REFERENCE}|-|tx2-a"]   # said, not hidden
    assert set(records(os.path.join(results, "records"))) == SMOKE_KEYS   # the cell's own measurement ran
    assert not os.path.exists(FleetDir(results).reference_record("tx2-a", REFERENCE))
    assert [e["key"] for e in events(log) if e["what"] == "start" and e["command"] == "run"].count(REFERENCE) == 2
