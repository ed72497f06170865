"""Load TF-Slim's pretrained ImageNet checkpoints into the Keras models of `paper_architectures`.

The paper measured the CNNs of TF-Slim's "Pre-trained Models" table (tensorflow/models,
research/slim/README.md). Each tarball there holds one checkpoint whose variables are named by slim
scope (``InceptionV1/Conv2d_1a_7x7/weights``); `paper_architectures.slim_variable_map` gives the
same names for the Keras variables, so loading is a by-name copy with shape checks.

Checkpoint formats: the 2016 tarballs (Inception v1-v4, ResNet v1, VGG) contain a single-file V1
checkpoint (``inception_v1.ckpt``); MobileNet v1 ships a V2 checkpoint, i.e. a prefix
``mobilenet_v1_1.0_224.ckpt`` with ``.index`` and ``.data-00000-of-00001`` files (plus ``.meta``).
`tf.train.load_checkpoint` reads both from the same path string.

- `CHECKPOINT_NAMES` / `TARBALLS`: the file names the slim README publishes per model.
- `find_slim_checkpoint(directory, model_name)`: the checkpoint path of a model in a directory.
- `load_slim_checkpoint(model, path)`: checks every variable (present, same shape, 1000 vs 1001
  classes) and assigns them all only when every check passed.
- `write_slim_checkpoint(model, prefix, version)`: writes a model's weights under slim names (V1
  or V2), so a written checkpoint can stand in for a slim tarball (tests, converted weights).

Python 3.6 compatible (Jetson TX2, TF 2.7): no dataclasses, no walrus, no postponed annotations.
"""
import collections
import logging
import os
import re
from typing import Any  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.device.compat import keras, tf
from artifact.device.models.architectures.paper_architectures import PAPER_MODELS, slim_variable_map

DOWNLOAD_URL = "http://download.tensorflow.org/models/"
"""Where the slim README's checkpoint tarballs live (TARBALLS are relative to it)."""

CHECKPOINT_NAMES = collections.OrderedDict([
    ("inception_v1", "inception_v1.ckpt"),
    ("inception_v2", "inception_v2.ckpt"),
    ("inception_v3", "inception_v3.ckpt"),
    ("inception_v4", "inception_v4.ckpt"),
    ("resnet_v1_50", "resnet_v1_50.ckpt"),
    ("resnet_v1_101", "resnet_v1_101.ckpt"),
    ("resnet_v1_152", "resnet_v1_152.ckpt"),
    ("vgg_16", "vgg_16.ckpt"),
    ("vgg_19", "vgg_19.ckpt"),
    ("mobilenet_v1", "mobilenet_v1_1.0_224.ckpt"),  # V2: .ckpt.index + .ckpt.data-00000-of-00001
])
"""PAPER_MODELS name -> checkpoint file (V1) or prefix (V2) inside the slim README's tarball."""

TARBALLS = collections.OrderedDict([
    ("inception_v1", "inception_v1_2016_08_28.tar.gz"),
    ("inception_v2", "inception_v2_2016_08_28.tar.gz"),
    ("inception_v3", "inception_v3_2016_08_28.tar.gz"),
    ("inception_v4", "inception_v4_2016_09_09.tar.gz"),
    ("resnet_v1_50", "resnet_v1_50_2016_08_28.tar.gz"),
    ("resnet_v1_101", "resnet_v1_101_2016_08_28.tar.gz"),
    ("resnet_v1_152", "resnet_v1_152_2016_08_28.tar.gz"),
    ("vgg_16", "vgg_16_2016_08_28.tar.gz"),
    ("vgg_19", "vgg_19_2016_08_28.tar.gz"),
    # The README's release whose accuracy (70.7/89.5) Table I quotes; the 2018_02_22 re-release
    # (mobilenet_v1_2018_02_22/mobilenet_v1_1.0_224.tgz) holds the same file names.
    ("mobilenet_v1", "mobilenet_v1_1.0_224_2017_06_14.tar.gz"),
])
"""PAPER_MODELS name -> tarball of the slim README's "Pre-trained Models" table (DOWNLOAD_URL)."""

EMA_SUFFIX = "/ExponentialMovingAverage"
"""What tf.train.ExponentialMovingAverage appends to a variable name for its shadow copy."""

_V2_SUFFIX = re.compile(r"\.(index|meta|data-\d{5}-of-\d{5})$")


# --------------------------------------------------------------------------- finding


def _subdirectories(model_name):
    # type: (str) -> list
    """Folder names a user may have extracted a tarball into: checkpoint stem, tarball stem."""
    stem = CHECKPOINT_NAMES[model_name][:-len(".ckpt")]
    tarball = TARBALLS[model_name]
    for ext in (".tar.gz", ".tgz"):
        if tarball.endswith(ext):
            tarball = tarball[:-len(ext)]
    return [stem] if tarball == stem else [stem, tarball]


def _is_checkpoint(path):
    # type: (str) -> bool
    """A V1 checkpoint file or a V2 prefix (its .index exists)."""
    return os.path.isfile(path) or os.path.isfile(path + ".index")


def find_slim_checkpoint(directory, model_name):
    # type: (str, str) -> str
    """The slim checkpoint of `model_name` in `directory` (a V1 file path or a V2 prefix).

    Looks for ``<directory>/<name>`` (V1 file) or ``<directory>/<name>.index`` (V2), then the same in
    a subdirectory named like the tarball (``mobilenet_v1_1.0_224/``,
    ``mobilenet_v1_1.0_224_2017_06_14/``).
    """
    if model_name not in CHECKPOINT_NAMES:
        raise ConfigError("no TF-Slim checkpoint for model {!r}; models with one: {}".format(
            model_name, ", ".join(CHECKPOINT_NAMES)))
    directory = os.fspath(directory)
    name = CHECKPOINT_NAMES[model_name]
    fetch = "download {}{} and extract it into {}".format(
        DOWNLOAD_URL, TARBALLS[model_name], directory)
    if not os.path.isdir(directory):
        raise MissingInputError("checkpoint directory {} does not exist; create it, then {}".format(
            directory, fetch))
    candidates = [os.path.join(directory, name)]
    candidates += [os.path.join(directory, sub, name) for sub in _subdirectories(model_name)]
    for candidate in candidates:
        if _is_checkpoint(candidate):
            return candidate
    looked_for = []
    for candidate in candidates:
        relative = os.path.relpath(candidate, directory)
        looked_for += [relative, relative + ".index"]
    raise MissingInputError("no TF-Slim checkpoint of {} in {} (looked for {}); {}".format(
        model_name, directory, ", ".join(looked_for), fetch))


# --------------------------------------------------------------------------- loading


def _shape(shape):
    # type: (Any) -> list
    return [int(d) for d in shape]


def _model_scope(names):
    # type: (list) -> str
    scopes = sorted({name.split("/")[0] for name in names})
    return scopes[0] if len(scopes) == 1 else "/".join(scopes)


def _model_name_for_scope(scope):
    # type: (str) -> Any
    for name, info in PAPER_MODELS.items():
        if info.scope == scope and name in CHECKPOINT_NAMES:
            return name
    return None


def _refetch_hint(scope):
    # type: (str) -> str
    """How to get the right checkpoint for a model whose variables are under `scope`."""
    name = _model_name_for_scope(scope)
    if name is None:
        return "use a checkpoint written for this model"
    return "use {} from {}{}".format(CHECKPOINT_NAMES[name], DOWNLOAD_URL, TARBALLS[name])


def _classes_hint(expected, found):
    # type: (int, int) -> str
    text = "build the model with num_classes={}".format(found)
    if {expected, found} == {1000, 1001}:
        text += (" (TF-Slim's Inception and MobileNet checkpoints have 1001 classes, class 0 = "
                 "background; its ResNet v1 and VGG checkpoints have 1000: evaluate those with "
                 "labels_offset=1)")
    return text


def _resolve(path):
    # type: (Any) -> str
    """The checkpoint path to read: V1 file or V2 prefix; raises MissingInputError if absent."""
    path = os.fspath(path)
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise MissingInputError(
                "{} is a directory, not a checkpoint, and has no 'checkpoint' state file; pass the "
                "checkpoint file (V1) or prefix (V2) itself, e.g. find_slim_checkpoint({!r}, model_name)".format(
                    path, path))
        return latest
    match = _V2_SUFFIX.search(path)
    if match and os.path.isfile(path[:match.start()] + ".index"):
        return path[:match.start()]  # "x.ckpt.index" / "x.ckpt.data-00000-of-00001" -> "x.ckpt"
    if not _is_checkpoint(path):
        raise MissingInputError(
            "checkpoint {} not found (neither a V1 checkpoint file nor a V2 prefix with {}.index); "
            "check the path, or extract the model's TF-Slim tarball there".format(path, path))
    return path


def _read_error(path, exc):
    # type: (str, Exception) -> FormatError
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
    return FormatError(
        "{} is not a readable TensorFlow checkpoint ({}: {}); re-download and extract the model's "
        "TF-Slim tarball (V1: the .ckpt file; V2: .ckpt.index with its .ckpt.data-* files)".format(
            path, type(exc).__name__, detail))


def _checkpoint_problem(path, mapping, shapes, dtypes, use_moving_averages, num_classes):
    # type: (str, dict, dict, dict, bool, Any) -> tuple
    """(source name per variable, first problem message or None) for a checkpoint's contents."""
    sources = {}
    missing, classes, misshaped, bad_dtype = [], [], [], []
    for name in sorted(mapping):
        expected = _shape(mapping[name].shape)
        source = name
        if use_moving_averages and name + EMA_SUFFIX in shapes:
            source = name + EMA_SUFFIX
        if source not in shapes:
            missing.append((name, expected))
            continue
        found = _shape(shapes[source])
        if found != expected:
            if (len(found) == len(expected) and found[:-1] == expected[:-1]
                    and num_classes is not None and expected[-1] == num_classes):
                classes.append((source, expected, found))
            else:
                misshaped.append((source, expected, found))
            continue
        if not tf.as_dtype(dtypes[source]).is_floating:
            bad_dtype.append((source, tf.as_dtype(dtypes[source]).name))
            continue
        sources[name] = source

    def more(items, what):
        return " (and {} more {})".format(len(items) - 1, what) if len(items) > 1 else ""

    scope = _model_scope(list(mapping))
    if missing:
        name, expected = missing[0]
        checkpoint_scopes = sorted({key.split("/")[0] for key in shapes if "/" in key})
        if len(missing) == len(mapping) and scope not in checkpoint_scopes:
            fix = "its variables are under {}, not {}/: it is the checkpoint of another model; {}".format(
                ", ".join(s + "/" for s in checkpoint_scopes) or "no scope", scope, _refetch_hint(scope))
        else:
            fix = "the checkpoint does not match this architecture; {}".format(_refetch_hint(scope))
        return sources, "{}: variable {} (shape {}) is not in the checkpoint{}; {}".format(
            path, name, expected, more(missing, "variables missing"), fix)
    if classes:
        source, expected, found = max(classes, key=lambda item: len(item[1]))  # weights first
        return sources, (
            "{}: variable {} has shape {} in the checkpoint, the model expects {}: the checkpoint "
            "has {} classes, the model was built with {}; {}".format(
                path, source, found, expected, found[-1], expected[-1],
                _classes_hint(expected[-1], found[-1])))
    if misshaped:
        source, expected, found = misshaped[0]
        return sources, (
            "{}: variable {} has shape {} in the checkpoint, the model expects {}{}; the checkpoint "
            "is of another variant of this architecture (depth multiplier, input size, version); "
            "{}".format(path, source, found, expected, more(misshaped, "variables mis-shaped"),
                        _refetch_hint(scope)))
    if bad_dtype:
        source, dtype = bad_dtype[0]
        return sources, "{}: variable {} has dtype {} in the checkpoint, expected a float; {}".format(
            path, source, dtype, _refetch_hint(scope))
    return sources, None


def _cnn_variable_map(model, what):
    # type: (keras.Model, str) -> dict
    """slim_variable_map of a CNN; ConfigError for models it cannot cover (recurrent, foreign)."""
    recurrent = [layer.name for layer in model.layers
                 if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]
    mapping = slim_variable_map(model)
    if recurrent or not mapping:
        raise ConfigError(
            "cannot {} TF-Slim checkpoints for model {!r}: {}; use a CNN built by "
            "artifact.device.models.architectures.paper_architectures (build_paper_model)".format(
                what, getattr(model, "name", model),
                "it has recurrent layers ({})".format(recurrent[0]) if recurrent
                else "it has no layers named by TF-Slim scope"))
    return mapping


def _num_classes(model):
    # type: (keras.Model) -> Any
    try:
        return int(model.outputs[0].shape[-1])
    except (AttributeError, IndexError, TypeError):
        return None


def load_slim_checkpoint(model, path, use_moving_averages=False):
    # type: (keras.Model, str, bool) -> dict
    """Assign a TF-Slim checkpoint (V1 file or V2 prefix) to a `paper_architectures` CNN.

    Every variable of `slim_variable_map(model)` must be in the checkpoint with the model's shape;
    with `use_moving_averages` its ``<name>/ExponentialMovingAverage`` copy is taken where the
    checkpoint has one (as slim's eval_image_classifier.py does with --moving_average_decay).
    Nothing is assigned unless every variable passed: a failed load leaves the model as it was.
    Checkpoint variables the model does not use (global_step, AuxLogits of a model built without
    the aux head, EMA copies, optimizer slots) are listed in the report, not an error.

    Returns {"assigned": n, "unused": [checkpoint names, sorted], "checkpoint": path,
    "moving_averages": how many variables were taken from an EMA copy}.
    Raises MissingInputError (no such checkpoint), FormatError (unreadable, or a variable missing /
    of another shape, e.g. 1000 vs 1001 classes), ConfigError (a model without slim variables).
    """
    mapping = _cnn_variable_map(model, "load")
    path = _resolve(path)
    try:
        reader = tf.train.load_checkpoint(path)
        shapes = reader.get_variable_to_shape_map()
        dtypes = reader.get_variable_to_dtype_map()
    except (tf.errors.OpError, ValueError) as exc:
        raise _read_error(path, exc)

    sources, problem = _checkpoint_problem(path, mapping, shapes, dtypes, use_moving_averages,
                                           _num_classes(model))
    if problem is not None:
        raise FormatError(problem)

    pairs = []
    try:
        for name in sorted(mapping):
            variable = mapping[name]
            value = reader.get_tensor(sources[name])
            pairs.append((variable, np.asarray(value, dtype=variable.dtype.as_numpy_dtype)))
    except (tf.errors.OpError, ValueError) as exc:
        raise _read_error(path, exc)
    keras.backend.batch_set_value(pairs)  # only now: all variables were read and checked

    used = set(sources.values())
    return {
        "assigned": len(pairs),
        "unused": sorted(key for key in shapes if key not in used),
        "checkpoint": path,
        "moving_averages": sum(1 for source in used if source.endswith(EMA_SUFFIX)),
    }


# --------------------------------------------------------------------------- writing


def _save_v2(prefix, tensors):
    # type: (str, collections.OrderedDict) -> None
    names = list(tensors)
    if tf.executing_eagerly():
        tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                          tensors=[tf.constant(tensors[name]) for name in names])
        return
    with tf.Graph().as_default() as graph:  # graph mode: feed the values, keep them out of the graph
        feeds = collections.OrderedDict(
            (name, tf.compat.v1.placeholder(tf.as_dtype(value.dtype), value.shape))
            for name, value in tensors.items())
        save = tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names,
                                 shape_and_slices=[""] * len(names), tensors=list(feeds.values()))
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(save, feed_dict={feeds[name]: tensors[name] for name in names})


def _save_v1(prefix, tensors):
    # type: (str, collections.OrderedDict) -> None
    with tf.Graph().as_default() as graph:
        feeds, variables = {}, collections.OrderedDict()
        for name, value in tensors.items():
            feeds[name] = tf.compat.v1.placeholder(tf.as_dtype(value.dtype), value.shape)
            variables[name] = tf.compat.v1.Variable(feeds[name], trainable=False,
                                                    name=name.replace("/", "_"))
        saver = tf.compat.v1.train.Saver(var_list=variables,
                                         write_version=tf.compat.v1.train.SaverDef.V1)
        tf_logger = tf.get_logger()
        level = tf_logger.level
        tf_logger.setLevel(logging.ERROR)  # silence the "V1 format is deprecated" banner
        try:
            with tf.compat.v1.Session(graph=graph) as session:
                session.run([v.initializer for v in variables.values()],
                            feed_dict={feeds[name]: tensors[name] for name in tensors})
                saver.save(session, prefix, write_meta_graph=False, write_state=False)
        finally:
            tf_logger.setLevel(level)


def write_checkpoint_tensors(prefix, tensors, version=2):
    # type: (str, dict, int) -> str
    """Write {checkpoint name: array} as a V2 checkpoint (prefix.index + prefix.data-*) or a V1 file.

    Returns the path `tf.train.load_checkpoint` reads (the prefix in both formats).
    """
    prefix = os.fspath(prefix)
    if version not in (1, 2):
        raise ConfigError("checkpoint version {!r} for {}: use 1 (single file, as most TF-Slim "
                          "tarballs) or 2 (.index + .data files)".format(version, prefix))
    if not tensors:
        raise ConfigError("nothing to write to checkpoint {}: no tensors given".format(prefix))
    ordered = collections.OrderedDict(
        (name, np.asarray(tensors[name])) for name in sorted(tensors))
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    if version == 2:
        _save_v2(prefix, ordered)
    else:
        _save_v1(prefix, ordered)
    return prefix


def slim_tensors(model):
    # type: (keras.Model) -> collections.OrderedDict
    """{slim checkpoint name: numpy value} of a `paper_architectures` CNN, sorted by name."""
    mapping = slim_variable_map(model)
    names = sorted(mapping)
    values = keras.backend.batch_get_value([mapping[name] for name in names])
    return collections.OrderedDict(zip(names, values))


def write_slim_checkpoint(model, prefix, version=2, extra=None):
    # type: (keras.Model, str, int, Any) -> str
    """Write the model's weights under TF-Slim names as a V2 (default) or V1 checkpoint.

    `extra`: {name: array} of further variables to write (global_step, EMA copies, ...); an entry
    with the name of a model variable replaces that variable's value. Returns the checkpoint path.
    """
    _cnn_variable_map(model, "write")
    tensors = slim_tensors(model)
    for name, value in (extra or {}).items():
        tensors[name] = np.asarray(value)
    return write_checkpoint_tensors(prefix, tensors, version=version)
