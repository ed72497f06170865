"""The device side on the boards' own software: software twins of the Jetson stacks (`.ci/board-twins`), one per
row of docker/bases.toml with a board kind (its [jetson.twin]; artifact.host.containers.bases). Today:

    tx2     CPython 3.6  + tensorflow-cpu 2.6.2   (JetPack 4.6: Python 3.6 + TF 2.7)
    xavier  CPython 3.8  + tensorflow-cpu 2.11.1  (L4T R35: Python 3.8 + TF 2.11)
    orin    CPython 3.10 + tensorflow-cpu 2.14.1  (L4T R36 l4t-tensorflow: Python 3.10 + TF 2.14)

Each twin runs `python -m artifact doctor`, then `run --profile smoke` against an EMULATED board of its kind; then
this Python (>= 3.10, the host) runs `check --against` the committed smoke reference and `report`.
Skipped when the twins are not built (`make twins`), except where ARTIFACT_REQUIRE_TWINS=1 (CI).
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.host.containers import ContainerError
from artifact.host.containers.bases import EMULATED_TREES, board_twins

TWINS = os.environ.get("ARTIFACT_TWINS_DIR", os.path.join(ROOT, ".twins"))
# kind -> (its Python's major.minor, the emulated board it runs against)
BOARDS = {t["kind"]: (t["python"].rsplit(".", 1)[0], t["emulated"]) for t in board_twins()}


def test_the_twin_table_is_docker_bases_and_names_real_emulators(tmp_path):
    from artifact.device.emulation.cli import BOARDS as EMULATORS
    from artifact.host.fleet import KINDS

    assert BOARDS == {"tx2": ("3.6", "tx2"), "xavier": ("3.8", "orin"), "orin": ("3.10", "orin")}
    assert set(EMULATED_TREES) == set(EMULATORS) and KINDS == ("tx2", "xavier", "orin", "x86")
    with open(os.path.join(ROOT, "docker", "bases.toml")) as handle:
        good = handle.read()
    (tmp_path / "jetson").mkdir()
    for name in ("requirements-l4t-r32.txt", "requirements-l4t-r35.txt", "requirements-l4t-r36.txt"):
        (tmp_path / "jetson" / name).write_text("")
    bases = tmp_path / "bases.toml"
    for bad, words in ((good.replace('emulated = "orin"', 'emulated = "xavier"', 1), r"row 2 .*twin.emulated"),
                       (good.replace('python = "3.6.15"', 'python = "3.6"'), r"row 1 .*twin.python = '3.6'"),
                       (good.replace('kind = "orin"', 'kind = "tx2"'), r"row 3 .*kind = 'tx2'"),
                       (good.replace("\n[jetson.twin]\npython = \"3.8.18\"", "\n[jetson.extra]\npython = \"3.8.18\""),
                        r"row 2 .*no \[jetson.twin\]")):
        assert bad != good
        bases.write_text(bad)
        with pytest.raises(ContainerError, match=words):
            board_twins(str(bases))
    bases.write_text(good.replace("requirements-l4t-r36.txt", "requirements-l4t-r99.txt"))
    with pytest.raises(ContainerError, match=r"row 3 .*requirements-l4t-r99.txt' is not a file"):
        board_twins(str(bases))


def _twin_python(board):
    python = os.path.join(TWINS, board, "bin", "python")
    if not os.path.exists(os.path.join(TWINS, board, ".installed")):
        message = "no {} twin in {}: build it with `make twins` (.ci/board-twins)".format(board, TWINS)
        if os.environ.get("ARTIFACT_REQUIRE_TWINS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.mark.twins
@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_smoke_profile_runs_on_the_board_twin_and_the_host_judges_it(board, tmp_path):
    python = _twin_python(board)
    version, emulated = BOARDS[board]
    out = subprocess.run([python, "-c", "import sys, tensorflow as tf; print(sys.version_info[:2], tf.__version__)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("({}, {})".format(*version.split("."))), out
    sysfs, results = tmp_path / "board", tmp_path / "smoke"
    env = dict(os.environ, ARTIFACT_SYSFS_ROOT=str(sysfs), PYTHONPATH=ROOT)
    emulator = subprocess.Popen([python, "-m", "artifact.device.emulation", emulated, str(sysfs)], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):  # the tree is written before the sensors start moving
            if (sysfs / "etc").exists():
                break
            time.sleep(0.05)
        doctor = subprocess.run([python, "-m", "artifact", "doctor"], cwd=ROOT, env=env, capture_output=True,
                                text=True)
        assert doctor.returncode == 0 and "power sensor" in doctor.stdout, doctor.stdout + doctor.stderr[-2000:]
        run = subprocess.run([python, "-m", "artifact", "run", "--profile", "smoke", "--results", str(results)],
                             cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
    logs = "".join(p.read_text() for p in (results / "logs").glob("*.log")) if (results / "logs").exists() else ""
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:] + logs[-4000:]
    assert len(list((results / "records").glob("*.json"))) == 3
    assert (results / "run.json").exists()
    reference = os.path.join(ROOT, "expected_results", "reference", "smoke")
    for command in (["check", "--against", reference], ["report"]):
        host = subprocess.run([sys.executable, "-m", "artifact", command[0], "--profile", "smoke",
                               "--results", str(results)] + command[1:], cwd=ROOT, capture_output=True, text=True)
        assert host.returncode == 0, host.stdout[-3000:] + host.stderr[-2000:]
    assert (results / "report" / "index.html").exists()


@pytest.mark.twins
def test_the_tx2_wheelhouse_resolved_with_the_twin_keeps_python_36_only_dependencies(tmp_path):
    """pip evaluates environment markers with the interpreter that runs it: resolved on the host's Python,
    tqdm's `importlib-resources; python_version < "3.7"` is dropped and the offline TX2 build fails."""
    from artifact.host.containers.images import wheelhouse_commands

    python = _twin_python("tx2")
    for command in wheelhouse_commands("jetson", "linux/arm64", "3.6", "requirements-l4t-r32.txt", python=python,
                                       dest=str(tmp_path)):
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    names = os.listdir(str(tmp_path))
    assert any(n.startswith("importlib_resources-") for n in names) and any(n.startswith("zipp-") for n in names)
    assert any(n.startswith("scipy-1.5.4-") and "aarch64" in n for n in names)


HANDOVER_PROFILE = """format_version = 1
name = "handover"
[measurement]
train_epochs_scale = 0.1
min_windows = 3
max_windows = 4
idle_s = 0.0
[[group]]
technique = "baseline"
models = ["mini_vgg"]
metrics = ["storage_bytes", "top1"]
[[group]]
technique = "prune"
models = ["mini_vgg"]
settings = [{threshold = 0.5}]
metrics = ["params", "storage_bytes", "top1"]
"""


@pytest.mark.twins
def test_the_tx2_twin_measures_the_package_the_server_retrained(tmp_path):
    """The two worlds: the server's Python and TensorFlow (this host: 3.11, TF 2.21) retrain the pruned model and
    write the baseline and the package; the board's (3.6, TF 2.6) read both and measure them. A newer Keras writes
    layer arguments an older one does not know (InputLayer `optional`): without the portable reading the board
    cannot even load the baseline."""
    import json

    python = _twin_python("tx2")
    profile = tmp_path / "handover.toml"
    profile.write_text(HANDOVER_PROFILE)
    results = tmp_path / "results"
    env = dict(os.environ, PYTHONPATH=ROOT, ARTIFACT_ALLOW_BUSY="1")
    server = subprocess.run([sys.executable, "-m", "artifact", "retrain", "--profile", str(profile), "--results",
                             str(results)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert server.returncode == 0, server.stdout[-2000:] + server.stderr[-2000:]
    board = subprocess.run([python, "-m", "artifact", "run", "--profile", str(profile), "--results", str(results)],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    logs = (results / "logs" / "mini_vgg.log").read_text() if (results / "logs" / "mini_vgg.log").exists() else ""
    assert board.returncode == 0, board.stdout[-2000:] + board.stderr[-2000:] + logs[-3000:]
    record = json.loads((results / "records" / "mini_vgg__prune__threshold-0.5.json").read_text())
    assert record["environment"]["python"].startswith("3.6.") and record["environment"]["tensorflow"] == "2.6.2"
    package = record["provenance"]["package"]
    assert record["provenance"]["retrained"] and package["training"]["python"].startswith("3.11")
    assert "retrain" not in record["phases"]   # measured as handed over, not fine-tuned on the board
    manifest = json.loads((results / "retrained" / "mini_vgg__prune__threshold-0.5" / "manifest.json").read_text())
    assert record["measurements"]["top1"]["samples"][0] == pytest.approx(manifest["validation"]["top1"])


@pytest.mark.twins
def test_the_tx2_twin_measures_the_gnmt_package_the_server_retrained(tmp_path):
    """The paper's GNMT across the two worlds: fine-tuned on a WMT16-format corpus by the server (this host's TF),
    scored by the TX2 twin (TF 2.6). Its custom layers are written by a newer Keras under their registered names,
    and its RNN cells carry variable names each Keras makes up (`lstm_cell_13` on 2.6): the board must rebuild
    the model and recognise the baseline the package was pruned from."""
    import json

    from tests.device.train.test_retrain_paper import NMT, NMT_RETRAINING, _profile
    from tests.helpers import training_sets as ts

    python = _twin_python("tx2")
    model_dir, data = ts.nmt_model_dir(tmp_path / "nmt"), ts.wmt_train_dir(tmp_path / "wmt16")
    profile = _profile(tmp_path, "nmt", NMT_RETRAINING, ["params", "bleu"])
    results = tmp_path / "results"
    env = dict(os.environ, PYTHONPATH=ROOT, ARTIFACT_ALLOW_BUSY="1")
    server = subprocess.run([sys.executable, "-m", "artifact", "retrain", "--profile", profile, "--results",
                             str(results), "--nmt", model_dir, "--nmt-train", data], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert server.returncode == 0, server.stdout[-2000:] + server.stderr[-2000:]
    board = subprocess.run([python, "-m", "artifact", "run", "--profile", profile, "--results", str(results),
                            "--nmt", model_dir], cwd=ROOT, env=env, capture_output=True, text=True)
    logs = (results / "logs" / "nmt.log").read_text() if (results / "logs" / "nmt.log").exists() else ""
    assert board.returncode == 0, board.stdout[-2000:] + board.stderr[-2000:] + logs[-3000:]
    record = json.loads((results / "records" / (NMT + ".json")).read_text())
    assert record["environment"]["tensorflow"] == "2.6.2" and record["provenance"]["retrained"]
    manifest = json.loads((results / "retrained" / NMT / "manifest.json").read_text())
    assert record["measurements"]["bleu"]["samples"][0] == pytest.approx(manifest["validation"]["bleu"])
    assert record["provenance"]["package"]["model_sha256"] == manifest["model_sha256"]


OP_PROFILE_ON_THE_BOARD = r"""
import numpy as np
from artifact.device.compat import keras, tf
from artifact.device.measure.op_profile import profile_ops, traced_session

inputs = keras.Input((16, 16, 3))
h = keras.layers.BatchNormalization()(keras.layers.Conv2D(8, 3, use_bias=False)(inputs))
outputs = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(h)))
model = keras.Model(inputs, outputs)
x = np.random.RandomState(1).rand(2, 16, 16, 3).astype(np.float32)
with traced_session(model, x) as (sess, fetches, feeds):
    out = sess.run(fetches, feeds)[0]
    variables = sum(op.type == "VarHandleOp" for op in sess.graph.get_operations())
assert variables == len(model.weights), (variables, len(model.weights))
np.testing.assert_allclose(out, model(x, training=False).numpy(), rtol=1e-4, atol=1e-5)
q = tf.Variable(np.random.RandomState(0).randint(0, 256, (256, 256)).astype(np.uint8))

@tf.function
def quantized(v):
    with tf.name_scope("dequantize"):
        kernel = tf.cast(q, tf.float32) * 0.01 - 1.28
    return tf.matmul(v, kernel)

prof = profile_ops(quantized, np.random.rand(4, 256).astype(np.float32), runs=2)
assert prof.dequantize_share > 0 and "ReadVariableOp" in prof.per_op_type_seconds, prof.to_dict()
assert abs(sum(prof.per_class_share.values()) - 1) < 1e-6
print("OP PROFILE OK", tf.__version__)
"""


@pytest.mark.twins
@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_op_profile_runs_on_the_board_twin(board):
    """The op profile reaches into TensorFlow's converter (`_FunctionConverterDataInEager`): on each board's
    TensorFlow the profiled graph must compute what the model computes, with its weights as variables."""
    python = _twin_python(board)
    proc = subprocess.run([python, "-c", OP_PROFILE_ON_THE_BOARD], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0 and "OP PROFILE OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-3000:]
