"""The Table I architectures: TF-Slim parameter counts, depths, shapes, names, GNMT behaviour.

Every CNN is built once (module fixture) and only a summary is kept, so the big ones do not stay
in memory; the GNMT checks use small configurations plus one build of the full 211M model.
"""
import gc

import numpy as np
import pytest

from artifact.core.errors import ArtifactError
from artifact.device.compat import keras
from artifact.device.models.architectures import paper_architectures as pa

CNNS = [name for name in pa.PAPER_MODELS if name != "nmt"]

# Trainable parameters of TF-Slim's definitions (BatchNorm moving statistics excluded).
# Measured with tf_slim 1.1.0 (NOTES.md): inception_v1, inception_v2, inception_v3 (with aux),
# resnet_v1_50, vgg_16; transcription of inception_v4.py (compression_anchors.md section 5):
# inception_v4 without/with aux; derived from the slim sources (module docstring): the rest.
SLIM_COUNTS = {
    "inception_v1": 6618649,
    "inception_v2": 11179361,
    "inception_v3": 23819401,        # without AuxLogits (27,145,970 - 3,326,569)
    "inception_v4": 42649769,        # without AuxLogits
    "resnet_v1_50": 25557032,
    "resnet_v1_101": 44549160,
    "resnet_v1_152": 60192808,
    "vgg_16": 138357544,
    "vgg_19": 143667240,
    "mobilenet_v1": 4233001,
}
SLIM_COUNTS_WITH_AUX = {"inception_v3": 27145970, "inception_v4": 46009106}

# Output shapes of slim end points, from the shape comments of the slim sources.
END_POINTS = {
    "inception_v1": {"InceptionV1/Mixed_3b/concat": (28, 28, 256),
                     "InceptionV1/Mixed_4f/concat": (14, 14, 832),
                     "InceptionV1/Mixed_5c/concat": (7, 7, 1024)},
    "inception_v2": {"InceptionV2/Conv2d_1a_7x7/Relu": (112, 112, 64),
                     "InceptionV2/Mixed_3c/concat": (28, 28, 320),
                     "InceptionV2/Mixed_4a/concat": (14, 14, 576),
                     "InceptionV2/Mixed_5c/concat": (7, 7, 1024)},
    "inception_v3": {"InceptionV3/MaxPool_5a_3x3": (35, 35, 192),
                     "InceptionV3/Mixed_5b/concat": (35, 35, 256),
                     "InceptionV3/Mixed_6e/concat": (17, 17, 768),
                     "InceptionV3/Mixed_7a/concat": (8, 8, 1280),
                     "InceptionV3/Mixed_7c/concat": (8, 8, 2048)},
    "inception_v4": {"InceptionV4/Mixed_3a/concat": (73, 73, 160),
                     "InceptionV4/Mixed_4a/concat": (71, 71, 192),
                     "InceptionV4/Mixed_5e/concat": (35, 35, 384),
                     "InceptionV4/Mixed_6h/concat": (17, 17, 1024),
                     "InceptionV4/Mixed_7d/concat": (8, 8, 1536)},
    # slim's resnet_v1 strides in the last unit of a block: block1 ends at 28x28.
    "resnet_v1_50": {"resnet_v1_50/block1/unit_2/bottleneck_v1/Relu": (56, 56, 256),
                     "resnet_v1_50/block1/unit_3/bottleneck_v1/Relu": (28, 28, 256),
                     "resnet_v1_50/block3/unit_6/bottleneck_v1/Relu": (7, 7, 1024),
                     "resnet_v1_50/block4/unit_3/bottleneck_v1/Relu": (7, 7, 2048)},
    "resnet_v1_101": {"resnet_v1_101/block3/unit_23/bottleneck_v1/Relu": (7, 7, 1024)},
    "resnet_v1_152": {"resnet_v1_152/block2/unit_8/bottleneck_v1/Relu": (14, 14, 512)},
    "vgg_16": {"vgg_16/pool5": (7, 7, 512), "vgg_16/fc7": (1, 1, 4096)},
    "vgg_19": {"vgg_19/conv5/conv5_4": (14, 14, 512), "vgg_19/fc8": (1, 1, 1000)},
    "mobilenet_v1": {"MobilenetV1/Conv2d_0/Relu6": (112, 112, 32),
                     "MobilenetV1/Conv2d_13_pointwise/Relu6": (7, 7, 1024)},
}

# Variable names present in the released TF-Slim checkpoints (tensorflow/models#929 lists
# InceptionV4's; tensorflow/models#4843: InceptionV2's first layer has biases and no BatchNorm).
CHECKPOINT_NAMES = {
    "inception_v4": ["InceptionV4/Mixed_7d/Branch_2/Conv2d_0b_3x1/BatchNorm/moving_mean",
                     "InceptionV4/Mixed_7b/Branch_3/Conv2d_0b_1x1/weights",
                     "InceptionV4/Logits/Logits/weights", "InceptionV4/Logits/Logits/biases"],
    "inception_v2": ["InceptionV2/Conv2d_1a_7x7/depthwise_weights",
                     "InceptionV2/Conv2d_1a_7x7/pointwise_weights",
                     "InceptionV2/Conv2d_1a_7x7/biases",
                     "InceptionV2/Conv2d_2b_1x1/BatchNorm/beta"],
    "resnet_v1_50": ["resnet_v1_50/conv1/weights", "resnet_v1_50/conv1/BatchNorm/gamma",
                     "resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/weights",
                     "resnet_v1_50/logits/biases"],
    "vgg_16": ["vgg_16/conv1/conv1_1/weights", "vgg_16/fc6/weights", "vgg_16/fc8/biases"],
    "mobilenet_v1": ["MobilenetV1/Conv2d_1_depthwise/depthwise_weights",
                     "MobilenetV1/Conv2d_1_depthwise/BatchNorm/gamma",
                     "MobilenetV1/Logits/Conv2d_1c_1x1/weights"],
}

FORWARD = ["mobilenet_v1", "inception_v1", "inception_v3"]  # the cheapest, and one 299x299 net


@pytest.fixture(scope="module")
def built():
    """name -> summary of the default build (plus the model itself for FORWARD)."""
    summaries = {}
    for name in CNNS:
        model = pa.build_paper_model(name)
        variables = pa.slim_variable_map(model)
        summaries[name] = {
            "params": pa.count_params(model),
            "depth": pa.depth(model),
            "input_shape": model.input_shape,
            "output_shape": model.output_shape,
            "layer_names": [layer.name for layer in model.layers],
            "end_points": pa.end_point_shapes(model, sorted(END_POINTS.get(name, {}))),
            "variables": {key: tuple(v.shape.as_list()) for key, v in variables.items()},
            "model": model if name in FORWARD else None,
        }
        del model, variables
        gc.collect()
    return summaries


def test_registry_lists_the_eleven_models_of_table_one():
    assert list(pa.PAPER_MODELS) == [
        "nmt", "inception_v1", "inception_v2", "inception_v3", "inception_v4", "resnet_v1_50",
        "resnet_v1_101", "resnet_v1_152", "vgg_16", "vgg_19", "mobilenet_v1"]
    table = {"nmt": (211e6, 4), "inception_v1": (7e6, 22), "inception_v2": (11.3e6, 32),
             "inception_v3": (27.1e6, 42), "inception_v4": (25.6e6, 58),
             "resnet_v1_50": (25.5e6, 50), "resnet_v1_101": (51e6, 101),
             "resnet_v1_152": (76.5e6, 152), "vgg_16": (138e6, 16), "vgg_19": (138e6, 19),
             "mobilenet_v1": (4.2e6, 28)}
    for name, info in pa.PAPER_MODELS.items():
        assert info.name == name
        assert (info.paper_params, info.paper_depth) == table[name]
        assert callable(info.builder) and info.notes
    assert pa.PAPER_MODELS["nmt"].paper_bleu == 27.4
    assert pa.PAPER_MODELS["inception_v4"].paper_top1 == 80.2


def test_class_counts_follow_slim_conventions():
    for name, info in pa.PAPER_MODELS.items():
        if info.family in ("inception", "mobilenet"):
            assert info.num_classes == 1001, name
        elif info.family in ("resnet", "vgg"):
            assert info.num_classes == 1000, name
    assert pa.PAPER_MODELS["inception_v3"].input_size == 299
    assert pa.PAPER_MODELS["inception_v4"].input_size == 299
    assert pa.PAPER_MODELS["vgg_16"].input_size == 224
    assert pa.PAPER_MODELS["nmt"].input_size is None


def test_unknown_model_is_a_user_error_naming_the_valid_ones():
    with pytest.raises(ArtifactError) as info:
        pa.build_paper_model("alexnet")
    message = str(info.value)
    assert "alexnet" in message and "inception_v4" in message and "\n" not in message


@pytest.mark.parametrize("name", CNNS)
def test_trainable_params_equal_tf_slim(built, name):
    params = built[name]["params"]
    assert params == pa.PAPER_MODELS[name].expected_params
    assert pa.PAPER_MODELS[name].slim_params == SLIM_COUNTS[name]
    assert abs(params - SLIM_COUNTS[name]) <= 0.01 * SLIM_COUNTS[name]


@pytest.mark.parametrize("name", ["inception_v3", "inception_v4"])
def test_aux_heads_add_slims_training_branch(name):
    model = pa.build_paper_model(name, aux_logits=True)
    assert pa.count_params(model) == SLIM_COUNTS_WITH_AUX[name]
    assert [tuple(shape) for shape in model.output_shape] == [(None, 1001), (None, 1001)]
    assert pa.depth(model) == pa.PAPER_MODELS[name].expected_depth
    del model
    gc.collect()


@pytest.mark.parametrize("name", CNNS)
def test_depth_is_the_longest_weight_path(built, name):
    info = pa.PAPER_MODELS[name]
    assert built[name]["depth"] == info.expected_depth
    if info.family in ("resnet", "vgg", "mobilenet") or name == "inception_v1":
        assert built[name]["depth"] == info.paper_depth


@pytest.mark.parametrize("name", CNNS)
def test_input_output_and_end_point_shapes(built, name):
    info = pa.PAPER_MODELS[name]
    size = info.input_size
    assert built[name]["input_shape"] == (None, size, size, 3)
    assert built[name]["output_shape"] == (None, info.num_classes)
    for scope, shape in END_POINTS.get(name, {}).items():
        assert built[name]["end_points"][scope] == (None,) + shape, scope


@pytest.mark.parametrize("name", CNNS)
def test_layer_names_map_back_to_slim_scopes(built, name):
    scope = pa.PAPER_MODELS[name].scope
    names = built[name]["layer_names"]
    assert len(set(names)) == len(names)
    for layer_name in names:
        assert "/" not in layer_name
        assert pa.keras_name(pa.slim_scope(layer_name)) == layer_name
        if layer_name != "input":
            assert pa.slim_scope(layer_name).startswith(scope + "/"), layer_name


def test_slim_scope_examples():
    assert pa.slim_scope("vgg_16__conv1__conv1_1") == "vgg_16/conv1/conv1_1"
    assert pa.keras_name("InceptionV4/Conv2d_1a_3x3") == "InceptionV4__Conv2d_1a_3x3"
    name = "resnet_v1_50/block1/unit_1/bottleneck_v1/conv1"
    assert pa.slim_scope(pa.keras_name(name)) == name
    with pytest.raises(ValueError):
        pa.keras_name("a_/b")  # would not map back


@pytest.mark.parametrize("name", sorted(CHECKPOINT_NAMES))
def test_slim_variable_names(built, name):
    variables = built[name]["variables"]
    for key in CHECKPOINT_NAMES[name]:
        assert key in variables, key
    has_gamma = any(key.endswith("/gamma") for key in variables)
    assert has_gamma == (pa.PAPER_MODELS[name].family in ("resnet", "mobilenet"))
    assert not any(key.startswith("InceptionV2/Conv2d_1a_7x7/BatchNorm") for key in variables)


def test_slim_variable_shapes_of_vgg16(built):
    variables = built["vgg_16"]["variables"]
    assert len(variables) == 32  # 16 weight layers x (weights, biases)
    assert variables["vgg_16/fc6/weights"] == (7, 7, 512, 4096)
    assert variables["vgg_16/fc8/weights"] == (1, 1, 4096, 1000)


@pytest.mark.parametrize("name", FORWARD)
def test_forward_pass(built, name):
    info = pa.PAPER_MODELS[name]
    model = built[name]["model"]
    image = np.random.RandomState(0).uniform(-1, 1, (1, info.input_size, info.input_size, 3))
    logits = model(image.astype("float32"), training=False).numpy()
    assert logits.shape == (1, info.num_classes)
    assert np.all(np.isfinite(logits))


def test_docstring_table_matches_the_registry():
    rows = {}
    for line in pa.__doc__.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].split(" ")[0] in pa.PAPER_MODELS:
            rows[cells[0].split(" ")[0]] = cells
    assert sorted(rows) == sorted(pa.PAPER_MODELS)
    for name, cells in rows.items():
        info = pa.PAPER_MODELS[name]
        assert int(cells[2].replace(",", "")) == info.expected_params, name
        assert int(cells[4]) == info.paper_depth and int(cells[5]) == info.expected_depth, name


# --------------------------------------------------------------------------- GNMT

SMALL = {"src_vocab_size": 23, "tgt_vocab_size": 19, "num_units": 8, "num_layers": 4,
         "dropout": 0.0}


def test_full_gnmt_has_tables_211m_params_and_depth_4():
    assert pa.gnmt_param_count(36549, 36549, 1024, 4) == 210883585
    model = pa.build_paper_model("nmt")
    assert pa.count_params(model) == 210883585 == pa.PAPER_MODELS["nmt"].expected_params
    assert abs(pa.count_params(model) - 211e6) < 0.005 * 211e6
    assert pa.depth(model) == 4
    assert model.output_shape == (None, None, 36549)
    lstm_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstm_layers) == 3 + 3  # encoder uni 3, decoder upper 3 (+ bidi + attention cell)
    del model, lstm_layers
    gc.collect()


@pytest.mark.parametrize("num_layers", [2, 3, 4])
def test_small_gnmt_param_count_matches_arithmetic(num_layers):
    config = dict(SMALL, num_layers=num_layers)
    model = pa.gnmt(**config)
    assert pa.count_params(model) == pa.gnmt_param_count(23, 19, 8, num_layers)
    assert pa.depth(model) == num_layers


def test_gnmt_is_causal_uses_the_source_and_ignores_padding():
    model = pa.gnmt(mask_zero=True, **SMALL)
    rng = np.random.RandomState(1)
    source = rng.randint(1, 23, (2, 6)).astype("int32")
    target = rng.randint(1, 19, (2, 5)).astype("int32")
    logits = model([source, target]).numpy()
    assert logits.shape == (2, 5, 19)
    # decoder step t sees target tokens <= t only
    changed = target.copy()
    changed[:, -1] = (changed[:, -1] % 18) + 1
    assert np.allclose(model([source, changed]).numpy()[:, :-1], logits[:, :-1], atol=1e-6)
    # the attention reads the source
    other = source.copy()
    other[:, 0] = (other[:, 0] % 22) + 1
    assert not np.allclose(model([other, target]).numpy(), logits, atol=1e-6)
    # padded source positions (id 0) change nothing
    padded = np.concatenate([source, np.zeros((2, 3), "int32")], axis=1)
    assert np.allclose(model([padded, target]).numpy(), logits, atol=1e-5)


def test_gnmt_survives_keras_cloning():
    model = pa.gnmt(**SMALL)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    source = np.arange(1, 7, dtype="int32").reshape(1, 6)
    target = np.arange(1, 5, dtype="int32").reshape(1, 4)
    assert np.allclose(clone([source, target]).numpy(), model([source, target]).numpy(),
                       atol=1e-6)


def test_gnmt_rejects_a_single_layer():
    with pytest.raises(ArtifactError):
        pa.gnmt(num_layers=1)
