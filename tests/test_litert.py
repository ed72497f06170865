"""LiteRT variants (beyond the paper): conversion, the deployed .tflite file, the interpreter."""
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
