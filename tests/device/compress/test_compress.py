import numpy as np
import pytest

from artifact.core.errors import UnsupportedError
from artifact.device.compat import keras, tf
from artifact.device.compress.prune import prune_model
from artifact.device.compress.quantize import quantize_array, quantize_model
from artifact.device.compress.storage import load_model_file, pack_bits, save_model_file, unpack_bits
from artifact.device.models.architectures import mini_zoo

L = keras.layers


@pytest.fixture(scope="module")
def vgg():
    mini_zoo.seed_everything()
    return mini_zoo.mini_vgg()


@pytest.fixture(scope="module")
def images():
    return np.random.RandomState(0).rand(8, 16, 16, 1).astype(np.float32)


@pytest.mark.parametrize("bits", [2, 6, 8, 11, 16])
def test_bit_packing_round_trip(bits):
    codes = np.random.RandomState(bits).randint(0, 1 << bits, size=70001).astype(np.uint16 if bits > 8 else np.uint8)
    payload = pack_bits(codes, bits)
    assert len(payload) == (codes.size * bits + 7) // 8
    np.testing.assert_array_equal(unpack_bits(payload, bits, codes.size, codes.dtype), codes)


def test_quantize_array_matches_tf1_min_first_range():
    w = np.array([0.5, 1.0, 2.0], np.float32)  # all positive: range is widened to contain 0
    codes, lo, scale = quantize_array(w, 8)
    assert lo == 0.0 and scale == pytest.approx(2.0 / 255)
    assert np.abs(codes * scale + lo - w).max() <= scale / 2 + 1e-7


@pytest.mark.parametrize("bits", [6, 8, 16])
def test_quantized_file_is_k_over_32_of_fp32_and_loads_back(tmp_path, vgg, images, bits):
    base = save_model_file(vgg, str(tmp_path / "base.model.zip"))
    q = quantize_model(vgg, bits)
    size = save_model_file(q, str(tmp_path / "q.model.zip"))
    assert size / base == pytest.approx(bits / 32, abs=0.02)
    loaded, _ = load_model_file(str(tmp_path / "q.model.zip"))
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), q.predict(images, verbose=0))
    drift = np.abs(q.predict(images, verbose=0) - vgg.predict(images, verbose=0)).max()
    assert drift < {6: 0.2, 8: 0.05, 16: 1e-3}[bits]
    assert {w.dtype for w in vgg.weights} == {tf.float32}  # the original is untouched


def test_quantized_model_really_dequantizes_at_run_time(vgg, images):
    q = quantize_model(vgg, 8)
    assert any(w.dtype == tf.uint8 for w in q.weights)
    graph = tf.function(lambda x: q(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 16, 16, 1])).graph
    names = [op.name for op in graph.get_operations() if op.type == "Cast"]
    assert any("dequantize" in n for n in names)


@pytest.mark.parametrize("bits", [0, 1, 17, 8.0, "8"])
def test_unsupported_bits_refused(vgg, bits):
    with pytest.raises(UnsupportedError, match="bits"):
        quantize_model(vgg, bits)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, "5%"])
def test_threshold_outside_open_unit_interval_refused(vgg, threshold):
    with pytest.raises(UnsupportedError, match="threshold"):
        prune_model(vgg, threshold)


@pytest.mark.parametrize("builder", ["mini_vgg", "mini_resnet", "mini_inception", "mini_mobilenet"])
def test_pruning_nothing_is_exact_and_pruning_shrinks(builder, images):
    mini_zoo.seed_everything()
    model = mini_zoo.CNN_BUILDERS[builder]()
    same = prune_model(model, 0.001)
    np.testing.assert_allclose(same.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    half = prune_model(model, 0.5)
    assert half.count_params() < 0.6 * model.count_params()
    assert half.predict(images, verbose=0).shape == (8, 10)


def test_pruning_keeps_highest_l1_filters():
    inp = L.Input((4, 4, 1))
    x = L.Conv2D(4, 1, name="c")(inp)
    out = L.Dense(2, name="d")(L.Flatten()(x))
    model = keras.Model(inp, out)
    model.get_layer("c").set_weights([np.array([1.0, 5.0, 0.1, 3.0], np.float32).reshape(1, 1, 1, 4), np.zeros(4)])
    pruned = prune_model(model, 0.5)
    np.testing.assert_array_equal(pruned.get_layer("c").get_weights()[0].ravel(), [5.0, 3.0])


def _widths(model):
    """Output width of each Conv2D / Dense layer, input to output."""
    return [layer.get_config().get("filters", layer.get_config().get("units")) for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Dense")]


def test_per_block_fractions_prune_each_third_of_the_network_by_its_own(vgg, images):
    # mini_vgg's prunable layers, input to output: conv1_1, conv1_2 | conv2_1, conv2_2 | fc6, fc7 (fc8: the classes)
    whole = _widths(vgg)
    blocks = prune_model(vgg, [0.0, 0.0, 0.5])   # only the last third
    late = _widths(blocks)
    assert late[:4] == whole[:4] and late[6] == whole[6] == 10
    assert late[4:6] == [w // 2 for w in whole[4:6]]
    assert _widths(prune_model(vgg, [0.5, 0.0, 0.0]))[:2] == [w // 2 for w in whole[:2]]
    assert _widths(prune_model(vgg, [0.5, 0.0, 0.0]))[2:] == whole[2:]
    np.testing.assert_array_equal(blocks.get_layer(vgg.layers[1].name).get_weights()[0],
                                  vgg.layers[1].get_weights()[0])   # a first-block layer is untouched
    uniform = prune_model(vgg, [0.5, 0.5, 0.5])
    assert _widths(uniform) == _widths(prune_model(vgg, 0.5))   # one fraction everywhere: prune's own result
    assert blocks.predict(images, verbose=0).shape == (8, 10)


@pytest.mark.parametrize("fractions", [[0.0, 0.0, 0.0], [0.5, 1.0, 0.5], [-0.1, 0.5, 0.5], [], ["a"]])
def test_bad_block_fractions_are_refused(vgg, fractions):
    with pytest.raises(UnsupportedError, match="per-block pruning fractions"):
        prune_model(vgg, fractions)


def test_translator_pruning_ties_encoder_decoder_units():
    mini_zoo.seed_everything()
    model = mini_zoo.mini_nmt(20, 20, 6, 7, embed=16, units=32)
    pruned = prune_model(model, 0.25)
    assert pruned.get_layer("enc_lstm").units == pruned.get_layer("dec_lstm").units == 24
    assert pruned.get_layer("enc_embed").output_dim == 12
    src, dec = np.ones((2, 6), np.int32), np.ones((2, 7), np.int32)
    assert pruned.predict([src, dec], verbose=0).shape == (2, 7, 20)


def test_unsupported_layer_is_named():
    inp = L.Input((4, 4, 1))
    x = L.Conv2D(4, 1)(inp)
    out = L.Conv2DTranspose(2, 1, name="up")(x)
    with pytest.raises(UnsupportedError, match="layer up \\(Conv2DTranspose\\)"):
        prune_model(keras.Model(inp, out), 0.5)


def test_separable_convolution_quantizes_both_kernels_and_round_trips(tmp_path):
    """Inception v2's first layer is a separable convolution (depth multiplier 8)."""
    keras.utils.set_random_seed(3)
    inputs = keras.layers.Input((32, 32, 3))
    x = keras.layers.SeparableConv2D(64, 7, depth_multiplier=8, padding="same", name="sep")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    quantized = quantize_model(model, 8)
    layer = quantized.get_layer("sep")
    assert type(layer).__name__ == "QuantizedSeparableConv2D"
    assert layer.depthwise_codes.dtype == tf.uint8 and layer.pointwise_codes.dtype == tf.uint8
    x = np.random.RandomState(0).rand(2, 32, 32, 3).astype("float32")
    reference = model(x).numpy()
    np.testing.assert_allclose(quantized(x).numpy(), reference, atol=0.02 * np.abs(reference).max())
    path = str(tmp_path / "sep.model.zip")
    save_model_file(quantized, path)
    np.testing.assert_array_equal(load_model_file(path)[0](x).numpy(), quantized(x).numpy())
