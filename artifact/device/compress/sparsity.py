"""Unstructured magnitude pruning with TF-MOT: the contrast to the paper's physical pruning.

The paper (and `artifact.device.compress.prune`) removes whole filters and neurons, so the pruned model
is a smaller dense model. TensorFlow Model Optimization's `prune_low_magnitude` instead sets the
smallest-magnitude individual weights of each kernel to zero: the model keeps every layer, every
shape and every parameter. Such a model is *sparse but not smaller*: `parameter_count` and the
`.model.zip` written by `artifact.device.compress.storage.save_model_file` (stored, not deflated) are
the same size as the dense original's, and dense kernels run it no faster. It only gets smaller
when it is stored compressed: `compressed_size` (gzip -9 of the file) is where the zeros show.

    magnitude_prune(model, sparsity)                 one-shot: masks by magnitude, no training
    magnitude_prune(model, sparsity, (x, y), epochs) the same masks kept while fine-tuning

Schedule: `ConstantSparsity(sparsity, begin_step=0, frequency=1)`, TF-MOT's one-shot schedule:
the target sparsity holds from step 0, so one mask update gives it, and during fine-tuning the
masks are recomputed by magnitude at every step at that same target. (`PolynomialDecay` ramps
up over many steps and would need a training run for any sparsity at all.)

What is pruned is what TF-MOT's registry prunes: the `kernel` of Conv2D / Dense (and Conv1D/3D,
Conv2DTranspose, ...), the kernels of LSTM/GRU cells, `embeddings`, the pointwise (not the
depthwise) kernel of a SeparableConv. Biases, BatchNormalization and DepthwiseConv2D kernels
(TF-MOT 0.8 registers them with no prunable weights), nested models and layers TF-MOT cannot wrap
(e.g. the artifact's quantized layers) are left dense; `pruning_plan` lists the pruned layers and
the layers with kernels left dense. Each pruned tensor keeps
`round(size * (1 - sparsity))` weights (at least one), ties at the threshold aside.

TF-MOT needs `TF_USE_LEGACY_KERAS=1` on TF >= 2.16, which `artifact.device.compat` sets; it is imported
only inside the functions that use it, so this module imports without it.
"""
import numbers
import os
import time
import warnings
import zlib
from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import ConfigError, MissingInputError, UnsupportedError
from artifact.device.compat import keras, set_random_seed, tf

SEED = 1234  # artifact.device.models.data.bundled.SEED
KERNEL_NAMES = ("kernel", "recurrent_kernel", "depthwise_kernel", "pointwise_kernel", "embeddings")
GZIP_LEVEL = 9
_READ_CHUNK = 1 << 22


def check_sparsity(value):
    # type: (Any) -> float
    """The fraction of weights to zero: a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) < 1.0:
        raise UnsupportedError("sparsity must be a fraction in (0, 1), got {!r}".format(value))
    return float(value)


def _tfmot():
    with warnings.catch_warnings():  # TF-MOT 0.8 compares versions with distutils' LooseVersion
        warnings.simplefilter("ignore", DeprecationWarning)
        import tensorflow_model_optimization as tfmot
    return tfmot


def _weight_name(weight):
    # type: (Any) -> str
    return weight.name.split("/")[-1].split(":")[0]


def _kernels(layer):
    # type: (Any) -> List[Any]
    return [w for w in layer.weights if _weight_name(w) in KERNEL_NAMES]


def _copy(model):
    """An independent copy of `model`: same architecture and weights, no shared variables."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _wrap(model, sparsity):
    """A copy of `model` with TF-MOT pruning wrappers, and the names of pruned / dense layers."""
    tfmot = _tfmot()
    if not isinstance(model, keras.Model) or not (
            isinstance(model, keras.Sequential) or getattr(model, "_is_graph_network", False)):
        raise UnsupportedError("magnitude pruning needs a Sequential or functional Keras model, got {}".format(
            type(model).__name__))
    schedule = tfmot.sparsity.keras.ConstantSparsity(sparsity, begin_step=0, frequency=1)

    def wrap(layer):
        if isinstance(layer, keras.Model):
            return layer  # nested models are left dense, as they are
        try:
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        except ValueError:  # a layer TF-MOT does not know (custom, quantized): left dense
            return layer

    # The wrappers wrap the layers of the model they clone: clone a private copy, never `model`.
    wrapped = keras.models.clone_model(_copy(model), clone_function=wrap)
    pruned, dense = [], []
    for layer in wrapped.layers:
        if _wrappers([layer]):
            if layer.prunable_weights:
                pruned.append(layer.layer.name)
            elif _kernels(layer.layer):
                dense.append(layer.layer.name)
        elif _kernels(layer) or isinstance(layer, keras.Model):
            dense.append(layer.name)
    if not pruned:
        raise UnsupportedError("model {} has no layer that TF-MOT can prune (Conv2D, Dense, LSTM, ...)".format(
            model.name))
    return wrapped, {"pruned": pruned, "left_dense": dense}


def _wrappers(layers):
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_wrapper

    return [layer for layer in layers if isinstance(layer, pruning_wrapper.PruneLowMagnitude)]


def pruning_plan(model):
    # type: (Any) -> Dict[str, List[str]]
    """Which layers `magnitude_prune` prunes ("pruned") and which layers with kernels it leaves
    dense ("left_dense": DepthwiseConv2D, nested models, layers TF-MOT cannot wrap)."""
    return _wrap(model, 0.5)[1]


def _seed(seed):
    set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except AttributeError:  # pragma: no cover - TF < 2.8 (Jetson TX2): best effort
        pass


def _check_finetune(finetune, epochs):
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ConfigError("fine-tuning epochs must be a whole number >= 0, got {!r}".format(epochs))
    if finetune is None:
        if epochs:
            raise ConfigError("fine-tuning for {} epochs needs finetune=(x, y) training arrays".format(epochs))
        return None
    if not isinstance(finetune, (tuple, list)) or len(finetune) != 2:
        raise ConfigError("finetune must be a pair (x, y) of training arrays, got {}".format(type(finetune).__name__))
    if epochs < 1:
        raise ConfigError("finetune=(x, y) given but epochs is 0; pass epochs >= 1 or no finetune")
    return finetune


def magnitude_prune(model, sparsity, finetune=None, epochs=0, learning_rate=1e-3, batch_size=32, seed=SEED):
    # type: (Any, float, Optional[Tuple[Any, Any]], int, float, int, int) -> Any
    """A copy of `model` whose prunable kernels have `sparsity` of their weights set to zero.

    `finetune`: optional `(x, y)` training arrays of a classifier (integer labels); the masked
    model is then trained for `epochs` with Adam(`learning_rate`) and sparse categorical
    cross-entropy, with TF-MOT's `UpdatePruningStep` callback added here (the masks follow the
    constant-sparsity schedule at every step and are applied again after each epoch). Without it,
    the masks are computed once from the weights as they are, with no data and no training step,
    so BatchNormalization statistics and every unpruned weight stay exactly as in `model`.

    Returns a plain Keras model (pruning wrappers stripped) of the same architecture, layer names
    and parameter count as `model`. `model` is not modified; the same seed gives the same weights.
    """
    sparsity = check_sparsity(sparsity)
    finetune = _check_finetune(finetune, epochs)
    tfmot = _tfmot()
    wrapped, _ = _wrap(model, sparsity)
    wrappers = _wrappers(wrapped.layers)
    if finetune is None:
        # What UpdatePruningStep + one training step would do, minus the training step: the
        # schedule prunes at step 0 (begin_step=0, frequency=1), so one mask update per wrapper
        # followed by weights <- weights * mask gives the target sparsity.
        for layer in wrappers:
            layer.pruning_step.assign(0)
            layer.pruning_obj.conditional_mask_update()
            layer.pruning_obj.weight_mask_op()
    else:
        _seed(seed)
        x, y = finetune
        wrapped.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
        wrapped.fit(x, y, batch_size=batch_size, epochs=int(epochs), shuffle=True, verbose=0,
                    callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
        for layer in wrappers:  # the callback did this at the last epoch's end; make it explicit
            layer.pruning_obj.weight_mask_op()
    stripped = tfmot.sparsity.keras.strip_pruning(wrapped)
    # strip_pruning reuses the wrapped model's layer objects; hand back a model of its own.
    return _copy(stripped)


def sparsity_report(model):
    # type: (Any) -> Dict[str, Any]
    """Exact zeros in the kernels (kernel, recurrent/depthwise/pointwise kernel, embeddings) of
    `model`: {"layers": {name: {"weights", "zeros", "sparsity"}}, "weights", "zeros", "sparsity"}
    where the totals are over all kernels; biases and normalization weights are not counted."""
    layers = {}  # type: Dict[str, Dict[str, Any]]
    total = zeros = 0
    for layer in model.layers:
        kernels = _kernels(layer)
        if not kernels:
            continue
        n = sum(int(np.prod(k.shape)) for k in kernels)
        z = sum(int(np.count_nonzero(k.numpy() == 0)) for k in kernels)
        layers[layer.name] = {"weights": n, "zeros": z, "sparsity": z / n if n else 0.0}
        total += n
        zeros += z
    return {"layers": layers, "weights": total, "zeros": zeros, "sparsity": zeros / total if total else 0.0}


def compressed_size(path):
    # type: (str) -> int
    """Bytes of the file at `path` after gzip at level 9 (as `gzip -9n`; streamed, no name, mtime 0).

    This is what "stored compressed" means for a sparse model. The `.model.zip` that
    `save_model_file` writes is stored, not deflated, so a sparse model's file is as large as the
    dense model's (the zeros are float32 zeros); only compressed do the zeros save space.
    """
    if not os.path.isfile(path):
        raise MissingInputError("{}: no such file to compress".format(path))
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    size = 0
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(_READ_CHUNK)
            if not chunk:
                break
            size += len(compressor.compress(chunk))
    return size + len(compressor.flush())


def dense_vs_sparse_time(model, stripped, x, repeats=20):
    # type: (Any, Any, Any, int) -> Tuple[float, float]
    """Median seconds of one inference on `x` of the dense `model` and of its sparse `stripped`
    copy, each run as a traced graph, calls interleaved, after one warm-up call each. Dense
    kernels do the same work on zeros: expect the two to be about equal. For benchmarks, not tests."""
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or repeats < 1:
        raise ConfigError("repeats must be a whole number >= 1, got {!r}".format(repeats))
    inputs = tf.convert_to_tensor(x)
    runs = []
    for m in (model, stripped):
        fn = tf.function(lambda t, m=m: m(t, training=False))
        fn(inputs).numpy()  # trace and warm up
        runs.append((fn, []))
    for _ in range(int(repeats)):
        for fn, times in runs:
            start = time.perf_counter()
            fn(inputs).numpy()
            times.append(time.perf_counter() - start)
    return float(np.median(runs[0][1])), float(np.median(runs[1][1]))
