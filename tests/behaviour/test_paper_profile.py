"""The paper's Table I models through the runner: architecture-only without inputs, and with a
TF-Slim checkpoint and an ImageNet folder written here (real loaders, small files)."""
import os

import numpy as np
import pytest

from artifact.core.errors import ConfigError
from artifact.core.records import load_records
from artifact.device.compat import keras
from artifact.device.models.tasks.paper import paper_task
from artifact.device.run.parent import run_profile
from tests.device.models.data.test_imagenet import LABELS, write_images, write_loc

PROFILE = """format_version = 1
name = "paper-tiny"
description = "two cells of MobileNet v1"
[measurement]
warmup_windows = 1
min_windows = 3
max_windows = 5
min_window_s = 0.0
time_budget_s = 0.5
keep_model_files = false
[[group]]
technique = "baseline"
models = ["mobilenet_v1"]
metrics = ["params", "depth", "storage_bytes", "memory_peak_bytes", "inference_time_s", "top1", "top5", "f1"]
[[group]]
technique = "quantize"
models = ["mobilenet_v1"]
settings = [{bits = 8}]
metrics = ["params", "storage_bytes", "top1"]
"""


@pytest.fixture
def profile(tmp_path):
    path = tmp_path / "paper-tiny.toml"
    path.write_text(PROFILE)
    return str(path)


def test_without_inputs_a_paper_task_says_what_accuracy_needs_and_times_real_photos():
    task = paper_task("resnet_v1_50", {})
    reason = task.accuracy_unavailable()
    assert "--checkpoints" in reason and "--imagenet" in reason
    inputs = task.timing_inputs()
    assert len(inputs) == 2 and inputs[0].shape == (1, 224, 224, 3)
    assert float(np.std(inputs[0])) > 10.0  # a photograph after VGG mean subtraction, not a constant
    assert "initialised" in task.weights
    nmt = paper_task("nmt", {})
    assert "--nmt" in nmt.accuracy_unavailable()
    ids = nmt.timing_inputs()[0]
    assert ids.dtype == np.int32 and ids.shape[0] == 1 and ids.min() >= 3 and ids.max() < 36549


@pytest.mark.slow
def test_architecture_only_run_measures_what_needs_no_weights(tmp_path, profile):
    results = str(tmp_path / "results")
    done, failures = run_profile(profile, results, {})
    assert (done, failures) == (2, [])
    records = load_records(os.path.join(results, "records"))
    base = records["mobilenet_v1__baseline__fp32"]
    assert base.value("params") == 4233001 and base.value("depth") == 28
    for metric in ("top1", "top5", "f1"):
        assert "--checkpoints" in base.skipped[metric] and "--imagenet" in base.skipped[metric]
    assert base.measurements["inference_time_s"].n >= 3
    memory = base.measurements["memory_peak_bytes"]  # a fresh process loads and runs the file
    assert memory.samples[0] > 4233001 * 4 * 0.5 and memory.notes["load_peak_delta_bytes"] > 0
    assert memory.notes["footprint"] == "rss" and memory.notes["tf_gpu_allocator"] == "no GPU visible to TensorFlow"
    assert memory.notes["meminfo_samples"] >= 2 and "mem_available_drop_bytes" in memory.notes
    assert "NvMapMemUsed not in /proc/meminfo" in memory.notes["meminfo_missing"]  # not a Jetson
    assert base.environment["board"] and base.environment["emulated"] == "no"
    assert "samples" in base.measurements["inference_time_s"].notes["board"]
    assert "initialised" in base.provenance["weights"] and "grace_hopper" in base.provenance["data"]
    quant = records["mobilenet_v1__quantize__bits-8"]
    assert quant.value("storage_bytes") < 0.3 * base.value("storage_bytes")
    models = os.listdir(os.path.join(results, "models"))
    assert models == ["mobilenet_v1__baseline__fp32.model.zip"]  # variant files deleted once measured


@pytest.mark.slow
def test_checkpoint_and_imagenet_give_accuracy_and_inputs_cannot_be_mixed(tmp_path, profile):
    from artifact.device.models.architectures.paper_architectures import build_paper_model
    from artifact.device.models.checkpoints.slim_checkpoint import write_slim_checkpoint

    checkpoints = tmp_path / "ckpt"
    checkpoints.mkdir()
    keras.utils.set_random_seed(7)
    source = build_paper_model("mobilenet_v1")
    write_slim_checkpoint(source, str(checkpoints / "mobilenet_v1_1.0_224.ckpt"), version=2)
    imagenet = str(tmp_path / "imagenet")
    write_images(imagenet)
    write_loc(imagenet)
    results = str(tmp_path / "results")
    inputs = {"slim_checkpoints": str(checkpoints), "imagenet": imagenet, "eval_samples": 4}
    done, failures = run_profile(profile, results, inputs)
    assert (done, failures) == (2, [])
    records = load_records(os.path.join(results, "records"))
    base = records["mobilenet_v1__baseline__fp32"]
    assert not base.skipped
    assert 0.0 <= base.value("top1") <= base.value("top5") <= 1.0
    assert "first 4 of {} images".format(len(LABELS)) in base.measurements["top1"].notes["task"]
    assert "mobilenet_v1_1.0_224.ckpt" in base.provenance["weights"]
    from artifact.device.compress.storage import load_model_file

    baseline = load_model_file(os.path.join(results, "models", "mobilenet_v1__baseline__fp32.model.zip"))[0]
    name = "MobilenetV1__Conv2d_0"
    np.testing.assert_array_equal(baseline.get_layer(name).kernel.numpy(), source.get_layer(name).kernel.numpy())
    with pytest.raises(ConfigError, match="other inputs"):
        run_profile(profile, results, {})


def test_cells_whose_technique_was_unsupported_are_measured_again(tmp_path, profile):
    from artifact.core.profiles import load_profile
    from artifact.core.records import Record, save_record
    from artifact.core.results import ResultsDir
    from artifact.device.run.parent import pending_cells

    loaded = load_profile(profile)
    base, quant = loaded.cells
    save_record(ResultsDir(str(tmp_path)).records, Record(base.to_dict(), {}))
    unsupported = Record(quant.to_dict(), {}, provenance={"technique_unsupported": "no rule for X"})
    unsupported.skip("storage_bytes", "quantize cannot be applied to mobilenet_v1 yet: no rule for X")
    save_record(ResultsDir(str(tmp_path)).records, unsupported)
    assert [c.key for c in pending_cells(loaded, str(tmp_path))] == [quant.key]
