"""TF-Slim checkpoints: names, V1/V2 round trips on Table I models, EMA copies, errors, finding.

Every checkpoint here is a real TensorFlow checkpoint written in tmp_path (V2 by SaveV2, V1 by a
TF1 Saver) from a built `paper_architectures` model whose weights (BatchNorm statistics included)
were set to random values; nothing is downloaded.
"""
import os

import numpy as np
import pytest

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.device.compat import tf
from artifact.device.models.architectures import paper_architectures as pa
from artifact.device.models.checkpoints import slim_checkpoint as sc

# The checkpoint files inside the tarballs of the slim README's "Pre-trained Models" table.
README_NAMES = {
    "inception_v1": "inception_v1.ckpt",
    "inception_v2": "inception_v2.ckpt",
    "inception_v3": "inception_v3.ckpt",
    "inception_v4": "inception_v4.ckpt",
    "resnet_v1_50": "resnet_v1_50.ckpt",
    "resnet_v1_101": "resnet_v1_101.ckpt",
    "resnet_v1_152": "resnet_v1_152.ckpt",
    "vgg_16": "vgg_16.ckpt",
    "vgg_19": "vgg_19.ckpt",
    "mobilenet_v1": "mobilenet_v1_1.0_224.ckpt",
}

MOBILENET_LOGITS = "MobilenetV1/Logits/Conv2d_1c_1x1/"
LAST_POINTWISE = "MobilenetV1/Conv2d_13_pointwise/weights"


def _randomize(model, seed):
    """Give every variable (BatchNorm moving statistics included) new random values."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        old = variable.numpy()
        name = variable.name
        if "moving_variance" in name:
            new = rng.uniform(0.5, 1.5, old.shape)
        elif "gamma" in name:
            new = rng.uniform(0.8, 1.2, old.shape)
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            new = rng.normal(0.0, 0.1, old.shape)
        else:
            new = rng.normal(0.0, float(np.std(old)) or 0.05, old.shape)
        variable.assign(new.astype(old.dtype))
    return model


def _snapshot(model):
    return [w.numpy().copy() for w in model.weights]


def _assert_unchanged(model, snapshot):
    assert len(model.weights) == len(snapshot)
    for weight, before in zip(model.weights, snapshot):
        np.testing.assert_array_equal(weight.numpy(), before, err_msg=weight.name)


def _assert_same_model(source, target, size):
    source_map, target_map = pa.slim_variable_map(source), pa.slim_variable_map(target)
    assert sorted(source_map) == sorted(target_map)
    assert len(target_map) == len(target.weights)  # every weight has a slim name
    for name in source_map:
        np.testing.assert_array_equal(target_map[name].numpy(), source_map[name].numpy(), err_msg=name)
    images = np.random.default_rng(7).uniform(-1.0, 1.0, (2, size, size, 3)).astype("float32")
    expected = source(images, training=False).numpy()
    got = target(images, training=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def source():
    """A MobileNet v1 (Table I) with random weights: what the checkpoints hold."""
    return _randomize(pa.build_paper_model("mobilenet_v1"), seed=1)


@pytest.fixture(scope="module")
def tensors(source):
    return sc.slim_tensors(source)


@pytest.fixture(scope="module")
def target():
    """A second MobileNet v1 that the tests load into (shared; every test sets what it checks)."""
    return _randomize(pa.build_paper_model("mobilenet_v1"), seed=2)


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("slim")


@pytest.fixture(scope="module")
def v2_prefix(source, ckpt_dir):
    return sc.write_slim_checkpoint(source, str(ckpt_dir / "v2" / "mobilenet_v1_1.0_224.ckpt"))


def _load_error(model, path, error=FormatError, **kwargs):
    """Load must fail with `error` and leave the model untouched; returns the message."""
    before = _snapshot(model)
    with pytest.raises(error) as info:
        sc.load_slim_checkpoint(model, path, **kwargs)
    _assert_unchanged(model, before)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- names


def test_checkpoint_names_are_the_readme_files():
    assert dict(sc.CHECKPOINT_NAMES) == README_NAMES
    assert set(sc.CHECKPOINT_NAMES) == {name for name in pa.PAPER_MODELS if name != "nmt"}
    assert set(sc.TARBALLS) == set(sc.CHECKPOINT_NAMES)
    assert sc.TARBALLS["inception_v4"] == "inception_v4_2016_09_09.tar.gz"
    assert sc.TARBALLS["mobilenet_v1"] == "mobilenet_v1_1.0_224_2017_06_14.tar.gz"


def test_written_v2_checkpoint_has_slim_names_and_shapes(v2_prefix, source):
    assert os.path.isfile(v2_prefix + ".index")
    assert os.path.isfile(v2_prefix + ".data-00000-of-00001")
    assert not os.path.exists(v2_prefix)
    shapes = tf.train.load_checkpoint(v2_prefix).get_variable_to_shape_map()
    assert len(shapes) == len(source.weights) == 137
    # names and shapes of slim's mobilenet_v1_1.0_224.ckpt
    assert shapes["MobilenetV1/Conv2d_0/weights"] == [3, 3, 3, 32]
    assert shapes["MobilenetV1/Conv2d_0/BatchNorm/gamma"] == [32]
    assert shapes["MobilenetV1/Conv2d_0/BatchNorm/moving_variance"] == [32]
    assert shapes["MobilenetV1/Conv2d_1_depthwise/depthwise_weights"] == [3, 3, 32, 1]
    assert shapes["MobilenetV1/Conv2d_1_pointwise/weights"] == [1, 1, 32, 64]
    assert shapes[MOBILENET_LOGITS + "weights"] == [1, 1, 1024, 1001]
    assert shapes[MOBILENET_LOGITS + "biases"] == [1001]


# --------------------------------------------------------------------------- round trips


def test_round_trip_v2_mobilenet(source, target, v2_prefix):
    source_value = pa.slim_variable_map(source)[LAST_POINTWISE].numpy()
    assert not np.array_equal(pa.slim_variable_map(target)[LAST_POINTWISE].numpy(), source_value)
    report = sc.load_slim_checkpoint(target, v2_prefix)
    assert report == {"assigned": 137, "unused": [], "checkpoint": v2_prefix, "moving_averages": 0}
    _assert_same_model(source, target, 224)


def test_round_trip_v1_inception_v1(tmp_path):
    source = _randomize(pa.build_paper_model("inception_v1"), seed=3)
    path = sc.write_slim_checkpoint(source, str(tmp_path / "inception_v1.ckpt"), version=1)
    assert os.path.isfile(path) and not os.path.exists(path + ".index")  # single-file V1
    target = pa.build_paper_model("inception_v1")
    report = sc.load_slim_checkpoint(target, sc.find_slim_checkpoint(str(tmp_path), "inception_v1"))
    assert report["assigned"] == len(target.weights) == 230
    assert report["unused"] == []
    _assert_same_model(source, target, 224)


def test_round_trip_v1_mobilenet(source, tensors, tmp_path):
    path = sc.write_checkpoint_tensors(str(tmp_path / "mobilenet_v1.ckpt"), tensors, version=1)
    target = _randomize(pa.build_paper_model("mobilenet_v1"), seed=4)
    assert sc.load_slim_checkpoint(target, path)["assigned"] == 137
    _assert_same_model(source, target, 224)


def test_v2_prefix_given_as_index_or_data_file(target, v2_prefix):
    for path in (v2_prefix + ".index", v2_prefix + ".data-00000-of-00001"):
        assert sc.load_slim_checkpoint(target, path)["checkpoint"] == v2_prefix


def test_v2_write_in_graph_mode(tensors, tmp_path):
    small = {name: tensors[name] for name in list(tensors)[:3]}
    with tf.Graph().as_default():
        assert not tf.executing_eagerly()
        prefix = sc.write_checkpoint_tensors(str(tmp_path / "g.ckpt"), small)
    reader = tf.train.load_checkpoint(prefix)
    for name, value in small.items():
        np.testing.assert_array_equal(reader.get_tensor(name), value)


# --------------------------------------------------------------------------- EMA, unused


def test_moving_averages_are_taken_only_when_asked(source, target, tmp_path):
    raw = pa.slim_variable_map(source)[LAST_POINTWISE].numpy()
    ema = raw + 1.0
    extra = {
        LAST_POINTWISE + sc.EMA_SUFFIX: ema,
        "global_step": np.array(123456, dtype=np.int64),
        "MobilenetV1/Conv2d_0/weights/RMSProp": np.zeros((3, 3, 3, 32), np.float32),
    }
    for version in (1, 2):
        path = sc.write_slim_checkpoint(source, str(tmp_path / "ema{}.ckpt".format(version)),
                                        version=version, extra=extra)
        variable = pa.slim_variable_map(target)[LAST_POINTWISE]

        report = sc.load_slim_checkpoint(target, path)
        np.testing.assert_array_equal(variable.numpy(), raw)
        assert report["moving_averages"] == 0
        assert report["unused"] == sorted(extra)

        report = sc.load_slim_checkpoint(target, path, use_moving_averages=True)
        np.testing.assert_array_equal(variable.numpy(), ema)
        assert report["assigned"] == 137 and report["moving_averages"] == 1
        assert report["unused"] == sorted(
            [LAST_POINTWISE, "global_step", "MobilenetV1/Conv2d_0/weights/RMSProp"])


def test_aux_logits_left_unused_when_model_has_no_aux_head(tensors, target, tmp_path):
    aux = {"MobilenetV1/AuxLogits/Conv2d_2b_1x1/weights": np.zeros((1, 1, 768, 1001), np.float32)}
    path = sc.write_checkpoint_tensors(str(tmp_path / "aux.ckpt"), dict(tensors, **aux))
    assert sc.load_slim_checkpoint(target, path)["unused"] == sorted(aux)


# --------------------------------------------------------------------------- errors


def test_missing_variable(tensors, target, tmp_path):
    _randomize(target, seed=5)
    broken = {name: value for name, value in tensors.items() if name != LAST_POINTWISE}
    path = sc.write_checkpoint_tensors(str(tmp_path / "missing.ckpt"), broken)
    message = _load_error(target, path)
    assert path in message and LAST_POINTWISE in message and "[1, 1, 1024, 1024]" in message
    assert "mobilenet_v1_1.0_224.ckpt" in message  # the fix: the model's own checkpoint


def test_missing_variable_v1(tensors, target, tmp_path):
    broken = {name: value for name, value in tensors.items() if "Conv2d_0/" not in name}
    path = sc.write_checkpoint_tensors(str(tmp_path / "missing_v1.ckpt"), broken, version=1)
    message = _load_error(target, path)
    assert path in message and "MobilenetV1/Conv2d_0/BatchNorm/beta" in message
    assert "4 more variables missing" in message


def test_checkpoint_of_another_model(target, tmp_path):
    other = {"vgg_16/conv1/conv1_1/weights": np.zeros((3, 3, 3, 64), np.float32)}
    path = sc.write_checkpoint_tensors(str(tmp_path / "vgg_16.ckpt"), other, version=1)
    message = _load_error(target, path)
    assert "vgg_16/" in message and "MobilenetV1/" in message and "another model" in message


def test_misshaped_variable(tensors, target, tmp_path):
    broken = dict(tensors)
    broken[LAST_POINTWISE] = np.zeros((1, 1, 1024, 512), np.float32)
    path = sc.write_checkpoint_tensors(str(tmp_path / "shape.ckpt"), broken)
    message = _load_error(target, path)
    assert path in message and LAST_POINTWISE in message
    assert "[1, 1, 1024, 512]" in message and "[1, 1, 1024, 1024]" in message


def test_ema_copy_with_wrong_shape_is_an_error_only_when_used(source, target, tmp_path):
    bad = {LAST_POINTWISE + sc.EMA_SUFFIX: np.zeros((2,), np.float32)}
    path = sc.write_slim_checkpoint(source, str(tmp_path / "ema_bad.ckpt"), extra=bad)
    assert sc.load_slim_checkpoint(target, path)["unused"] == sorted(bad)
    _randomize(target, seed=6)
    message = _load_error(target, path, use_moving_averages=True)
    assert LAST_POINTWISE + sc.EMA_SUFFIX in message and "[2]" in message


def test_checkpoint_with_1000_classes_into_1001_class_model(tensors, target, tmp_path):
    broken = dict(tensors)
    broken[MOBILENET_LOGITS + "weights"] = np.zeros((1, 1, 1024, 1000), np.float32)
    broken[MOBILENET_LOGITS + "biases"] = np.zeros((1000,), np.float32)
    path = sc.write_checkpoint_tensors(str(tmp_path / "classes1000.ckpt"), broken)
    message = _load_error(target, path)
    assert path in message and MOBILENET_LOGITS in message
    assert "1000 classes" in message and "built with 1001" in message
    assert "num_classes=1000" in message and "labels_offset=1" in message


def test_checkpoint_with_1001_classes_into_1000_class_model(v2_prefix):
    model = pa.build_paper_model("mobilenet_v1", num_classes=1000)
    message = _load_error(model, v2_prefix)
    assert v2_prefix in message and "[1, 1, 1024, 1001]" in message and "[1, 1, 1024, 1000]" in message
    assert "1001 classes" in message and "num_classes=1001" in message


def test_garbage_files_named_like_checkpoints(target, tmp_path):
    v1 = tmp_path / "inception_v1.ckpt"
    v1.write_bytes(b"this is not a checkpoint\n" * 100)
    message = _load_error(target, sc.find_slim_checkpoint(str(tmp_path), "inception_v1"))
    assert str(v1) in message and "not a readable TensorFlow checkpoint" in message

    v2 = tmp_path / "mobilenet_v1_1.0_224.ckpt"
    (tmp_path / "mobilenet_v1_1.0_224.ckpt.index").write_bytes(b"\x00garbage" * 64)
    (tmp_path / "mobilenet_v1_1.0_224.ckpt.data-00000-of-00001").write_bytes(b"\x01" * 64)
    message = _load_error(target, sc.find_slim_checkpoint(str(tmp_path), "mobilenet_v1"))
    assert str(v2) in message


def test_v2_checkpoint_without_its_data_file(tensors, target, tmp_path):
    path = sc.write_checkpoint_tensors(str(tmp_path / "nodata.ckpt"), tensors)
    os.remove(path + ".data-00000-of-00001")
    message = _load_error(target, path)
    assert path in message


def test_path_that_is_not_there(target, tmp_path):
    path = str(tmp_path / "nothere.ckpt")
    message = _load_error(target, path, error=MissingInputError)
    assert path in message
    message = _load_error(target, str(tmp_path), error=MissingInputError)  # empty directory
    assert str(tmp_path) in message and "find_slim_checkpoint" in message


def test_training_directory_with_checkpoint_state_file(tensors, target, tmp_path):
    prefix = sc.write_checkpoint_tensors(str(tmp_path / "model.ckpt-100"), tensors)
    tf.compat.v1.train.update_checkpoint_state(str(tmp_path), prefix)
    assert sc.load_slim_checkpoint(target, str(tmp_path))["checkpoint"] == prefix


def test_model_without_slim_variables(v2_prefix):
    model = pa.build_paper_model("nmt", src_vocab_size=20, tgt_vocab_size=20, num_units=8,
                                 num_layers=2)
    with pytest.raises(ConfigError, match="recurrent"):
        sc.load_slim_checkpoint(model, v2_prefix)
    with pytest.raises(ConfigError, match="recurrent"):
        sc.write_slim_checkpoint(model, v2_prefix + "_nmt")


def test_write_rejects_unknown_version(source, tmp_path):
    with pytest.raises(ConfigError, match="version"):
        sc.write_slim_checkpoint(source, str(tmp_path / "x.ckpt"), version=3)


# --------------------------------------------------------------------------- finding


def test_find_checkpoint_v1_file(tmp_path):
    (tmp_path / "vgg_16.ckpt").write_bytes(b"x")
    assert sc.find_slim_checkpoint(str(tmp_path), "vgg_16") == str(tmp_path / "vgg_16.ckpt")


def test_find_checkpoint_v2_prefix(tmp_path):
    (tmp_path / "mobilenet_v1_1.0_224.ckpt.index").write_bytes(b"x")
    assert sc.find_slim_checkpoint(tmp_path, "mobilenet_v1") == str(tmp_path / "mobilenet_v1_1.0_224.ckpt")


@pytest.mark.parametrize("folder", ["mobilenet_v1_1.0_224", "mobilenet_v1_1.0_224_2017_06_14"])
def test_find_checkpoint_in_tarball_folder_and_load(source, target, tmp_path, folder):
    path = sc.write_slim_checkpoint(source, str(tmp_path / folder / "mobilenet_v1_1.0_224.ckpt"))
    assert sc.find_slim_checkpoint(str(tmp_path), "mobilenet_v1") == path
    _randomize(target, seed=8)
    assert sc.load_slim_checkpoint(target, path)["assigned"] == 137
    _assert_same_model(source, target, 224)


def test_find_checkpoint_v1_in_tarball_folder(tmp_path):
    (tmp_path / "inception_v4_2016_09_09").mkdir()
    (tmp_path / "inception_v4_2016_09_09" / "inception_v4.ckpt").write_bytes(b"x")
    expected = str(tmp_path / "inception_v4_2016_09_09" / "inception_v4.ckpt")
    assert sc.find_slim_checkpoint(str(tmp_path), "inception_v4") == expected


def test_find_checkpoint_lists_the_names_looked_for(tmp_path):
    (tmp_path / "mobilenet_v1_1.0_224.ckpt.data-00000-of-00001").write_bytes(b"x")  # no .index
    with pytest.raises(MissingInputError) as info:
        sc.find_slim_checkpoint(str(tmp_path), "mobilenet_v1")
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message
    for name in ("mobilenet_v1_1.0_224.ckpt", "mobilenet_v1_1.0_224.ckpt.index",
                 os.path.join("mobilenet_v1_1.0_224", "mobilenet_v1_1.0_224.ckpt.index"),
                 "mobilenet_v1_1.0_224_2017_06_14.tar.gz"):
        assert name in message


def test_find_checkpoint_bad_directory_or_model(tmp_path):
    with pytest.raises(MissingInputError, match="does not exist"):
        sc.find_slim_checkpoint(str(tmp_path / "nope"), "resnet_v1_50")
    with pytest.raises(ConfigError, match="nmt"):
        sc.find_slim_checkpoint(str(tmp_path), "nmt")
