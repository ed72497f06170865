"""The paper's retraining on the server and measurement on the board, for Table I models, on tiny training sets
in the layouts people have (tests/helpers/training_sets.py): a pruned ResNet_50 fine-tuned on ILSVRC2012-format class
folders and TFRecord shards, the pruned GNMT on a WMT16-format corpus; killed and resumed; each package then
measured by `run --retrained` from a results directory that holds only the baseline."""
import json
import os
import shutil

import pytest

from tests.device.train.test_retrain import _artifact, _record, kill_after_first_checkpoint
from tests.helpers import training_sets as ts

RESNET = "resnet_v1_50__prune__threshold-0.5"
NMT = "nmt__prune__threshold-0.5"

PROFILE = """
format_version = 1
name = "retrain-{model}"
[measurement]
min_windows = 3
max_windows = 4
warmup_windows = 1
idle_s = 0.0
[retraining.{model}]
{retraining}
[[group]]
technique = "baseline"
models = ["{model}"]
metrics = [{metrics}]
[[group]]
technique = "prune"
models = ["{model}"]
settings = [{{threshold = 0.5}}]
metrics = [{metrics}]
"""
# a few steps on a CPU: Adam for the randomly initialised ResNet (slim's SGD at 0.001 would move it too little to
# see in 8 steps), nmt's own GNMT learning rate (1.0) for the tiny GNMT
RESNET_RETRAINING = 'optimizer = "adam"\nlearning_rate = 0.001\nbatch_size = 4\nsteps = 8\ncheckpoint_every = 2'
NMT_RETRAINING = "learning_rate = 1.0\nbatch_size = 8\nsteps = 60\ncheckpoint_every = 10"


def _profile(tmp_path, model, retraining, metrics):
    path = tmp_path / "retrain-{}.toml".format(model)
    path.write_text(PROFILE.format(model=model, retraining=retraining,
                                   metrics=", ".join('"{}"'.format(m) for m in metrics)))
    return str(path)


def _manifest(results, key):
    return json.loads((results / "retrained" / key / "manifest.json").read_text())


def _board(tmp_path, server, baseline_key):
    """What the board holds: the baseline model file, and the packages handed over in their own directory."""
    board = tmp_path / "board"
    (board / "models").mkdir(parents=True)
    for name in os.listdir(str(server / "models")):
        if name.startswith(baseline_key):
            shutil.copy(str(server / "models" / name), str(board / "models"))
    handed = tmp_path / "handed-over"
    shutil.copytree(str(server / "retrained"), str(handed))
    return board, handed


def test_pruned_resnet50_is_fine_tuned_on_class_folders_and_the_board_measures_the_package(tmp_path):
    from artifact.device.models.data.imagenet_train import ImageNetTrain

    data = ts.imagenet_train_folders(tmp_path / "imagenet")
    profile = _profile(tmp_path, "resnet_v1_50", RESNET_RETRAINING, ["params", "storage_bytes", "inference_time_s"])
    server = tmp_path / "server"
    out = _artifact("retrain", "--profile", profile, "--results", str(server), "--imagenet-train", data).stdout
    assert "1 written, 0 kept, 0 skipped" in out
    training = _manifest(server, RESNET)["training"]
    assert training["steps"] == 8 and training["final_loss"] < training["first_loss"]
    assert training["data_index_sha256"] == ImageNetTrain(data).index_checksum()
    assert "12 images in 3 class folders" in training["data"] and training["data_path"] == data

    board, handed = _board(tmp_path, server, "resnet_v1_50__baseline")
    _artifact("run", "--profile", profile, "--results", str(board), "--retrained", str(handed))
    record = _record(board, RESNET)
    assert record["provenance"]["retrained"] is True and "retrain" not in record["phases"]
    assert record["provenance"]["package"]["path"] == str(handed / RESNET)
    pruned = record["measurements"]["params"]["samples"][0]
    baseline = _record(board, "resnet_v1_50__baseline__fp32")["measurements"]["params"]["samples"][0]
    assert pruned < 0.5 * baseline   # the package's half-filters model, not the baseline


def test_a_killed_retraining_on_tfrecord_shards_resumes_from_its_checkpoint(tmp_path):
    data = ts.imagenet_train_shards(tmp_path / "shards")
    profile = _profile(tmp_path, "resnet_v1_50", RESNET_RETRAINING, ["params"])
    results = tmp_path / "results"
    work = results / "retrained" / ".work" / RESNET
    kill_after_first_checkpoint(["retrain", "--profile", profile, "--results", str(results), "--imagenet-train",
                                 data], work, 300)
    assert not (results / "retrained" / RESNET).exists()
    out = _artifact("retrain", "--profile", profile, "--results", str(results), "--imagenet-train", data).stdout
    training = _manifest(results, RESNET)["training"]
    assert training["resumed_from_step"] >= 2 and training["resumed_from_step"] % 2 == 0
    assert training["steps"] == 8 and "(resumed at step {})".format(training["resumed_from_step"]) in out
    assert "2 TF-Slim TFRecord shards" in training["data"]


def test_pruned_gnmt_is_fine_tuned_on_wmt_files_and_the_board_scores_the_package(tmp_path):
    model_dir = ts.nmt_model_dir(tmp_path / "nmt")
    data = ts.wmt_train_dir(tmp_path / "wmt16")
    profile = _profile(tmp_path, "nmt", NMT_RETRAINING, ["params", "storage_bytes", "bleu"])
    server = tmp_path / "server"
    _artifact("retrain", "--profile", profile, "--results", str(server), "--nmt", model_dir, "--nmt-train", data)
    manifest = _manifest(server, NMT)
    training = manifest["training"]
    assert training["steps"] == 60 and training["final_loss"] < 0.8 * training["first_loss"]
    assert "120 sentence pairs" in training["data"] and training["clip_norm"] == 5.0
    assert manifest["validation"]["scored"] == 4   # BLEU on the model's newstest file, after fine-tuning

    board, handed = _board(tmp_path, server, "nmt__baseline")
    _artifact("run", "--profile", profile, "--results", str(board), "--retrained", str(handed), "--nmt", model_dir)
    record = _record(board, NMT)
    assert record["provenance"]["retrained"] is True
    assert record["measurements"]["bleu"]["samples"][0] == pytest.approx(manifest["validation"]["bleu"])


def test_wmt_vocabularies_that_do_not_fit_the_table_i_gnmt_are_one_line(tmp_path):
    data = ts.wmt_train_dir(tmp_path / "wmt16")
    profile = _profile(tmp_path, "nmt", NMT_RETRAINING, ["params"])
    proc = _artifact("retrain", "--profile", profile, "--results", str(tmp_path / "r"), "--nmt-train", data,
                     check=False)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "vocab.bpe.32000.en: 33 tokens, the GNMT of Table I has 36549" in error[0]
    assert "--nmt DIR" in error[0]
