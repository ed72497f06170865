"""Mixed bit widths per layer by measured sensitivity (artifact/device/compress/mixed.py)."""
import os

import numpy as np
import pytest

from artifact.core.errors import ConfigError
from artifact.core.techniques import check_setting
from artifact.device.compress import mixed
from artifact.device.compress.storage import load_model_file, save_model_file
from artifact.device.models.architectures import mini_zoo


def test_widths_go_low_in_order_of_sensitivity_within_the_fraction():
    layers = [("a", 100), ("b", 300), ("c", 600)]
    sens = {"a": 0.5, "b": 0.01, "c": 0.02}
    assert mixed.choose_widths(layers, sens, 8, 4, 0.35) == {"a": 8, "b": 4, "c": 8}
    assert mixed.choose_widths(layers, sens, 8, 4, 0.95) == {"a": 8, "b": 4, "c": 4}
    # c does not fit beside b: it ends the list, so the more sensitive a stays wide although it would fit
    assert mixed.choose_widths(layers, sens, 8, 4, 0.45) == {"a": 8, "b": 4, "c": 8}


def test_low_bits_must_be_below_bits_in_a_profile():
    with pytest.raises(ConfigError, match="low_bits must be below bits"):
        check_setting("quantize_mixed", {"bits": 6, "low_bits": 8, "low_fraction": 0.5}, "p.toml: group 1")


@pytest.fixture(scope="module")
def model():
    mini_zoo.seed_everything()
    return mini_zoo.CNN_BUILDERS["mini_vgg"]()


def test_mixed_model_keeps_each_layers_width_and_is_smaller_than_uniform(model, tmp_path):
    rng = np.random.RandomState(0)
    inputs = [rng.rand(1, 16, 16, 1).astype(np.float32) for _ in range(8)]
    before = [w.copy() for w in model.get_weights()]
    variant = mixed.quantize_mixed(model, 8, 4, 0.75, inputs)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))   # input untouched
    widths = {layer.name: layer.bits for layer in variant.layers if hasattr(layer, "bits")}
    assert set(widths.values()) == {4, 8}
    layers = dict(mixed.quantizable_layers(model))
    low = sum(n for name, n in layers.items() if widths[name] == 4) / float(sum(layers.values()))
    assert 0.0 < low <= 0.75
    paths = {}
    for name, m in (("mixed", variant), ("uniform8", __import__(
            "artifact.device.compress.quantize", fromlist=["x"]).quantize_model(model, 8))):
        paths[name] = str(tmp_path / (name + ".model.zip"))
        save_model_file(m, paths[name], {})
    assert os.path.getsize(paths["mixed"]) < os.path.getsize(paths["uniform8"])
    loaded = load_model_file(paths["mixed"])[0]
    x = inputs[0]
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(variant(x)), rtol=1e-5, atol=1e-6)


def test_the_most_sensitive_layer_keeps_the_wide_width(model):
    rng = np.random.RandomState(1)
    inputs = [rng.rand(1, 16, 16, 1).astype(np.float32) for _ in range(8)]
    sens = mixed.sensitivities(model, 2, inputs)
    assert set(sens) == {name for name, _ in mixed.quantizable_layers(model)} and all(v >= 0 for v in sens.values())
    widths = mixed.choose_widths(mixed.quantizable_layers(model), sens, 8, 2, 0.5)
    assert widths[max(sens, key=sens.get)] == 8
