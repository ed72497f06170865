"""The eleven models of the paper's Table I in the Keras 2 API, built from their public definitions.

The ten CNNs follow TF-Slim (tensorflow/models, research/slim/nets: inception_v1.py,
inception_v2.py, inception_v3.py, inception_v4.py, resnet_v1.py + resnet_utils.py, vgg.py,
mobilenet_v1.py) with the arg scopes slim pairs them with; the translator follows tensorflow/nmt's
GNMT model with the standard hparams `nmt/standard_hparams/wmt16_gnmt_4_layer.json`. Weights are
random (nothing is ever downloaded); a later loader can fill them from a TF-Slim checkpoint by
name (`slim_scope`, `slim_variable_map`).

Naming. Every Keras layer is named after the TF-Slim variable scope (or op scope) it stands for,
with "/" written as "__" because Keras layer names cannot contain "/":
``InceptionV4/Mixed_6b/Branch_1/Conv2d_0b_1x7`` becomes
``InceptionV4__Mixed_6b__Branch_1__Conv2d_0b_1x7``.
No slim scope component starts or ends with "_", so the mapping is reversible (`slim_scope`).
Batch norm layers are ``<conv scope>/BatchNorm`` as in slim; activations ``<scope>/Relu``
(``Relu6`` in MobileNet), concatenations ``<block>/concat``.

What slim does, and this module copies:
- Inception v1-v4 (`inception_arg_scope`): conv without bias + BatchNorm(center, scale=False,
  epsilon=0.001, decay 0.9997) + ReLU. The first layer of Inception v2 is a separable conv
  (depth multiplier 8) outside that arg scope: bias, ReLU, no BatchNorm (tensorflow/models#4843).
- ResNet v1 (`resnet_arg_scope`): conv without bias + BatchNorm(scale=True, epsilon=1e-5,
  decay 0.997); stride in the 3x3 of the *last* unit of blocks 1-3 with explicit padding
  (`conv2d_same`); `pool1` is SAME; identity shortcuts of strided units are 1x1 max pools.
- VGG (`vgg_arg_scope`): conv with bias + ReLU, no BatchNorm; fc6/fc7/fc8 are 7x7/1x1/1x1 convs.
- MobileNet v1 (`mobilenet_v1_arg_scope`): conv/depthwise without bias + BatchNorm(scale=True,
  epsilon=0.001) + ReLU6.
- Logits layers have biases and no BatchNorm; the models output logits (no softmax).
- Classes: Inception v1-v4 and MobileNet v1 have 1001 outputs (class 0 = background); ResNet v1
  and VGG have 1000 (slim README: "The ResNet and VGG Models have 1000 classes but the ImageNet
  dataset has 1001"; their checkpoints are evaluated with --labels_offset=1).
- Inception v3/v4 auxiliary heads (`AuxLogits`) exist only for training; slim's exported inference
  graphs drop them. `aux_logits=False` (the default) builds the single-output inference model;
  `aux_logits=True` adds the head as a second output, as slim builds it for training.

GNMT (tensorflow/nmt, wmt16_gnmt_4_layer.json): `num_units=1024`, 4 encoder + 4 decoder LSTM
layers, `encoder_type=gnmt` (1 bidirectional layer + 3 unidirectional), `residual=true`
(encoder residual on unidirectional layers 2-3, decoder residual on layers 3-4: nmt's
`num_encoder_residual_layers = num_decoder_residual_layers = num_layers - 2`),
`attention=normed_bahdanau`, `attention_architecture=gnmt_v2` (attention computed from the bottom
decoder layer, with input feeding, and concatenated to the input of every upper layer),
`pass_hidden_state=true` (decoder layer i starts from encoder layer i's final state),
`share_vocab=false`, `dropout=0.2`, `forget_bias=1.0`, output projection without bias.
Vocabulary: 36549 BPE tokens for both sides (the count this artifact takes for nmt's
`vocab.bpe.32000` from `wmt16_en_de.sh`; with it the model has 210,883,585 parameters, which is
Table I's 211M). The Keras model is the teacher-forced training graph: inputs ``source`` and
``target_input`` (int32 [batch, time]), output logits [batch, time, tgt_vocab]. Beam/greedy
decoding is not part of this module. Layer names follow the variable scopes of nmt's model.py and
gnmt_model.py (not checked against a released nmt checkpoint). Unlike TF1's fused LSTM kernel
(gate order i, j, f, o, forget bias added at run time), Keras LSTMs keep ``kernel`` and
``recurrent_kernel`` apart (gate order i, f, c, o) and initialise the forget bias to 1: a
checkpoint loader must split and reorder.

Depth (`depth`): the number of weight layers on the longest input-to-output path. For CNNs the
weight layers are convolutions (depthwise and pointwise count separately, a slim separable conv
counts once) and dense layers; batch norm, pooling, activations and concatenations count 0.
For a model with recurrent layers only the recurrent layers count (a bidirectional layer counts
once) and the initial states and attention memory fed to a recurrent layer do not lengthen a
path: that gives the layers per stack, which is how Table I counts NMT's depth 4.

Table I against TF-Slim and this module (trainable parameters, BN moving statistics excluded;
"with aux" = the training-only auxiliary head included):

| model | TF-Slim params | ours (default build) | Table I params | Table I depth | our depth | disagreement with Table I |
|---|---|---|---|---|---|---|
| nmt (GNMT 4x1024) | n/a (tensorflow/nmt) | 210,883,585 | 211M | 4 | 4 | none |
| inception_v1 | 6,618,649 | 6,618,649 | 7M | 22 | 22 | 7M is 6.6M rounded up |
| inception_v2 | 11,179,361 | 11,179,361 | 11.3M | 32 | 34 | params +1.1%; depth: slim's v2 has 34 weight layers on its longest path (Table I's 32 is not reproducible from the definition) |
| inception_v3 | 23,819,401 (27,145,970 with aux) | 23,819,401 | 27.1M | 42 | 48 | Table I counts the aux head (27.1M); 42 is the Inception-v3 paper's layer count, slim's longest weight path is 48 |
| inception_v4 | 42,649,769 (46,009,106 with aux) | 42,649,769 | 25.6M | 58 | 76 | Table I's 25.6M matches no Inception v4 (it coincides with keras.applications ResNet50's 25,636,712); depth 58 not reproducible (longest weight path 76) |
| resnet_v1_50 | 25,557,032 | 25,557,032 | 25.5M | 50 | 50 | none |
| resnet_v1_101 | 44,549,160 | 44,549,160 | 51M | 101 | 101 | Table I's 51M is 14.5% above ResNet-101 (44.5M) |
| resnet_v1_152 | 60,192,808 | 60,192,808 | 76.5M | 152 | 152 | Table I's 76.5M is 27% above ResNet-152 (60.2M) |
| vgg_16 | 138,357,544 | 138,357,544 | 138M | 16 | 16 | none |
| vgg_19 | 143,667,240 | 143,667,240 | 138M | 19 | 19 | Table I gives VGG-16's 138M for VGG-19 (143.7M) |
| mobilenet_v1 | 4,233,001 | 4,233,001 | 4.2M | 28 | 28 | none |

Sources of the TF-Slim column: measured with tf_slim 1.1.0 (/work/shared/NOTES.md and
reference/compression_anchors.md section 5: inception_v1, inception_v2, inception_v3 with aux,
resnet_v1_50/101/152, vgg_16, vgg_19) and a transcription of inception_v4.py (42,649,769 without /
46,009,106 with aux, same section). Derived here from the slim sources, and equal to this module's
build: inception_v3 without aux (27,145,970 minus the 3,326,569 of AuxLogits: 98,432 + 2,458,368 +
769,769) and mobilenet_v1 (not in tf_slim: 3,185,088 conv weights from mobilenet_v1.py's own table
+ 21,888 BatchNorm gamma/beta + 1,026,025 logits = 4,233,001; keras.applications MobileNet has
4,231,976 trainable with 1000 classes, i.e. 1,025 fewer).

Table I's accuracies agree (up to rounding) with the slim README's table for Inception v1-v3,
ResNet v1 and VGG except two top-5 values: Inception_v2 91.4 (README 91.8) and ResNet_50 90.2
(README 92.2). PAPER_MODELS keeps them as the paper prints them.

Python 3.6 compatible (Jetson TX2, TF 2.7): no dataclasses, no walrus, no postponed annotations.
"""
import collections
import math
from typing import Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import TABLE_I, PaperModel
from artifact.core.errors import ConfigError
from artifact.device.compat import keras, tf

TABLE_I_FIELDS = PaperModel._fields

L = keras.layers

SCOPE_SEP = "__"
"""What "/" of a TF-Slim scope becomes in a Keras layer name."""

ModelInfo = collections.namedtuple("ModelInfo", [
    "name", "family", "builder", "scope", "input_size", "num_classes", "slim_params", "expected_params",
    "expected_depth", "paper_params", "paper_depth", "paper_top1", "paper_top5", "paper_bleu", "notes"])
"""A Table I row (`artifact.core.catalog.PaperModel`) with the callable that builds it:
builder(**kwargs) -> keras.Model with random weights. Its fields are spelled out so that mypy reads them;
the assertion below keeps them the catalog's."""
assert ModelInfo._fields == TABLE_I_FIELDS[:2] + ("builder",) + TABLE_I_FIELDS[2:], "ModelInfo lost PaperModel's fields"


# --------------------------------------------------------------------------- names


def keras_name(scope):
    # type: (str) -> str
    """Keras layer name for a TF-Slim scope ("/" -> "__"); rejects scopes that cannot map back."""
    for part in scope.split("/"):
        if not part or part.startswith("_") or part.endswith("_") or SCOPE_SEP in part:
            raise ValueError(f"scope {scope!r} cannot be mapped reversibly to a Keras name")
    return scope.replace("/", SCOPE_SEP)


def slim_scope(layer_name):
    # type: (str) -> str
    """TF-Slim scope of a layer name: ``"vgg_16__conv1__conv1_1"`` -> ``"vgg_16/conv1/conv1_1"``."""
    return layer_name.replace(SCOPE_SEP, "/")


_SLIM_WEIGHT_NAMES = {
    "kernel": "weights",
    "bias": "biases",
    "depthwise_kernel": "depthwise_weights",
    "pointwise_kernel": "pointwise_weights",
    "gamma": "gamma",
    "beta": "beta",
    "moving_mean": "moving_mean",
    "moving_variance": "moving_variance",
}


def slim_variable_map(model):
    # type: (keras.Model) -> dict
    """TF-Slim checkpoint variable name -> Keras variable, for the CNNs of this module.

    Shapes agree with slim's (conv [kh, kw, in, out], depthwise [kh, kw, in, 1], fully connected
    [in, out]), so a loader can assign checkpoint tensors directly. Recurrent layers (GNMT) are
    left out: their TF1 kernels need splitting and gate reordering.
    """
    result = {}
    for layer in model.layers:
        if isinstance(layer, (L.RNN, L.Bidirectional)) or not layer.weights:
            continue
        for weight in layer.weights:
            base = weight.name.split("/")[-1].split(":")[0]
            if base not in _SLIM_WEIGHT_NAMES:
                continue
            result[slim_scope(layer.name) + "/" + _SLIM_WEIGHT_NAMES[base]] = weight
    return result


# --------------------------------------------------------------------------- slim-style layers


class _Slim:
    """Emits Keras layers the way slim.conv2d & co. do under a model's arg scope."""

    def __init__(self, scope, bn_scale, bn_epsilon, bn_decay, activation="relu",
                 initializer="he_normal"):
        # type: (str, bool, float, float, str, object) -> None
        """`initializer`: a Keras identifier (name or config dict), instantiated per layer."""
        self.scope = scope
        self.bn_scale = bn_scale
        self.bn_epsilon = bn_epsilon
        self.bn_decay = bn_decay
        self.activation = activation
        self.initializer = initializer

    def name(self, scope):
        # type: (str) -> str
        return keras_name(self.scope + "/" + scope)

    def _act(self, x, scope):
        if self.activation == "relu6":
            return L.ReLU(max_value=6.0, name=self.name(scope + "/Relu6"))(x)
        return L.ReLU(name=self.name(scope + "/Relu"))(x)

    def _bn(self, x, scope):
        return L.BatchNormalization(
            axis=-1, momentum=self.bn_decay, epsilon=self.bn_epsilon, center=True,
            scale=self.bn_scale, name=self.name(scope + "/BatchNorm"))(x)

    def conv(self, x, filters, kernel, scope, strides=1, padding="same", bn=True, act=True):
        """slim.conv2d: conv (bias only without BatchNorm), BatchNorm, activation."""
        x = L.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=not bn,
                     kernel_initializer=self.initializer, name=self.name(scope))(x)
        if bn:
            x = self._bn(x, scope)
        if act:
            x = self._act(x, scope)
        return x

    def logits_conv(self, x, num_classes, scope):
        """The 1x1 logits conv of slim's heads: bias, no BatchNorm, no activation."""
        return L.Conv2D(num_classes, 1, padding="same", use_bias=True,
                        kernel_initializer=self.initializer, name=self.name(scope))(x)

    def depthwise(self, x, scope, strides=1):
        """slim.separable_conv2d(num_outputs=None): depthwise 3x3 only, BatchNorm, activation."""
        x = L.DepthwiseConv2D(3, strides=strides, padding="same", depth_multiplier=1,
                              use_bias=False, depthwise_initializer=self.initializer,
                              name=self.name(scope))(x)
        return self._act(self._bn(x, scope), scope)

    def max_pool(self, x, size, strides, scope, padding="same"):
        return L.MaxPooling2D(size, strides=strides, padding=padding, name=self.name(scope))(x)

    def avg_pool(self, x, size, strides, scope, padding="same"):
        return L.AveragePooling2D(size, strides=strides, padding=padding, name=self.name(scope))(x)

    def concat(self, tensors, scope):
        return L.Concatenate(axis=-1, name=self.name(scope + "/concat"))(tensors)

    def dropout(self, x, keep_prob, scope):
        return L.Dropout(1.0 - keep_prob, name=self.name(scope))(x)

    def squeeze(self, x, scope):
        """tf.squeeze(logits, [1, 2]) of slim's heads (the spatial size is 1x1 there)."""
        return L.Flatten(name=self.name(scope))(x)


def _image_input(size):
    return L.Input((size, size, 3), name="input")


def _branch(net, x, block, branch, convs):
    """A chain of slim.conv2d calls inside ``block/Branch_<branch>``.

    `convs` items: (filters, kernel, scope) or (filters, kernel, scope, strides, padding).
    """
    for item in convs:
        filters, kernel, scope = item[:3]
        strides = item[3] if len(item) > 3 else 1
        padding = item[4] if len(item) > 4 else "same"
        x = net.conv(x, filters, kernel, f"{block}/Branch_{branch}/{scope}",
                     strides=strides, padding=padding)
    return x


def _pool_branch(net, x, block, branch, kind, conv_filters, pool_scope, conv_scope="Conv2d_0b_1x1"):
    """Branch_3 of an inception module: 3x3 stride-1 SAME pool, then a 1x1 conv."""
    prefix = f"{block}/Branch_{branch}/"
    pool = net.avg_pool if kind == "avg" else net.max_pool
    x = pool(x, 3, 1, prefix + pool_scope)
    return net.conv(x, conv_filters, 1, prefix + conv_scope)


def _inception_slim(scope):
    return _Slim(scope, bn_scale=False, bn_epsilon=0.001, bn_decay=0.9997)


# --------------------------------------------------------------------------- Inception v1

# Mixed block: (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3, b3 pool-proj); slim names the second conv of
# Mixed_5b/Branch_2 "Conv2d_0a_3x3" (a quirk of inception_v1.py kept for checkpoint names).
_V1_MIXED = [
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("MaxPool_4a_3x3", None),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("MaxPool_5a_2x2", None),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
]


def inception_v1(num_classes=1001):
    # type: (int) -> keras.Model
    """TF-Slim ``inception_v1`` (GoogLeNet with BatchNorm), 224x224 input."""
    net = _inception_slim("InceptionV1")
    inputs = _image_input(224)
    x = net.conv(inputs, 64, 7, "Conv2d_1a_7x7", strides=2)
    x = net.max_pool(x, 3, 2, "MaxPool_2a_3x3")
    x = net.conv(x, 64, 1, "Conv2d_2b_1x1")
    x = net.conv(x, 192, 3, "Conv2d_2c_3x3")
    x = net.max_pool(x, 3, 2, "MaxPool_3a_3x3")
    for block, spec in _V1_MIXED:
        if spec is None:
            size = 2 if block.endswith("2x2") else 3
            x = net.max_pool(x, size, 2, block)
            continue
        b0, b1a, b1b, b2a, b2b, b3 = spec
        b2_scope = "Conv2d_0a_3x3" if block == "Mixed_5b" else "Conv2d_0b_3x3"
        x = net.concat([
            _branch(net, x, block, 0, [(b0, 1, "Conv2d_0a_1x1")]),
            _branch(net, x, block, 1, [(b1a, 1, "Conv2d_0a_1x1"), (b1b, 3, "Conv2d_0b_3x3")]),
            _branch(net, x, block, 2, [(b2a, 1, "Conv2d_0a_1x1"), (b2b, 3, b2_scope)]),
            _pool_branch(net, x, block, 3, "max", b3, "MaxPool_0a_3x3"),
        ], block)
    x = net.avg_pool(x, 7, 1, "Logits/AvgPool_0a_7x7", padding="valid")
    x = net.dropout(x, 0.8, "Logits/Dropout_0b")
    x = net.logits_conv(x, num_classes, "Logits/Conv2d_0c_1x1")
    x = net.squeeze(x, "Logits/SpatialSqueeze")
    return keras.Model(inputs, x, name="InceptionV1")


# --------------------------------------------------------------------------- Inception v2

# (b0 1x1, b1 1x1, b1 3x3, b2 1x1, b2 3x3 (x2), pool kind, b3 1x1)
_V2_MIXED = {
    "Mixed_3b": (64, 64, 64, 64, 96, "avg", 32),
    "Mixed_3c": (64, 64, 96, 64, 96, "avg", 64),
    "Mixed_4b": (224, 64, 96, 96, 128, "avg", 128),
    "Mixed_4c": (192, 96, 128, 96, 128, "avg", 128),
    "Mixed_4d": (160, 128, 160, 128, 160, "avg", 96),
    "Mixed_4e": (96, 128, 192, 160, 192, "avg", 96),
    "Mixed_5b": (352, 192, 320, 160, 224, "avg", 128),
    "Mixed_5c": (352, 192, 320, 192, 224, "max", 128),
}
# Reduction blocks: (b0 1x1, b0 3x3/2, b1 1x1, b1 3x3, b1 3x3/2)
_V2_REDUCTION = {"Mixed_4a": (128, 160, 64, 96, 96), "Mixed_5a": (128, 192, 192, 256, 256)}
_V2_ORDER = ["Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
             "Mixed_5a", "Mixed_5b", "Mixed_5c"]


def inception_v2(num_classes=1001):
    # type: (int) -> keras.Model
    """TF-Slim ``inception_v2`` (BN-Inception, separable first layer), 224x224 input."""
    net = _inception_slim("InceptionV2")
    inputs = _image_input(224)
    # slim.separable_conv2d is outside inception_arg_scope's [slim.conv2d] scope: bias, ReLU, no BN.
    x = L.SeparableConv2D(64, 7, strides=2, padding="same", depth_multiplier=8, use_bias=True,
                          name=net.name("Conv2d_1a_7x7"))(inputs)
    x = L.ReLU(name=net.name("Conv2d_1a_7x7/Relu"))(x)
    x = net.max_pool(x, 3, 2, "MaxPool_2a_3x3")
    x = net.conv(x, 64, 1, "Conv2d_2b_1x1")
    x = net.conv(x, 192, 3, "Conv2d_2c_3x3")
    x = net.max_pool(x, 3, 2, "MaxPool_3a_3x3")
    for block in _V2_ORDER:
        if block in _V2_REDUCTION:
            b0a, b0b, b1a, b1b, b1c = _V2_REDUCTION[block]
            x = net.concat([
                _branch(net, x, block, 0, [(b0a, 1, "Conv2d_0a_1x1"),
                                           (b0b, 3, "Conv2d_1a_3x3", 2)]),
                _branch(net, x, block, 1, [(b1a, 1, "Conv2d_0a_1x1"), (b1b, 3, "Conv2d_0b_3x3"),
                                           (b1c, 3, "Conv2d_1a_3x3", 2)]),
                net.max_pool(x, 3, 2, block + "/Branch_2/MaxPool_1a_3x3"),
            ], block)
            continue
        b0, b1a, b1b, b2a, b2b, kind, b3 = _V2_MIXED[block]
        pool_scope = "AvgPool_0a_3x3" if kind == "avg" else "MaxPool_0a_3x3"
        x = net.concat([
            _branch(net, x, block, 0, [(b0, 1, "Conv2d_0a_1x1")]),
            _branch(net, x, block, 1, [(b1a, 1, "Conv2d_0a_1x1"), (b1b, 3, "Conv2d_0b_3x3")]),
            _branch(net, x, block, 2, [(b2a, 1, "Conv2d_0a_1x1"), (b2b, 3, "Conv2d_0b_3x3"),
                                       (b2b, 3, "Conv2d_0c_3x3")]),
            _pool_branch(net, x, block, 3, kind, b3, pool_scope),
        ], block)
    x = net.avg_pool(x, 7, 1, "Logits/AvgPool_1a_7x7", padding="valid")
    x = net.dropout(x, 0.8, "Logits/Dropout_1b")
    x = net.logits_conv(x, num_classes, "Logits/Conv2d_1c_1x1")
    x = net.squeeze(x, "Logits/SpatialSqueeze")
    return keras.Model(inputs, x, name="InceptionV2")


# --------------------------------------------------------------------------- Inception v3


def _v3_mixed_5(net, x, block, pool_filters):
    # Mixed_5c's Branch_1 scopes are "Conv2d_0b_1x1" / "Conv_1_0c_5x5" in slim (kept).
    b1 = [(48, 1, "Conv2d_0b_1x1"), (64, 5, "Conv_1_0c_5x5")] if block == "Mixed_5c" else \
        [(48, 1, "Conv2d_0a_1x1"), (64, 5, "Conv2d_0b_5x5")]
    return net.concat([
        _branch(net, x, block, 0, [(64, 1, "Conv2d_0a_1x1")]),
        _branch(net, x, block, 1, b1),
        _branch(net, x, block, 2, [(64, 1, "Conv2d_0a_1x1"), (96, 3, "Conv2d_0b_3x3"),
                                   (96, 3, "Conv2d_0c_3x3")]),
        _pool_branch(net, x, block, 3, "avg", pool_filters, "AvgPool_0a_3x3"),
    ], block)


def _v3_mixed_6(net, x, block, width):
    return net.concat([
        _branch(net, x, block, 0, [(192, 1, "Conv2d_0a_1x1")]),
        _branch(net, x, block, 1, [(width, 1, "Conv2d_0a_1x1"), (width, (1, 7), "Conv2d_0b_1x7"),
                                   (192, (7, 1), "Conv2d_0c_7x1")]),
        _branch(net, x, block, 2, [(width, 1, "Conv2d_0a_1x1"), (width, (7, 1), "Conv2d_0b_7x1"),
                                   (width, (1, 7), "Conv2d_0c_1x7"),
                                   (width, (7, 1), "Conv2d_0d_7x1"),
                                   (192, (1, 7), "Conv2d_0e_1x7")]),
        _pool_branch(net, x, block, 3, "avg", 192, "AvgPool_0a_3x3"),
    ], block)


def _v3_mixed_7(net, x, block):
    b1 = _branch(net, x, block, 1, [(384, 1, "Conv2d_0a_1x1")])
    b1_second = "Conv2d_0b_3x1" if block == "Mixed_7b" else "Conv2d_0c_3x1"
    b1 = net.concat([
        _branch(net, b1, block, 1, [(384, (1, 3), "Conv2d_0b_1x3")]),
        _branch(net, b1, block, 1, [(384, (3, 1), b1_second)]),
    ], block + "/Branch_1")
    b2 = _branch(net, x, block, 2, [(448, 1, "Conv2d_0a_1x1"), (384, 3, "Conv2d_0b_3x3")])
    b2 = net.concat([
        _branch(net, b2, block, 2, [(384, (1, 3), "Conv2d_0c_1x3")]),
        _branch(net, b2, block, 2, [(384, (3, 1), "Conv2d_0d_3x1")]),
    ], block + "/Branch_2")
    return net.concat([
        _branch(net, x, block, 0, [(320, 1, "Conv2d_0a_1x1")]),
        b1,
        b2,
        _pool_branch(net, x, block, 3, "avg", 192, "AvgPool_0a_3x3"),
    ], block)


def inception_v3(num_classes=1001, aux_logits=False):
    # type: (int, bool) -> keras.Model
    """TF-Slim ``inception_v3``, 299x299 input; ``aux_logits=True`` adds slim's training head."""
    net = _inception_slim("InceptionV3")
    inputs = _image_input(299)
    x = net.conv(inputs, 32, 3, "Conv2d_1a_3x3", strides=2, padding="valid")
    x = net.conv(x, 32, 3, "Conv2d_2a_3x3", padding="valid")
    x = net.conv(x, 64, 3, "Conv2d_2b_3x3")
    x = net.max_pool(x, 3, 2, "MaxPool_3a_3x3", padding="valid")
    x = net.conv(x, 80, 1, "Conv2d_3b_1x1", padding="valid")
    x = net.conv(x, 192, 3, "Conv2d_4a_3x3", padding="valid")
    x = net.max_pool(x, 3, 2, "MaxPool_5a_3x3", padding="valid")
    x = _v3_mixed_5(net, x, "Mixed_5b", 32)
    x = _v3_mixed_5(net, x, "Mixed_5c", 64)
    x = _v3_mixed_5(net, x, "Mixed_5d", 64)
    x = net.concat([
        _branch(net, x, "Mixed_6a", 0, [(384, 3, "Conv2d_1a_1x1", 2, "valid")]),
        _branch(net, x, "Mixed_6a", 1, [(64, 1, "Conv2d_0a_1x1"), (96, 3, "Conv2d_0b_3x3"),
                                        (96, 3, "Conv2d_1a_1x1", 2, "valid")]),
        net.max_pool(x, 3, 2, "Mixed_6a/Branch_2/MaxPool_1a_3x3", padding="valid"),
    ], "Mixed_6a")
    x = _v3_mixed_6(net, x, "Mixed_6b", 128)
    x = _v3_mixed_6(net, x, "Mixed_6c", 160)
    x = _v3_mixed_6(net, x, "Mixed_6d", 160)
    x = _v3_mixed_6(net, x, "Mixed_6e", 192)
    mixed_6e = x
    x = net.concat([
        _branch(net, x, "Mixed_7a", 0, [(192, 1, "Conv2d_0a_1x1"),
                                        (320, 3, "Conv2d_1a_3x3", 2, "valid")]),
        _branch(net, x, "Mixed_7a", 1, [(192, 1, "Conv2d_0a_1x1"), (192, (1, 7), "Conv2d_0b_1x7"),
                                        (192, (7, 1), "Conv2d_0c_7x1"),
                                        (192, 3, "Conv2d_1a_3x3", 2, "valid")]),
        net.max_pool(x, 3, 2, "Mixed_7a/Branch_2/MaxPool_1a_3x3", padding="valid"),
    ], "Mixed_7a")
    x = _v3_mixed_7(net, x, "Mixed_7b")
    x = _v3_mixed_7(net, x, "Mixed_7c")
    x = net.avg_pool(x, 8, 1, "Logits/AvgPool_1a_8x8", padding="valid")
    x = net.dropout(x, 0.8, "Logits/Dropout_1b")
    x = net.logits_conv(x, num_classes, "Logits/Conv2d_1c_1x1")
    logits = net.squeeze(x, "Logits/SpatialSqueeze")
    if not aux_logits:
        return keras.Model(inputs, logits, name="InceptionV3")
    aux = net.avg_pool(mixed_6e, 5, 3, "AuxLogits/AvgPool_1a_5x5", padding="valid")
    aux = net.conv(aux, 128, 1, "AuxLogits/Conv2d_1b_1x1")
    aux = net.conv(aux, 768, 5, "AuxLogits/Conv2d_2a_5x5", padding="valid")
    aux = net.logits_conv(aux, num_classes, "AuxLogits/Conv2d_2b_1x1")
    aux = net.squeeze(aux, "AuxLogits/SpatialSqueeze")
    return keras.Model(inputs, [logits, aux], name="InceptionV3")


# --------------------------------------------------------------------------- Inception v4


def _v4_block_a(net, x, block):
    return net.concat([
        _branch(net, x, block, 0, [(96, 1, "Conv2d_0a_1x1")]),
        _branch(net, x, block, 1, [(64, 1, "Conv2d_0a_1x1"), (96, 3, "Conv2d_0b_3x3")]),
        _branch(net, x, block, 2, [(64, 1, "Conv2d_0a_1x1"), (96, 3, "Conv2d_0b_3x3"),
                                   (96, 3, "Conv2d_0c_3x3")]),
        _pool_branch(net, x, block, 3, "avg", 96, "AvgPool_0a_3x3"),
    ], block)


def _v4_block_b(net, x, block):
    return net.concat([
        _branch(net, x, block, 0, [(384, 1, "Conv2d_0a_1x1")]),
        _branch(net, x, block, 1, [(192, 1, "Conv2d_0a_1x1"), (224, (1, 7), "Conv2d_0b_1x7"),
                                   (256, (7, 1), "Conv2d_0c_7x1")]),
        _branch(net, x, block, 2, [(192, 1, "Conv2d_0a_1x1"), (192, (7, 1), "Conv2d_0b_7x1"),
                                   (224, (1, 7), "Conv2d_0c_1x7"), (224, (7, 1), "Conv2d_0d_7x1"),
                                   (256, (1, 7), "Conv2d_0e_1x7")]),
        _pool_branch(net, x, block, 3, "avg", 128, "AvgPool_0a_3x3"),
    ], block)


def _v4_block_c(net, x, block):
    b1 = _branch(net, x, block, 1, [(384, 1, "Conv2d_0a_1x1")])
    b1 = net.concat([
        _branch(net, b1, block, 1, [(256, (1, 3), "Conv2d_0b_1x3")]),
        _branch(net, b1, block, 1, [(256, (3, 1), "Conv2d_0c_3x1")]),
    ], block + "/Branch_1")
    b2 = _branch(net, x, block, 2, [(384, 1, "Conv2d_0a_1x1"), (448, (3, 1), "Conv2d_0b_3x1"),
                                    (512, (1, 3), "Conv2d_0c_1x3")])
    b2 = net.concat([
        _branch(net, b2, block, 2, [(256, (1, 3), "Conv2d_0d_1x3")]),
        _branch(net, b2, block, 2, [(256, (3, 1), "Conv2d_0e_3x1")]),
    ], block + "/Branch_2")
    return net.concat([
        _branch(net, x, block, 0, [(256, 1, "Conv2d_0a_1x1")]),
        b1,
        b2,
        _pool_branch(net, x, block, 3, "avg", 256, "AvgPool_0a_3x3"),
    ], block)


def inception_v4(num_classes=1001, aux_logits=False):
    # type: (int, bool) -> keras.Model
    """TF-Slim ``inception_v4``, 299x299 input; ``aux_logits=True`` adds slim's training head."""
    net = _inception_slim("InceptionV4")
    inputs = _image_input(299)
    x = net.conv(inputs, 32, 3, "Conv2d_1a_3x3", strides=2, padding="valid")
    x = net.conv(x, 32, 3, "Conv2d_2a_3x3", padding="valid")
    x = net.conv(x, 64, 3, "Conv2d_2b_3x3")
    x = net.concat([
        net.max_pool(x, 3, 2, "Mixed_3a/Branch_0/MaxPool_0a_3x3", padding="valid"),
        _branch(net, x, "Mixed_3a", 1, [(96, 3, "Conv2d_0a_3x3", 2, "valid")]),
    ], "Mixed_3a")
    x = net.concat([
        _branch(net, x, "Mixed_4a", 0, [(64, 1, "Conv2d_0a_1x1"),
                                        (96, 3, "Conv2d_1a_3x3", 1, "valid")]),
        _branch(net, x, "Mixed_4a", 1, [(64, 1, "Conv2d_0a_1x1"), (64, (1, 7), "Conv2d_0b_1x7"),
                                        (64, (7, 1), "Conv2d_0c_7x1"),
                                        (96, 3, "Conv2d_1a_3x3", 1, "valid")]),
    ], "Mixed_4a")
    x = net.concat([
        _branch(net, x, "Mixed_5a", 0, [(192, 3, "Conv2d_1a_3x3", 2, "valid")]),
        net.max_pool(x, 3, 2, "Mixed_5a/Branch_1/MaxPool_1a_3x3", padding="valid"),
    ], "Mixed_5a")
    for letter in "bcde":
        x = _v4_block_a(net, x, "Mixed_5" + letter)
    x = net.concat([
        _branch(net, x, "Mixed_6a", 0, [(384, 3, "Conv2d_1a_3x3", 2, "valid")]),
        _branch(net, x, "Mixed_6a", 1, [(192, 1, "Conv2d_0a_1x1"), (224, 3, "Conv2d_0b_3x3"),
                                        (256, 3, "Conv2d_1a_3x3", 2, "valid")]),
        net.max_pool(x, 3, 2, "Mixed_6a/Branch_2/MaxPool_1a_3x3", padding="valid"),
    ], "Mixed_6a")
    for letter in "bcdefgh":
        x = _v4_block_b(net, x, "Mixed_6" + letter)
    mixed_6h = x
    x = net.concat([
        _branch(net, x, "Mixed_7a", 0, [(192, 1, "Conv2d_0a_1x1"),
                                        (192, 3, "Conv2d_1a_3x3", 2, "valid")]),
        _branch(net, x, "Mixed_7a", 1, [(256, 1, "Conv2d_0a_1x1"), (256, (1, 7), "Conv2d_0b_1x7"),
                                        (320, (7, 1), "Conv2d_0c_7x1"),
                                        (320, 3, "Conv2d_1a_3x3", 2, "valid")]),
        net.max_pool(x, 3, 2, "Mixed_7a/Branch_2/MaxPool_1a_3x3", padding="valid"),
    ], "Mixed_7a")
    for letter in "bcd":
        x = _v4_block_c(net, x, "Mixed_7" + letter)
    x = net.avg_pool(x, 8, 1, "Logits/AvgPool_1a", padding="valid")
    x = net.dropout(x, 0.8, "Logits/Dropout_1b")
    x = L.Flatten(name=net.name("Logits/PreLogitsFlatten"))(x)
    logits = L.Dense(num_classes, name=net.name("Logits/Logits"))(x)
    if not aux_logits:
        return keras.Model(inputs, logits, name="InceptionV4")
    aux = net.avg_pool(mixed_6h, 5, 3, "AuxLogits/AvgPool_1a_5x5", padding="valid")
    aux = net.conv(aux, 128, 1, "AuxLogits/Conv2d_1b_1x1")
    aux = net.conv(aux, 768, 5, "AuxLogits/Conv2d_2a", padding="valid")
    aux = L.Flatten(name=net.name("AuxLogits/Flatten"))(aux)
    aux = L.Dense(num_classes, name=net.name("AuxLogits/Aux_logits"))(aux)
    return keras.Model(inputs, [logits, aux], name="InceptionV4")


# --------------------------------------------------------------------------- ResNet v1

_RESNET_UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _conv2d_same(net, x, filters, kernel, strides, scope):
    """resnet_utils.conv2d_same: SAME if stride 1, else explicit symmetric pad + VALID conv."""
    if strides == 1:
        return net.conv(x, filters, kernel, scope)
    pad_total = kernel - 1
    pad_beg = pad_total // 2
    pad = ((pad_beg, pad_total - pad_beg), (pad_beg, pad_total - pad_beg))
    x = L.ZeroPadding2D(pad, name=net.name(scope + "/Pad"))(x)
    return net.conv(x, filters, kernel, scope, strides=strides, padding="valid")


def _bottleneck_v1(net, x, depth_in, depth, depth_bottleneck, strides, scope):
    if depth == depth_in:
        shortcut = x if strides == 1 else net.max_pool(x, 1, strides, scope + "/shortcut")
    else:
        shortcut = net.conv(x, depth, 1, scope + "/shortcut", strides=strides, act=False)
    residual = net.conv(x, depth_bottleneck, 1, scope + "/conv1")
    residual = _conv2d_same(net, residual, depth_bottleneck, 3, strides, scope + "/conv2")
    residual = net.conv(residual, depth, 1, scope + "/conv3", act=False)
    x = L.Add(name=net.name(scope + "/add"))([shortcut, residual])
    return L.ReLU(name=net.name(scope + "/Relu"))(x)


def resnet_v1(layers=50, num_classes=1000):
    # type: (int, int) -> keras.Model
    """TF-Slim ``resnet_v1_<layers>`` (50, 101 or 152), 224x224 input."""
    if layers not in _RESNET_UNITS:
        raise ConfigError(f"resnet_v1 layers must be one of {sorted(_RESNET_UNITS)}, got {layers}")
    scope = f"resnet_v1_{layers}"
    net = _Slim(scope, bn_scale=True, bn_epsilon=1e-5, bn_decay=0.997)
    inputs = _image_input(224)
    x = _conv2d_same(net, inputs, 64, 7, 2, "conv1")
    x = net.max_pool(x, 3, 2, "pool1")
    depth_in = 64
    for block, (base_depth, units) in enumerate(zip((64, 128, 256, 512), _RESNET_UNITS[layers])):
        block_stride = 1 if block == 3 else 2
        for unit in range(units):
            strides = block_stride if unit == units - 1 else 1
            unit_scope = f"block{block + 1}/unit_{unit + 1}/bottleneck_v1"
            x = _bottleneck_v1(net, x, depth_in, base_depth * 4, base_depth, strides, unit_scope)
            depth_in = base_depth * 4
    x = L.GlobalAveragePooling2D(keepdims=True, name=net.name("pool5"))(x)
    x = net.logits_conv(x, num_classes, "logits")
    x = net.squeeze(x, "SpatialSqueeze")
    return keras.Model(inputs, x, name=scope)


# --------------------------------------------------------------------------- VGG

_VGG_CONVS = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def vgg(layers=16, num_classes=1000):
    # type: (int, int) -> keras.Model
    """TF-Slim ``vgg_16`` / ``vgg_19`` (fully connected layers as convolutions), 224x224 input."""
    if layers not in _VGG_CONVS:
        raise ConfigError(f"vgg layers must be 16 or 19, got {layers}")
    scope = f"vgg_{layers}"
    net = _Slim(scope, bn_scale=False, bn_epsilon=0.0, bn_decay=0.0, initializer="glorot_uniform")
    inputs = _image_input(224)
    x = inputs
    for block, (repeats, filters) in enumerate(zip(_VGG_CONVS[layers], (64, 128, 256, 512, 512))):
        group = f"conv{block + 1}"
        for i in range(repeats):
            x = L.Conv2D(filters, 3, padding="same", activation="relu",
                         name=net.name(f"{group}/{group}_{i + 1}"))(x)
        x = net.max_pool(x, 2, 2, f"pool{block + 1}", padding="valid")
    x = L.Conv2D(4096, 7, padding="valid", activation="relu", name=net.name("fc6"))(x)
    x = net.dropout(x, 0.5, "dropout6")
    x = L.Conv2D(4096, 1, activation="relu", name=net.name("fc7"))(x)
    x = net.dropout(x, 0.5, "dropout7")
    x = L.Conv2D(num_classes, 1, name=net.name("fc8"))(x)
    x = net.squeeze(x, "fc8/squeezed")
    return keras.Model(inputs, x, name=scope)


# --------------------------------------------------------------------------- MobileNet v1

# (stride, pointwise depth) of Conv2d_1 .. Conv2d_13 (mobilenet_v1.py _CONV_DEFS)
_MOBILENET_V1_DEFS = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512),
                      (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)]


def mobilenet_v1(num_classes=1001):
    # type: (int) -> keras.Model
    """TF-Slim ``mobilenet_v1`` with depth multiplier 1.0, 224x224 input."""
    net = _Slim("MobilenetV1", bn_scale=True, bn_epsilon=0.001, bn_decay=0.9997,
                activation="relu6",
                initializer={"class_name": "TruncatedNormal", "config": {"stddev": 0.09}})
    inputs = _image_input(224)
    x = net.conv(inputs, 32, 3, "Conv2d_0", strides=2)
    for i, (strides, filters) in enumerate(_MOBILENET_V1_DEFS, start=1):
        x = net.depthwise(x, f"Conv2d_{i}_depthwise", strides=strides)
        x = net.conv(x, filters, 1, f"Conv2d_{i}_pointwise")
    x = net.avg_pool(x, 7, 1, "Logits/AvgPool_1a", padding="valid")
    x = net.dropout(x, 0.999, "Logits/Dropout_1b")
    x = net.logits_conv(x, num_classes, "Logits/Conv2d_1c_1x1")
    x = net.squeeze(x, "Logits/SpatialSqueeze")
    return keras.Model(inputs, x, name="MobilenetV1")


# --------------------------------------------------------------------------- GNMT


def _uniform():
    """nmt's initializer (init_op=uniform, init_weight=0.1), a fresh one per variable."""
    return {"class_name": "RandomUniform", "config": {"minval": -0.1, "maxval": 0.1}}


@keras.utils.register_keras_serializable(package="artifact")
class NormedBahdanauAttentionCell(keras.layers.Layer):
    """Bottom GNMT decoder cell: an LSTM wrapped in tf.contrib.seq2seq.AttentionWrapper.

    Per step (AttentionWrapper, attention_layer_size=None, output_attention=False, and
    BahdanauAttention(normalize=True)):
        h, c  = LSTM(concat(x_t, attention_{t-1}), (h, c))        # input feeding
        score = sum(g * v / |v| * tanh(keys + W_q h + b), -1)     # masked to -inf on padding
        attention_t = softmax(score) . memory
    The output is concat(h, attention_t), which is exactly the input gnmt_v2 feeds to decoder
    layer 2. Constants: keys = memory_layer(memory) [B, S, A], memory [B, S, D], mask [B, S].
    """

    def __init__(self, units, attention_units, memory_units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.attention_units = int(attention_units)
        self.memory_units = int(memory_units)
        self.lstm = L.LSTMCell(self.units, kernel_initializer=_uniform(),
                               recurrent_initializer=_uniform(), unit_forget_bias=True,
                               name="basic_lstm_cell")
        self.query_layer = L.Dense(self.attention_units, use_bias=False,
                                   kernel_initializer=_uniform(), name="query_layer")
        self.state_size = [self.units, self.units, self.memory_units]
        self.output_size = self.units + self.memory_units

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        self.lstm.build((None, input_dim + self.memory_units))
        self.query_layer.build((None, self.units))
        self.attention_v = self.add_weight(
            name="attention_v", shape=(self.attention_units,),
            initializer=_uniform())
        self.attention_g = self.add_weight(
            name="attention_g", shape=(),
            initializer=keras.initializers.Constant(math.sqrt(1.0 / self.attention_units)))
        self.attention_b = self.add_weight(
            name="attention_b", shape=(self.attention_units,), initializer="zeros")
        self.built = True

    def call(self, inputs, states, constants=None):
        h, c, attention = states[0], states[1], states[2]
        keys, memory, mask = constants[0], constants[1], constants[2]
        cell_input = tf.concat([inputs, attention], axis=-1)
        output, (h, c) = self.lstm(cell_input, [h, c])
        query = tf.expand_dims(self.query_layer(output), 1)
        normed_v = self.attention_g * self.attention_v * tf.math.rsqrt(
            tf.reduce_sum(tf.square(self.attention_v)))
        score = tf.reduce_sum(normed_v * tf.tanh(keys + query + self.attention_b), axis=2)
        score = score + (1.0 - mask) * -1e9
        alignments = tf.nn.softmax(score, axis=-1)
        attention = tf.reduce_sum(tf.expand_dims(alignments, 2) * memory, axis=1)
        return tf.concat([output, attention], axis=-1), [h, c, attention]

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "attention_units": self.attention_units,
                       "memory_units": self.memory_units})
        return config


@keras.utils.register_keras_serializable(package="artifact")
class SliceLast(keras.layers.Layer):
    """x[..., begin:begin + size] (splits the attention cell's concat(h, attention))."""

    def __init__(self, begin, size, **kwargs):
        super().__init__(**kwargs)
        self.begin = int(begin)
        self.size = int(size)
        self.supports_masking = True

    def call(self, inputs):
        return inputs[..., self.begin:self.begin + self.size]

    def get_config(self):
        config = super().get_config()
        config.update({"begin": self.begin, "size": self.size})
        return config


@keras.utils.register_keras_serializable(package="artifact")
class SequenceMask(keras.layers.Layer):
    """Float [batch, time] mask of a sequence (its Keras mask, or all ones without one)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return tf.ones(tf.shape(inputs)[:2], dtype=inputs.dtype)
        return tf.cast(mask, inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.utils.register_keras_serializable(package="artifact")
class ZeroState(keras.layers.Layer):
    """Zeros [batch, units] (the initial attention vector of AttentionWrapper)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def call(self, inputs):
        return tf.zeros(tf.stack([tf.shape(inputs)[0], self.units]), dtype=inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


CUSTOM_OBJECTS = {
    "NormedBahdanauAttentionCell": NormedBahdanauAttentionCell,
    "SliceLast": SliceLast,
    "SequenceMask": SequenceMask,
    "ZeroState": ZeroState,
}
"""Custom layers of the GNMT model (also registered as "artifact>Name" for Keras loading)."""

WMT16_GNMT_4_LAYER = {"src_vocab_size": 36549, "tgt_vocab_size": 36549, "num_units": 1024,
                      "num_layers": 4, "dropout": 0.2}
"""nmt/standard_hparams/wmt16_gnmt_4_layer.json, with the BPE vocabulary size of both sides."""


def gnmt_param_count(src_vocab_size, tgt_vocab_size, num_units, num_layers):
    # type: (int, int, int, int) -> int
    """Trainable parameters of `gnmt` (equal to tensorflow/nmt's GNMT with the same hparams)."""
    h = num_units

    def lstm(input_dim):
        return 4 * h * (input_dim + h) + 4 * h

    embeddings = (src_vocab_size + tgt_vocab_size) * h
    encoder = 2 * lstm(h) + lstm(2 * h) + (num_layers - 2) * lstm(h)
    decoder = num_layers * lstm(2 * h)
    attention = 2 * h * h + 2 * h + 1  # memory & query layers, v, b, g
    projection = h * tgt_vocab_size
    return embeddings + encoder + decoder + attention + projection


def gnmt(src_vocab_size=36549, tgt_vocab_size=36549, num_units=1024, num_layers=4, dropout=0.2,
         mask_zero=False):
    # type: (int, int, int, int, float, bool) -> keras.Model
    """tensorflow/nmt GNMT (encoder_type=gnmt, attention=normed_bahdanau, gnmt_v2), teacher-forced.

    `mask_zero=True` treats token id 0 as padding (masked in the encoder, the attention and the
    decoder); nmt itself pads with </s> and passes sequence lengths instead.
    """
    if num_layers < 2:
        raise ConfigError("gnmt num_layers must be >= 2 (one bidirectional + unidirectional "
                          f"layers), got {num_layers}")
    h = num_units

    def lstm(name):
        return L.LSTM(h, return_sequences=True, return_state=True, dropout=dropout,
                      kernel_initializer=_uniform(), recurrent_initializer=_uniform(),
                      unit_forget_bias=True,
                      name=keras_name(name))

    source = L.Input((None,), dtype="int32", name="source")
    target = L.Input((None,), dtype="int32", name="target_input")
    src_emb = L.Embedding(src_vocab_size, h, embeddings_initializer=_uniform(), mask_zero=mask_zero,
                          name=keras_name("embeddings/encoder/embedding_encoder"))(source)
    tgt_emb = L.Embedding(tgt_vocab_size, h, embeddings_initializer=_uniform(), mask_zero=mask_zero,
                          name=keras_name("embeddings/decoder/embedding_decoder"))(target)

    # Encoder: 1 bidirectional layer, then num_layers - 1 unidirectional layers; residual
    # connections on all unidirectional layers but the first (its input is 2h wide).
    enc = "dynamic_seq2seq/encoder/"
    bi_layer = L.Bidirectional(
        L.LSTM(h, return_sequences=True, return_state=True, dropout=dropout,
               kernel_initializer=_uniform(), recurrent_initializer=_uniform(),
               unit_forget_bias=True),
        merge_mode="concat", name=keras_name(enc + "bidirectional_rnn"))
    x, _fw_h, _fw_c, bw_h, bw_c = bi_layer(src_emb)
    encoder_states = [[bw_h, bw_c]]
    for i in range(num_layers - 1):
        y, state_h, state_c = lstm(enc + f"rnn/multi_rnn_cell/cell_{i}")(x)
        if i >= 1:
            y = L.Add(name=keras_name(enc + f"rnn/multi_rnn_cell/cell_{i}/residual"))(
                [y, x])
        x = y
        encoder_states.append([state_h, state_c])
    memory = x

    # Decoder: attention cell (bottom layer) + num_layers - 1 LSTMs fed concat(x, attention);
    # residual on layers i >= 2 (nmt: num_decoder_residual_layers = num_layers - 2).
    dec = "dynamic_seq2seq/decoder/"
    keys = L.Dense(h, use_bias=False, kernel_initializer=_uniform(),
                   name=keras_name(dec + "memory_layer"))(memory)
    memory_mask = SequenceMask(name=keras_name(dec + "memory_mask"))(memory)
    attention_0 = ZeroState(h, name=keras_name(dec + "initial_attention"))(memory)
    # nmt drops the whole cell input (embedding and fed-back attention); here only the embedding.
    bottom = L.Dropout(dropout, name=keras_name(dec + "multi_rnn_cell/cell_0_attention/dropout"))(
        tgt_emb)
    cell = NormedBahdanauAttentionCell(h, h, h, name="attention")
    bottom = L.RNN(cell, return_sequences=True,
                   name=keras_name(dec + "multi_rnn_cell/cell_0_attention"))(
        bottom, initial_state=encoder_states[0] + [attention_0],
        constants=[keys, memory, memory_mask])
    x = SliceLast(0, h, name=keras_name(dec + "multi_rnn_cell/cell_0_attention/output"))(bottom)
    attention = SliceLast(h, h, name=keras_name(dec + "multi_rnn_cell/cell_0_attention/"
                                                      "attention"))(bottom)
    for i in range(1, num_layers):
        scope = dec + f"multi_rnn_cell/cell_{i}"
        cell_input = bottom if i == 1 else L.Concatenate(name=keras_name(scope + "/concat"))(
            [x, attention])
        y = lstm(scope)(cell_input, initial_state=encoder_states[i])[0]
        if i >= 2:
            y = L.Add(name=keras_name(scope + "/residual"))([y, x])
        x = y
    logits = L.Dense(tgt_vocab_size, use_bias=False, kernel_initializer=_uniform(),
                     name=keras_name(dec + "output_projection"))(x)
    return keras.Model([source, target], logits, name="gnmt")


# --------------------------------------------------------------------------- registry


def _resnet_builder(layers):
    def build(**kwargs):
        return resnet_v1(layers, **kwargs)
    return build


def _vgg_builder(layers):
    def build(**kwargs):
        return vgg(layers, **kwargs)
    return build


_BUILDERS = {
    "nmt": gnmt, "inception_v1": inception_v1, "inception_v2": inception_v2, "inception_v3": inception_v3,
    "inception_v4": inception_v4, "resnet_v1_50": _resnet_builder(50), "resnet_v1_101": _resnet_builder(101),
    "resnet_v1_152": _resnet_builder(152), "vgg_16": _vgg_builder(16), "vgg_19": _vgg_builder(19),
    "mobilenet_v1": mobilenet_v1,
}

# Table I's rows (artifact.core.catalog, data without Keras) with their builders attached.
PAPER_MODELS = collections.OrderedDict(
    (name, ModelInfo(*(row[:2] + (_BUILDERS[name],) + row[2:]))) for name, row in TABLE_I.items())


def build_paper_model(name, **kwargs):
    # type: (str, **object) -> keras.Model
    """Build a Table I model with random weights (never downloads); kwargs go to its builder."""
    if name not in PAPER_MODELS:
        raise ConfigError("unknown paper model {!r}; valid names: {}".format(
            name, ", ".join(PAPER_MODELS)))
    return PAPER_MODELS[name].builder(**kwargs)


# --------------------------------------------------------------------------- counting


def count_params(model):
    # type: (keras.Model) -> int
    """Trainable parameters, as TF-Slim counts them (BatchNorm moving statistics excluded)."""
    seen = set()
    total = 0
    for weight in model.trainable_weights:
        if id(weight) in seen:
            continue
        seen.add(id(weight))
        total += int(weight.shape.num_elements())
    return total


_RECURRENT_TYPES = (L.RNN, L.Bidirectional)


def _has_kernel(layer):
    # type: (keras.layers.Layer) -> bool
    for weight in layer.weights:
        if weight.name.split("/")[-1].split(":")[0].endswith("kernel"):
            return True
    return False


def _producers(layer, first_input_only):
    # type: (keras.layers.Layer, bool) -> list
    """Layers whose outputs feed `layer` (only its sequence input when `first_input_only`)."""
    result = []
    for node in layer._inbound_nodes:  # pylint: disable=protected-access
        if first_input_only:
            tensors = tf.nest.flatten(node.call_args[0])[:1] if node.call_args else []
        else:
            tensors = tf.nest.flatten(node.keras_inputs)
        for tensor in tensors:
            history = getattr(tensor, "_keras_history", None)
            if history is not None:
                result.append(history.layer)
    return result


def depth(model):
    # type: (keras.Model) -> int
    """Weight layers on the longest input-to-output path (see the module docstring for the rule)."""
    layers = list(model.layers)
    recurrent = any(isinstance(layer, _RECURRENT_TYPES) for layer in layers)

    def weight(layer):
        if recurrent:
            return 1 if isinstance(layer, _RECURRENT_TYPES) else 0
        return 1 if _has_kernel(layer) else 0

    members = {id(layer) for layer in layers}
    parents = {}
    children = collections.defaultdict(list)
    for layer in layers:
        ups = [p for p in _producers(layer, recurrent and isinstance(layer, _RECURRENT_TYPES))
               if id(p) in members]
        parents[id(layer)] = ups
        for parent in ups:
            children[id(parent)].append(layer)
    pending = {id(layer): len(parents[id(layer)]) for layer in layers}
    ready = [layer for layer in layers if pending[id(layer)] == 0]
    longest = {}  # type: Dict[int, int]
    while ready:
        layer = ready.pop()
        best = max([longest[id(p)] for p in parents[id(layer)]] or [0])
        longest[id(layer)] = best + weight(layer)
        for child in children[id(layer)]:
            pending[id(child)] -= 1
            if pending[id(child)] == 0:
                ready.append(child)
    outputs = [t._keras_history.layer for t in model.outputs]  # pylint: disable=protected-access
    return max(longest.get(id(layer), 0) for layer in outputs)


def end_point_shapes(model, names):
    # type: (keras.Model, list) -> dict
    """Static output shapes of layers given by TF-Slim scope, e.g. "InceptionV3/Mixed_7c/concat"."""
    result = {}
    for name in names:
        result[name] = tuple(model.get_layer(keras_name(name)).output.shape.as_list())
    return result


__all__ = [
    "CUSTOM_OBJECTS",
    "PAPER_MODELS",
    "SCOPE_SEP",
    "WMT16_GNMT_4_LAYER",
    "ModelInfo",
    "build_paper_model",
    "count_params",
    "depth",
    "end_point_shapes",
    "gnmt",
    "gnmt_param_count",
    "inception_v1",
    "inception_v2",
    "inception_v3",
    "inception_v4",
    "keras_name",
    "mobilenet_v1",
    "resnet_v1",
    "slim_scope",
    "slim_variable_map",
    "vgg",
]
