"""LiteRT variants (beyond the paper): conversion, the deployed .tflite file, the interpreter."""
import os

import numpy as np
import pytest

from artifact.core.errors import UnsupportedError
from artifact.device.compress import litert
from artifact.device.compress.deploy import load_deployable, save_deployable, suffix_for
from artifact.device.compress.techniques import apply_technique
from artifact.device.models.architectures import mini_zoo
from artifact.device.models.tasks import task_for


@pytest.fixture(scope="module")
def model():
    mini_zoo.seed_everything()
    return mini_zoo.mini_mobilenet()


@pytest.fixture(scope="module")
def task():
    return task_for("mini_mobilenet")


@pytest.mark.parametrize("mode", litert.MODES)
def test_each_mode_converts_deploys_and_runs_in_the_interpreter(tmp_path, model, task, mode):
    variant = apply_technique("litert", {"mode": mode}, model, task)
    path = str(tmp_path / ("m" + suffix_for("litert")))
    size = save_deployable(variant, path)
    deployed = load_deployable(path)
    assert deployed.is_litert and size == len(variant.flatbuffer)
    x = np.concatenate(task.timing_inputs(3))
    reference = model(x, training=False).numpy()
    out = deployed(x)
    assert out.shape == reference.shape and np.isfinite(out).all()
    tolerance = {"fp32": 1e-5, "float16": 1e-2, "dynamic": 0.1, "int8": 0.1}[mode]
    np.testing.assert_allclose(out, reference, atol=tolerance)
    assert task.predict_fn(deployed) is deployed
    assert deployed.op_summary()


def test_quantized_modes_are_smaller_than_fp32(model, task):
    sizes = {m: len(apply_technique("litert", {"mode": m}, model, task).flatbuffer) for m in litert.MODES}
    assert sizes["float16"] < 0.6 * sizes["fp32"]
    assert sizes["dynamic"] < 0.4 * sizes["fp32"] and sizes["int8"] < 0.4 * sizes["fp32"]


def test_bad_mode_and_missing_calibration_are_refused(model):
    with pytest.raises(UnsupportedError, match="LiteRT mode must be one of"):
        litert.check_mode("int4")
    with pytest.raises(UnsupportedError, match="calibration samples"):
        litert.convert(model, "int8", calibration_inputs=[])


def test_the_input_model_is_untouched(model, task):
    before = [w.copy() for w in model.get_weights()]
    apply_technique("litert", {"mode": "int8"}, model, task)
    assert all((a == b).all() for a, b in zip(before, model.get_weights()))


def _conv_filters(deployed):
    """Output channels of each Conv2D weight tensor of a .tflite model, in the interpreter's order."""
    ops = deployed.interpreter._get_ops_details()
    tensors = {t["index"]: t for t in deployed.interpreter.get_tensor_details()}
    return [int(tensors[op["inputs"][1]]["shape"][0]) for op in ops if op["op_name"] == "CONV_2D"]


def test_pruned_then_int8_has_physically_fewer_filters_on_the_same_runtime(tmp_path, model, task):
    from artifact.device.compress.prune import prune_model

    files = {}
    for name, technique, setting in (("int8", "litert", {"mode": "int8"}),
                                     ("pruned", "prune_litert", {"threshold": 0.5, "mode": "int8"})):
        files[name] = str(tmp_path / (name + suffix_for(technique)))
        save_deployable(apply_technique(technique, setting, model, task), files[name])
    assert suffix_for("prune_litert") == suffix_for("litert")
    whole, pruned = (load_deployable(files[n]) for n in ("int8", "pruned"))
    assert pruned.is_litert and len(_conv_filters(pruned)) == len(_conv_filters(whole)) > 0
    assert sum(_conv_filters(pruned)) < 0.6 * sum(_conv_filters(whole))   # filters removed, not zeroed
    assert os.path.getsize(files["pruned"]) < 0.6 * os.path.getsize(files["int8"])
    x = np.concatenate(task.timing_inputs(3))
    reference = prune_model(model, 0.5)(x, training=False).numpy()   # the Keras model it was converted from
    np.testing.assert_allclose(pruned(x), reference, atol=0.1)


def test_pruned_then_int8_converts_the_fine_tuned_model_it_is_handed(tmp_path, model, task):
    seen = []

    def fine_tuned(pruned):   # the package's model (artifact.core.packages): here the pruned model, weights halved
        seen.append(pruned)
        tuned = pruned.__class__.from_config(pruned.get_config())
        tuned.set_weights([w * 0.5 for w in pruned.get_weights()])
        return tuned

    path = str(tmp_path / ("m" + suffix_for("prune_litert")))
    save_deployable(apply_technique("prune_litert", {"threshold": 0.25, "mode": "fp32"}, model, task,
                                    fine_tuned=fine_tuned), path)
    assert len(seen) == 1 and seen[0].count_params() < model.count_params()
    x = np.concatenate(task.timing_inputs(2))
    np.testing.assert_allclose(load_deployable(path)(x), fine_tuned(seen[0])(x, training=False).numpy(), atol=1e-5)
