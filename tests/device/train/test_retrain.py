"""The retraining step and its hand-over: `retrain` fine-tunes each pruned cell and writes a model package,
`run` measures the package (checked against the cell first); killed, `retrain` resumes from its checkpoint."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from artifact.core.errors import ConfigError
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.profiles import parse_profile

PRUNE = "mini_vgg__prune__threshold-0.5"
QPRUNE = "mini_vgg__quantize_prune__bits-8_threshold-0.5"

PROFILE = """
format_version = 1
name = "retrain-test"
[measurement]
train_epochs_scale = 0.1
min_windows = 3
max_windows = 4
warmup_windows = 1
idle_s = 0.0
{extra}
[[group]]
technique = "baseline"
models = ["mini_vgg"]
metrics = ["storage_bytes", "top1"]
[[group]]
technique = "prune"
models = ["mini_vgg"]
settings = [{{threshold = 0.5}}]
metrics = ["params", "storage_bytes", "top1"]
[[group]]
technique = "quantize_prune"
models = ["mini_vgg"]
settings = [{{bits = 8, threshold = 0.5}}]
metrics = ["params", "storage_bytes", "top1"]
"""


def _profile(tmp_path, extra=""):
    path = tmp_path / "retrain-test.toml"
    path.write_text(PROFILE.format(extra=extra))
    return str(path)


def _artifact(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "artifact"] + list(args), cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _record(results, key):
    return json.loads((results / "records" / (key + ".json")).read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`retrain` as the server runs it: packages for both pruned cells, and the baseline they were pruned from."""
    tmp = tmp_path_factory.mktemp("server")
    profile = _profile(tmp)
    results = tmp / "results"
    out = _artifact("retrain", "--profile", profile, "--results", str(results)).stdout
    return profile, results, out


def test_retrain_writes_one_package_per_pruned_cell_and_the_loss_falls(server):
    profile, results, out = server
    assert "2 written, 0 kept, 0 skipped" in out
    for key in (PRUNE, QPRUNE):
        manifest = json.loads((results / "retrained" / key / "manifest.json").read_text())
        assert manifest["kind"] == "artifact-model-package" and manifest["cell"]["key"] == key
        training = manifest["training"]
        assert training["steps"] == training["planned_steps"] == 45  # one pass over 1,437 digits in batches of 32
        assert training["final_loss"] < training["first_loss"]   # half the filters gone: fine-tuning recovers
        assert training["data_index_sha256"] and training["optimizer"] == "adam"
        assert 0.5 < manifest["validation"]["top1"] <= 1.0
    assert not (results / "retrained" / ".work").exists()   # checkpoints removed once a package is written
    again = _artifact("retrain", "--profile", profile, "--results", str(results)).stdout
    assert "0 written, 2 kept" in again


def _board_measures_the_handed_packages(server, tmp_path):
    """A board's results directory holding only the baseline measures the server's packages, handed over as a
    copy (--retrained DIR): (profile, the server's results, the board's results, the handed-over copy)."""
    profile, server_results, _ = server
    board = tmp_path / "board"
    (board / "models").mkdir(parents=True)
    shutil.copy(str(server_results / "models" / "mini_vgg__baseline__fp32.model.zip"), str(board / "models"))
    handed = tmp_path / "handed-over"
    shutil.copytree(str(server_results / "retrained"), str(handed))
    _artifact("run", "--profile", profile, "--results", str(board), "--retrained", str(handed))
    return profile, server_results, board, handed


def test_run_measures_the_packages_the_server_handed_over(server, tmp_path):
    """The board's results directory holds only the baseline; the packages come from --retrained DIR."""
    profile, server_results, board, handed = _board_measures_the_handed_packages(server, tmp_path)
    for key in (PRUNE, QPRUNE):
        record = _record(board, key)
        package = record["provenance"]["package"]
        assert record["provenance"]["retrained"] is True and "retrain_note" not in record["provenance"]
        assert package["path"] == str(handed / key) and package["training"]["steps"] == 45
        assert "retrain" not in record["phases"]   # measured what was handed over, not fine-tuned again
    assert not (board / "retrained").exists()
    top1 = _record(board, PRUNE)["measurements"]["top1"]["samples"][0]
    assert top1 == pytest.approx(json.loads((handed / PRUNE / "manifest.json").read_text())["validation"]["top1"])
    from artifact.core.results import ResultsDir
    from artifact.host.report.render import retraining_rows

    rows = {row[0]: row for row in retraining_rows(ResultsDir(str(board)).load_records())}
    assert set(rows) == {PRUNE, QPRUNE}   # the report's Retraining table: what each pruned cell was measured from
    assert rows[PRUNE][1] == "yes" and rows[PRUNE][2].startswith("scikit-learn load_digits") and rows[PRUNE][3] == "45"
    assert "top1 {:.4g}".format(top1) in rows[PRUNE][6]


def test_run_without_packages_fine_tunes_the_mini_zoo_through_the_same_package(tmp_path):
    profile = _profile(tmp_path)
    results = tmp_path / "results"
    _artifact("run", "--profile", profile, "--results", str(results))
    for key in (PRUNE, QPRUNE):
        record = _record(results, key)
        assert record["provenance"]["retrained"] is True and record["phases"]["retrain"] > 0
        assert record["provenance"]["package"]["path"] == str(results / "retrained" / key)
        assert (results / "retrained" / key / "model.model.zip").exists()


def kill_after_first_checkpoint(args, work, timeout_s, linger_s=0.0):
    """`python -m artifact ARGS`, SIGKILLed `linger_s` after a checkpoint appears in `work` (within `timeout_s`)."""
    proc = subprocess.Popen([sys.executable, "-m", "artifact"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + timeout_s
    try:
        while not (work / "checkpoint").exists():
            assert proc.poll() is None and time.time() < deadline, "no checkpoint was written"
            time.sleep(0.05)
        time.sleep(linger_s)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _without_records(results):
    shutil.rmtree(str(results / "records"), ignore_errors=True)


@pytest.mark.parametrize("damage, message", [
    ("other_cell", "made for technique 'prune', this cell (" + QPRUNE + ") has 'quantize_prune'"),
    ("stale", "stale: made by architecture/pruning code revision 000000000000"),
    ("corrupt", "corrupt: its sha256 is not the manifest's model_sha256"),
    ("no_manifest", "not a model package (no manifest.json)"),
    ("other_baseline", "pruned from another baseline (its weights_sha256 'f00'"),
])
def test_a_wrong_stale_or_corrupt_package_is_one_line_naming_it(server, tmp_path, damage, message):
    profile, server_results, _ = server
    board = tmp_path / "board"
    shutil.copytree(str(server_results), str(board))
    _without_records(board)
    packages = board / "retrained"
    if damage == "other_cell":
        shutil.rmtree(str(packages / QPRUNE))
        shutil.copytree(str(packages / PRUNE), str(packages / QPRUNE))
    victim = packages / (QPRUNE if damage == "other_cell" else PRUNE)
    manifest_path = victim / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if damage == "stale":
        manifest["architecture_revision"] = "000000000000"
    elif damage == "other_baseline":
        manifest["baseline"]["weights_sha256"] = "f00"
    manifest_path.write_text(json.dumps(manifest))
    if damage == "corrupt":
        with open(str(victim / "model.model.zip"), "r+b") as handle:
            handle.seek(200)
            byte = handle.read(1)
            handle.seek(200)
            handle.write(bytes([byte[0] ^ 0xFF]))
    if damage == "no_manifest":
        manifest_path.unlink()
    proc = _artifact("run", "--profile", profile, "--results", str(board), check=False)
    assert proc.returncode in (2, 3), proc.stdout + proc.stderr
    assert message in proc.stderr and str(victim) in proc.stderr, proc.stderr[-2000:]
    assert "re-run `invoke retrain`" in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error:")]) == 1


def test_a_missing_retrained_directory_is_one_line(tmp_path):
    proc = _artifact("run", "--profile", _profile(tmp_path), "--results", str(tmp_path / "r"), "--retrained",
                     str(tmp_path / "nowhere"), check=False)
    assert proc.returncode == 2 and "--retrained {}: no such directory".format(tmp_path / "nowhere") in proc.stderr


def test_max_steps_caps_the_training_and_the_package_says_so(tmp_path):
    results = tmp_path / "results"
    out = _artifact("retrain", "--profile", _profile(tmp_path), "--results", str(results), "--max-steps", "5",
                    "--models", "mini_vgg").stdout
    assert "2 written" in out
    training = json.loads((results / "retrained" / PRUNE / "manifest.json").read_text())["training"]
    assert training["steps"] == 5 and training["planned_steps"] == 45


def test_a_killed_retrain_resumes_from_its_last_checkpoint(tmp_path):
    extra = "[retraining.mini_vgg]\nsteps = 400\ncheckpoint_every = 25\n"
    profile, results = _profile(tmp_path, extra), tmp_path / "results"
    work = results / "retrained" / ".work" / PRUNE
    kill_after_first_checkpoint(["retrain", "--profile", profile, "--results", str(results)], work, 180, 0.3)
    assert not (results / "retrained" / PRUNE).exists()   # killed before the package: none, not half of one
    out = _artifact("retrain", "--profile", profile, "--results", str(results)).stdout
    manifest = json.loads((results / "retrained" / PRUNE / "manifest.json").read_text())
    resumed = manifest["training"]["resumed_from_step"]
    assert resumed >= 25 and resumed % 25 == 0 and manifest["training"]["steps"] == 400
    assert "(resumed at step {})".format(resumed) in out


@pytest.mark.parametrize("table, message", [
    ("[retraining.mini_vgg]\nstep = 5\n", "[retraining.mini_vgg] 'step' is not a setting"),
    ("[retraining.mini_vgg]\nlearning_rate = 0\n", "learning_rate = 0 is not valid: a constant learning rate"),
    ("[retraining.mini_vgg]\noptimizer = \"rmsprop\"\n", "optimizer = 'rmsprop' is not valid"),
    ("[retraining.no_such_model]\nsteps = 5\n", "no_such_model"),
])
def test_retraining_settings_in_a_profile_are_checked_when_it_is_read(tmp_path, table, message):
    from artifact.core.tomlfile import load_toml

    path = _profile(tmp_path, table)
    with pytest.raises(ConfigError) as error:
        parse_profile(load_toml(path, "profile", ConfigError), path)
    assert message in str(error.value) and path in str(error.value)


def test_the_paper_profile_states_the_retraining_schedule_its_tasks_would_use():
    """The schedule lives in paper.toml (the experiment's data); a profile that says nothing gets the tasks'
    defaults. Both must be the same numbers, or the paper profile would silently run another schedule."""
    from artifact.core.profiles import load_profile
    from artifact.device.models.tasks import task_for

    profile = load_profile("paper")
    assert set(profile.retraining) == {"vgg_16", "resnet_v1_50", "nmt"}
    for model, stated in profile.retraining.items():
        defaults = task_for(model, {}).retraining_defaults()
        assert {k: defaults[k] for k in stated} == stated, model


@pytest.mark.parametrize("losses_kept", [True, False])
def test_a_retrain_killed_after_its_last_checkpoint_never_writes_missing_losses(tmp_path, monkeypatch, capsys,
                                                                                losses_kept):
    """Killed between the last checkpoint and the package: the re-run resumes with the losses it had (kept beside
    the checkpoint) or, when they are gone (a checkpoint without them), starts over; never a package with null losses
    (it used to crash in retrain's summary line, `NoneType.__format__`)."""
    from artifact.cli import main
    from artifact.device.train import retrain

    extra = "[retraining.mini_vgg]\nsteps = 20\ncheckpoint_every = 10\n"
    profile, results = _profile(tmp_path, extra), tmp_path / "results"

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill after the last checkpoint, before the package is renamed in

    monkeypatch.setenv("ARTIFACT_ALLOW_BUSY", "1")
    with monkeypatch.context() as patch:
        patch.setattr(retrain, "write_package", killed)
        assert main(["retrain", "--profile", profile, "--results", str(results), "--models", "mini_vgg"]) == 130
    work = results / "retrained" / ".work" / PRUNE
    assert (work / "checkpoint").exists() and not (results / "retrained" / PRUNE).exists()
    if not losses_kept:
        for name in os.listdir(work):
            if name.startswith("losses"):
                os.remove(work / name)
    capsys.readouterr()
    assert main(["retrain", "--profile", profile, "--results", str(results), "--models", "mini_vgg"]) == 0
    training = json.loads((results / "retrained" / PRUNE / "manifest.json").read_text())["training"]
    assert training["steps"] == 20 and training["first_loss"] is not None and training["final_loss"] is not None
    assert training["resumed_from_step"] == (20 if losses_kept else 0)
    assert "2 written" in capsys.readouterr().out


def test_a_model_file_without_its_record_is_never_measured_as_the_cell(server, tmp_path):
    """Killed after a pruned cell's model file was saved, before its record: the re-run must not measure that file
    (nothing says how it was made); it makes the cell again, from its package, and says retrained."""
    profile, server_results, _ = server
    board = tmp_path / "board"
    (board / "models").mkdir(parents=True)
    baseline = server_results / "models" / "mini_vgg__baseline__fp32.model.zip"
    shutil.copy(str(baseline), str(board / "models"))
    shutil.copy(str(baseline), str(board / "models" / (PRUNE + ".model.zip")))   # an orphan: no record says what
    _artifact("run", "--profile", profile, "--results", str(board), "--retrained", str(server_results / "retrained"))
    record = _record(board, PRUNE)
    assert record["provenance"]["retrained"] is True
    assert record["provenance"]["package"]["path"] == str(server_results / "retrained" / PRUNE)
    assert record["measurements"]["storage_bytes"]["samples"][0] != os.path.getsize(str(baseline))


def test_a_package_replaced_after_its_record_makes_the_record_stale(server, tmp_path):
    """`check` refuses a record whose package was replaced since it was measured; `run` measures it again, saying so."""
    profile, server_results, board, handed = _board_measures_the_handed_packages(server, tmp_path)
    path = board / "records" / (PRUNE + ".json")
    data = json.loads(path.read_text())
    data["provenance"]["package"]["model_sha256"] = "0" * 64   # as if measured on the package before this one
    path.write_text(json.dumps(data))
    proc = _artifact("check", "--profile", profile, "--results", str(board), check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert str(path) in lines[0] and "stale" in lines[0] and "run" in lines[0]
    proc = _artifact("run", "--profile", profile, "--results", str(board), "--retrained", str(handed))
    assert PRUNE in proc.stderr and "measured again" in proc.stderr
    now = json.loads((handed / PRUNE / "manifest.json").read_text())["model_sha256"]
    assert _record(board, PRUNE)["provenance"]["package"]["model_sha256"] == now
    assert _artifact("check", "--profile", profile, "--results", str(board), check=False).returncode in (0, 1)


def _temporaries(results):
    return [os.path.join(base, name) for base, folders, files in os.walk(str(results))
            for name in folders + files if name.startswith(".tmp-")]


def _kill_at(args, seconds):
    """`python -m artifact ARGS`, its process alone SIGKILLed after `seconds` (its worker must die with it)."""
    proc = subprocess.Popen([sys.executable, "-m", "artifact"] + list(args), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_run_killed_at_a_seeded_moment_then_rerun_loses_duplicates_and_misstates_nothing(server, tmp_path, seed):
    import random

    profile, server_results, _ = server
    board = tmp_path / "board"
    (board / "models").mkdir(parents=True)
    shutil.copy(str(server_results / "models" / "mini_vgg__baseline__fp32.model.zip"), str(board / "models"))
    handed = str(server_results / "retrained")
    args = ["run", "--profile", profile, "--results", str(board), "--retrained", handed]
    _kill_at(args, random.Random(seed).uniform(2.0, 25.0))
    _artifact(*args)
    assert sorted(os.listdir(board / "records")) == sorted(
        k + ".json" for k in ("mini_vgg__baseline__fp32", PRUNE, QPRUNE))   # none lost, none twice
    for key in (PRUNE, QPRUNE):
        package = _record(board, key)["provenance"]["package"]
        manifest = json.loads((server_results / "retrained" / key / "manifest.json").read_text())
        assert _record(board, key)["provenance"]["retrained"] is True
        assert package["model_sha256"] == manifest["model_sha256"]
    assert _temporaries(board) == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_retrain_killed_at_a_seeded_moment_then_rerun_writes_whole_packages(tmp_path, seed):
    import random

    extra = "[retraining.mini_vgg]\nsteps = 60\ncheckpoint_every = 10\n"
    profile, results = _profile(tmp_path, extra), tmp_path / "results"
    args = ["retrain", "--profile", profile, "--results", str(results)]
    _kill_at(args, random.Random(seed).uniform(3.0, 30.0))
    _artifact(*args)
    for key in (PRUNE, QPRUNE):
        training = json.loads((results / "retrained" / key / "manifest.json").read_text())["training"]
        assert training["steps"] == 60 and None not in (training["first_loss"], training["final_loss"])
    assert _temporaries(results) == [] and not (results / "retrained" / ".work").exists()


def _kill_when(args, event, timeout_s):
    """`python -m artifact ARGS`, its process alone SIGKILLed the moment `event()` is true (polled every 2 ms);
    returns whether the event came before the command ended (within `timeout_s`)."""
    proc = subprocess.Popen([sys.executable, "-m", "artifact"] + list(args), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    deadline, seen = time.time() + timeout_s, False
    try:
        while proc.poll() is None and time.time() < deadline:
            if event():
                seen = True
                break
            time.sleep(0.002)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return seen


def _leftovers(results):
    """What a kill may leave and a re-run must not: temporaries, finished cells' checkpoints, packages set aside,
    the memory probe's logs."""
    out = _temporaries(results)
    for base, folders, files in os.walk(str(results)):
        out += [os.path.join(base, n) for n in folders + files if ".old-" in n or n.startswith("memory-probe-")]
    work = results / "retrained" / ".work"
    out += [str(work / k) for k in (os.listdir(str(work)) if work.exists() else [])
            if (results / "retrained" / k / "manifest.json").exists()]
    return out


@pytest.mark.slow
def test_retrain_killed_mid_checkpoint_then_rerun_writes_whole_packages(tmp_path):
    """kill -9 the moment losses.json is rewritten for a later checkpoint (before or while TensorFlow saves the
    checkpoint it goes with): the re-run resumes or starts over, never a package with missing losses."""
    extra = "[retraining.mini_vgg]\nsteps = 60\ncheckpoint_every = 10\n"
    profile, results = _profile(tmp_path, extra), tmp_path / "results"
    losses = results / "retrained" / ".work" / PRUNE / "losses.json"

    def second_losses():   # losses.json for the second checkpoint (20 steps) written: its checkpoint is being saved
        try:
            return len(json.loads(losses.read_text())) >= 20
        except (OSError, ValueError):
            return False

    args = ["retrain", "--profile", profile, "--results", str(results)]
    assert _kill_when(args, second_losses, 300), "retrain ended before its second checkpoint"
    _artifact(*args)
    for key in (PRUNE, QPRUNE):
        training = json.loads((results / "retrained" / key / "manifest.json").read_text())["training"]
        assert training["steps"] == 60 and None not in (training["first_loss"], training["final_loss"])
    assert _leftovers(results) == [] and not (results / "retrained" / ".work").exists()


@pytest.mark.slow
def test_run_killed_right_after_a_model_file_is_saved_then_rerun_misstates_nothing(server, tmp_path):
    """kill -9 the moment models/<pruned key>.model.zip appears (before its record): the records made before are
    untouched, the re-run's say `retrained` from the package's own model_sha256, `check` judges, nothing is left."""
    profile, server_results, _ = server
    board = tmp_path / "board"
    (board / "models").mkdir(parents=True)
    shutil.copy(str(server_results / "models" / "mini_vgg__baseline__fp32.model.zip"), str(board / "models"))
    args = ["run", "--profile", profile, "--results", str(board), "--retrained", str(server_results / "retrained")]
    saved = [board / "models" / (key + ".model.zip") for key in (PRUNE, QPRUNE)]
    assert _kill_when(args, lambda: any(p.exists() for p in saved), 300), "run ended before saving a pruned model"
    records = board / "records"
    before = {p.name: p.read_bytes() for p in records.glob("*.json")} if records.exists() else {}
    _artifact(*args)
    assert sorted(os.listdir(records)) == sorted(k + ".json" for k in ("mini_vgg__baseline__fp32", PRUNE, QPRUNE))
    assert {name: (records / name).read_bytes() for name in before} == before   # made before the kill: untouched
    for key in (PRUNE, QPRUNE):
        provenance = _record(board, key)["provenance"]
        manifest = json.loads((server_results / "retrained" / key / "manifest.json").read_text())
        assert provenance["retrained"] is True and provenance["package"]["model_sha256"] == manifest["model_sha256"]
    assert _artifact("check", "--profile", profile, "--results", str(board), check=False).returncode in (0, 1)
    assert _leftovers(board) == []
