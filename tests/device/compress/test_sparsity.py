import gzip
import math

import numpy as np
import pytest

from artifact.core.errors import ConfigError, MissingInputError, UnsupportedError
from artifact.device.compress.sparsity import (
    check_sparsity,
    compressed_size,
    dense_vs_sparse_time,
    magnitude_prune,
    pruning_plan,
    sparsity_report,
)
from artifact.device.compress.storage import load_model_file, parameter_count, save_model_file
from artifact.device.models.architectures import mini_zoo
from artifact.device.models.data import bundled as data

VGG_PRUNED = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "fc6", "fc7", "fc8"]


@pytest.fixture(scope="module")
def vgg():
    mini_zoo.seed_everything()
    return mini_zoo.mini_vgg()


@pytest.fixture(scope="module")
def vgg_weights(vgg):
    return [w.copy() for w in vgg.get_weights()]


@pytest.fixture(scope="module")
def half(vgg, vgg_weights):
    return magnitude_prune(vgg, 0.5)


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).rand(8, 16, 16, 1).astype(np.float32)


def _kernel_sparsities(model):
    return {name: entry["sparsity"] for name, entry in sparsity_report(model)["layers"].items()}


@pytest.mark.parametrize("value", [0.5, 0.01, 0.99, np.float32(0.75)])
def test_check_sparsity_accepts_fractions(value):
    assert check_sparsity(value) == pytest.approx(float(value))


@pytest.mark.parametrize("value", [0, 1, -0.1, 1.5, "half", None, True, float("nan")])
def test_check_sparsity_refuses_non_fractions(value):
    with pytest.raises(UnsupportedError) as info:
        check_sparsity(value)
    message = str(info.value)
    assert "sparsity must be a fraction in (0, 1)" in message and repr(value) in message
    assert "\n" not in message


@pytest.mark.parametrize("value", [0, 1, -0.1, "half"])
def test_magnitude_prune_refuses_bad_sparsity(vgg, value):
    with pytest.raises(UnsupportedError, match=r"fraction in \(0, 1\)"):
        magnitude_prune(vgg, value)


def test_half_sparsity_zeroes_half_of_every_pruned_kernel(half, vgg):
    assert pruning_plan(vgg) == {"pruned": VGG_PRUNED, "left_dense": []}
    sparsities = _kernel_sparsities(half)
    assert sorted(sparsities) == sorted(VGG_PRUNED)
    for name, value in sparsities.items():
        assert abs(value - 0.5) <= 0.01, name
    report = sparsity_report(half)
    assert report["sparsity"] == pytest.approx(0.5, abs=0.01)
    assert report["weights"] == sparsity_report(vgg)["weights"]
    assert sparsity_report(vgg)["zeros"] == 0


def test_pruned_weights_are_the_smallest_and_the_rest_are_unchanged(half, vgg):
    for layer in vgg.layers:
        for before, after in zip(layer.get_weights(), half.get_layer(layer.name).get_weights()):
            kept = after != 0
            np.testing.assert_array_equal(after[kept], before[kept])
            if layer.name in VGG_PRUNED and before.ndim > 1:  # kernels: the dropped are the smallest
                assert np.abs(before[~kept]).max() <= np.abs(before[kept]).min()
            elif layer.name in VGG_PRUNED:  # biases are not pruned
                np.testing.assert_array_equal(after, before)


def test_stripped_model_is_not_smaller(half, vgg, tmp_path):
    assert [type(layer).__name__ for layer in half.layers] == [type(layer).__name__ for layer in vgg.layers]
    assert [layer.name for layer in half.layers] == [layer.name for layer in vgg.layers]
    assert parameter_count(half) == parameter_count(vgg)
    assert [w.shape for w in half.get_weights()] == [w.shape for w in vgg.get_weights()]
    dense_path, sparse_path = str(tmp_path / "dense.model.zip"), str(tmp_path / "sparse.model.zip")
    dense_size, sparse_size = save_model_file(vgg, dense_path), save_model_file(half, sparse_path)
    assert abs(sparse_size - dense_size) <= 0.01 * dense_size
    assert compressed_size(sparse_path) < 0.8 * compressed_size(dense_path)
    assert compressed_size(dense_path) > 0.8 * dense_size  # dense float32 barely compresses


def test_stripped_model_runs_and_round_trips_storage(half, images, tmp_path):
    out = half(images, training=False).numpy()
    assert out.shape == (8, 10) and np.isfinite(out).all()
    path = str(tmp_path / "sparse.model.zip")
    save_model_file(half, path)
    loaded, _ = load_model_file(path)
    for a, b in zip(loaded.get_weights(), half.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded(images, training=False).numpy(), out, rtol=1e-6, atol=1e-7)


def test_input_model_untouched(half, vgg, vgg_weights):
    for before, now in zip(vgg_weights, vgg.get_weights()):
        np.testing.assert_array_equal(before, now)
    assert not any(type(layer).__name__ == "PruneLowMagnitude" for layer in vgg.layers)
    assert half is not vgg
    assert not {id(w) for w in half.weights} & {id(w) for w in vgg.weights}


def test_same_input_gives_identical_weights(vgg, half):
    again = magnitude_prune(vgg, 0.5)
    for a, b in zip(half.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_higher_sparsity_compresses_further(vgg, half, tmp_path):
    three_quarters = magnitude_prune(vgg, 0.75)
    for name, value in _kernel_sparsities(three_quarters).items():
        assert abs(value - 0.75) <= 0.01, name
    sizes = []
    for i, model in enumerate((half, three_quarters)):
        path = str(tmp_path / "{}.model.zip".format(i))
        save_model_file(model, path)
        sizes.append(compressed_size(path))
    assert sizes[1] < sizes[0]


def test_batchnorm_and_depthwise_are_left_dense():
    mini_zoo.seed_everything()
    model = mini_zoo.mini_mobilenet()
    plan = pruning_plan(model)
    assert plan["left_dense"] == ["sep{}_dw".format(i) for i in range(1, 5)]
    assert plan["pruned"] == ["conv0"] + ["sep{}_pw".format(i) for i in range(1, 5)] + ["logits"]
    before = model.get_weights()
    pruned = magnitude_prune(model, 0.5)
    sparsities = _kernel_sparsities(pruned)
    for name in plan["pruned"]:
        assert abs(sparsities[name] - 0.5) <= 0.01, name
    for name in plan["left_dense"]:
        assert sparsities[name] == 0.0
    for layer in model.layers:  # BN statistics untouched: no training step was run
        if type(layer).__name__ == "BatchNormalization":
            for a, b in zip(layer.get_weights(), pruned.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(a, b)
    assert parameter_count(pruned) == parameter_count(model)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_finetuning_keeps_sparsity_and_is_deterministic(vgg, vgg_weights):
    split = data.digits_split()
    x, y = split.x_train[:256], split.y_train[:256]
    runs = [magnitude_prune(vgg, 0.5, finetune=(x, y), epochs=1, seed=7) for _ in range(2)]
    for a, b in zip(runs[0].get_weights(), runs[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    for name, value in _kernel_sparsities(runs[0]).items():
        assert abs(value - 0.5) <= 0.01, name
    changed = [name for name in VGG_PRUNED
               if not np.array_equal(runs[0].get_layer(name).get_weights()[1], vgg.get_layer(name).get_weights()[1])]
    assert changed  # it did train (biases moved)
    for before, now in zip(vgg_weights, vgg.get_weights()):
        np.testing.assert_array_equal(before, now)


@pytest.mark.parametrize("finetune, epochs, message", [
    (None, 2, "needs finetune=(x, y)"),
    ("data", 1, "must be a pair (x, y)"),
    ((np.zeros((1, 16, 16, 1)), np.zeros(1)), 0, "epochs is 0"),
    (None, -1, "whole number >= 0"),
    (None, 1.5, "whole number >= 0"),
])
def test_finetune_arguments_are_checked(vgg, finetune, epochs, message):
    with pytest.raises(ConfigError) as info:
        magnitude_prune(vgg, 0.5, finetune=finetune, epochs=epochs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_compressed_size_is_gzip_level_9(tmp_path):
    rng = np.random.RandomState(0)
    noise, zeros = rng.bytes(100000), bytes(100000)
    for name, payload in (("noise", noise), ("zeros", zeros)):
        (tmp_path / name).write_bytes(payload)
        assert compressed_size(str(tmp_path / name)) == len(gzip.compress(payload, 9))
    assert compressed_size(str(tmp_path / "zeros")) < 0.01 * compressed_size(str(tmp_path / "noise"))
    with pytest.raises(MissingInputError, match="no such file"):
        compressed_size(str(tmp_path / "absent.model.zip"))


def test_dense_vs_sparse_time_returns_two_positive_medians(vgg, half, images):
    dense, sparse = dense_vs_sparse_time(vgg, half, images, repeats=3)
    for value in (dense, sparse):
        assert isinstance(value, float) and value > 0 and math.isfinite(value)
    with pytest.raises(ConfigError, match="repeats"):
        dense_vs_sparse_time(vgg, half, images, repeats=0)
