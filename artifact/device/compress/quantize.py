"""Post-training weight quantization to k bits, dequantized at run time inside the graph.

As TensorFlow 1.x's `quantize_weights` graph transform did (tools/graph_transforms): every float
weight tensor of at least `MIN_ELEMENTS` elements is stored as k-bit unsigned integers plus its
minimum and maximum (range widened to contain 0), linear "MIN_FIRST" mapping; the model keeps
computing in fp32, and a dequantization (`cast(q) * scale + min`) runs ahead of each convolution
and matrix multiply on every inference, under the `dequantize` name scope. The integers are kept
in uint8 (k <= 8) or uint16 (k <= 16) variables at run time, and bit-packed to k bits on disk.
"""

from typing import Dict, List, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import UnsupportedError
from artifact.core.techniques import BITS
from artifact.device.compat import keras, tf

MIN_ELEMENTS = 1024  # quantize_weights' default minimum_size
SUPPORTED_BITS = tuple(range(BITS.low, BITS.high + 1))  # the technique registry's range (2..16)


def check_bits(bits):
    if not isinstance(bits, int) or bits not in SUPPORTED_BITS:
        raise UnsupportedError("quantization bits must be an integer from {} to {}, got {!r}".format(
            SUPPORTED_BITS[0], SUPPORTED_BITS[-1], bits))
    return bits


def quantize_array(w, bits):
    # type: (np.ndarray, int) -> Tuple[np.ndarray, float, float]
    """k-bit codes, minimum and scale of one tensor (range forced to contain 0, as TF 1.x did)."""
    check_bits(bits)
    w = np.asarray(w, np.float32)
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    if hi == lo:
        hi = lo + 1.0
    levels = (1 << bits) - 1
    scale = (hi - lo) / levels
    dtype = np.uint8 if bits <= 8 else np.uint16
    codes = np.empty(w.shape, dtype)
    # chunked so that a 100M-weight tensor needs no float64 copy of itself
    flat_w, flat_c = w.reshape(-1), codes.reshape(-1)
    step = 1 << 22
    for start in range(0, flat_w.size, step):
        chunk = (flat_w[start:start + step] - np.float32(lo)) / np.float32(scale)
        flat_c[start:start + step] = np.clip(np.rint(chunk), 0, levels).astype(dtype)
    return codes, lo, scale


def dequantize_array(codes, minimum, scale):
    return codes.astype(np.float32) * np.float32(scale) + np.float32(minimum)


def _storage_dtype(bits):
    return tf.uint8 if bits <= 8 else tf.uint16


class _DequantizingMixin(object):
    """Holds `kernel` as k-bit codes + min + scale and rebuilds it in fp32 on every call."""

    def _add_quantized_kernel(self, shape):
        self.kernel_codes = self.add_weight(
            name="kernel_codes", shape=shape, dtype=_storage_dtype(self.bits),
            initializer="zeros", trainable=False)
        self.kernel_min = self.add_weight(name="kernel_min", shape=(), initializer="zeros",
                                          trainable=False)
        self.kernel_scale = self.add_weight(name="kernel_scale", shape=(), initializer="ones",
                                            trainable=False)

    def _dequantized_kernel(self):
        with tf.name_scope("dequantize"):
            return tf.cast(self.kernel_codes, tf.float32) * self.kernel_scale + self.kernel_min

    def _finish(self, y):
        if self.use_bias:
            y = tf.nn.bias_add(y, self.bias)
        return self.activation(y) if self.activation is not None else y

    def get_config(self):
        config = super(_DequantizingMixin, self).get_config()
        config["bits"] = self.bits
        return config


class QuantizedConv2D(_DequantizingMixin, keras.layers.Conv2D):
    def __init__(self, bits=8, **kwargs):
        super(QuantizedConv2D, self).__init__(**kwargs)
        self.bits = check_bits(bits)

    def build(self, input_shape):
        if self.groups != 1 or self.data_format != "channels_last":
            raise UnsupportedError("layer {}: quantized Conv2D needs groups=1 and channels_last".format(
                self.name))
        channels = int(input_shape[-1])
        self._add_quantized_kernel(tuple(self.kernel_size) + (channels, self.filters))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.built = True

    def call(self, inputs):
        padding = self.padding.upper()
        if padding == "CAUSAL":
            raise UnsupportedError("layer {}: causal padding is not supported".format(self.name))
        y = tf.nn.conv2d(inputs, self._dequantized_kernel(), strides=self.strides, padding=padding,
                         dilations=self.dilation_rate)
        return self._finish(y)


class QuantizedDepthwiseConv2D(_DequantizingMixin, keras.layers.DepthwiseConv2D):
    def __init__(self, bits=8, **kwargs):
        super(QuantizedDepthwiseConv2D, self).__init__(**kwargs)
        self.bits = check_bits(bits)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self._add_quantized_kernel(tuple(self.kernel_size) + (channels, self.depth_multiplier))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(channels * self.depth_multiplier,),
                                        initializer="zeros")
        self.built = True

    def call(self, inputs):
        strides = (1,) + tuple(self.strides) + (1,)
        y = tf.nn.depthwise_conv2d(inputs, self._dequantized_kernel(), strides=strides,
                                   padding=self.padding.upper(), dilations=self.dilation_rate)
        return self._finish(y)


class QuantizedDense(_DequantizingMixin, keras.layers.Dense):
    def __init__(self, bits=8, **kwargs):
        super(QuantizedDense, self).__init__(**kwargs)
        self.bits = check_bits(bits)

    def build(self, input_shape):
        self._add_quantized_kernel((int(input_shape[-1]), self.units))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.built = True

    def call(self, inputs):
        kernel = self._dequantized_kernel()
        if inputs.shape.rank == 2:
            y = tf.matmul(inputs, kernel)
        else:
            y = tf.tensordot(inputs, kernel, [[inputs.shape.rank - 1], [0]])
        return self._finish(y)


class QuantizedSeparableConv2D(_DequantizingMixin, keras.layers.SeparableConv2D):
    """slim.separable_conv2d with both kernels as k-bit codes (Inception v2's first layer).

    Both kernels are quantized when either reaches MIN_ELEMENTS (they always come together)."""

    def __init__(self, bits=8, **kwargs):
        super(QuantizedSeparableConv2D, self).__init__(**kwargs)
        self.bits = check_bits(bits)

    def _codes(self, prefix, shape):
        codes = self.add_weight(name=prefix + "_codes", shape=shape, dtype=_storage_dtype(self.bits),
                                initializer="zeros", trainable=False)
        low = self.add_weight(name=prefix + "_min", shape=(), initializer="zeros", trainable=False)
        scale = self.add_weight(name=prefix + "_scale", shape=(), initializer="ones", trainable=False)
        return codes, low, scale

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.depthwise_codes, self.depthwise_min, self.depthwise_scale = self._codes(
            "depthwise", tuple(self.kernel_size) + (channels, self.depth_multiplier))
        self.pointwise_codes, self.pointwise_min, self.pointwise_scale = self._codes(
            "pointwise", (1, 1, channels * self.depth_multiplier, self.filters))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.built = True

    def call(self, inputs):
        with tf.name_scope("dequantize"):
            depthwise = tf.cast(self.depthwise_codes, tf.float32) * self.depthwise_scale + self.depthwise_min
            pointwise = tf.cast(self.pointwise_codes, tf.float32) * self.pointwise_scale + self.pointwise_min
        y = tf.nn.separable_conv2d(inputs, depthwise, pointwise, strides=(1,) + tuple(self.strides) + (1,),
                                   padding=self.padding.upper(), dilations=self.dilation_rate)
        return self._finish(y)

    def quantized_slots(self):
        return [(self.depthwise_codes, self.depthwise_min, self.depthwise_scale),
                (self.pointwise_codes, self.pointwise_min, self.pointwise_scale)]


QUANTIZED_LAYERS = {
    "Conv2D": QuantizedConv2D,
    "DepthwiseConv2D": QuantizedDepthwiseConv2D,
    "Dense": QuantizedDense,
    "SeparableConv2D": QuantizedSeparableConv2D,
}
CUSTOM_OBJECTS = {cls.__name__: cls for cls in QUANTIZED_LAYERS.values()}
WEIGHTED_LAYERS_LEFT_IN_FP32 = ("BatchNormalization",)  # small vectors, as in quantize_weights


def kernels_of(layer):
    """The fp32 kernels a layer of QUANTIZED_LAYERS keeps (two for a separable convolution)."""
    name = type(layer).__name__
    if name == "DepthwiseConv2D":
        return [layer.depthwise_kernel]
    if name == "SeparableConv2D":
        return [layer.depthwise_kernel, layer.pointwise_kernel]
    return [layer.kernel]


def _slots(layer):
    """(codes, min, scale) variables of a quantized layer, in the order of `kernels_of`."""
    if hasattr(layer, "quantized_slots"):
        return layer.quantized_slots()
    return [(layer.kernel_codes, layer.kernel_min, layer.kernel_scale)]


def quantize_model(model, bits, layer_bits=None):
    """A new model whose large Conv2D/Depthwise/Dense kernels are k-bit codes; the input is untouched.

    `layer_bits` (layer name -> bits) gives some layers another width than `bits` (mixed widths).
    """
    check_bits(bits)
    layer_bits = dict(layer_bits or {})
    for width in layer_bits.values():
        check_bits(width)
    config = model.get_config()
    chosen = {}  # type: Dict[str, List[Tuple[np.ndarray, float, float]]]
    for layer in model.layers:
        cls = type(layer).__name__
        if cls in CUSTOM_OBJECTS:
            raise UnsupportedError("layer {} is already quantized; quantize the fp32 model".format(layer.name))
        if not layer.weights or cls in WEIGHTED_LAYERS_LEFT_IN_FP32:
            continue
        if cls not in QUANTIZED_LAYERS:
            if any(int(np.prod(w.shape)) >= MIN_ELEMENTS for w in layer.weights) and cls not in ("Embedding",):
                raise UnsupportedError("layer {} ({}) has large weights but no quantized form; supported: {}".format(
                    layer.name, cls, ", ".join(sorted(QUANTIZED_LAYERS))))
            continue
        kernels = [k.numpy() for k in kernels_of(layer)]
        if max(k.size for k in kernels) >= MIN_ELEMENTS:
            chosen[layer.name] = [quantize_array(k, layer_bits.get(layer.name, bits)) for k in kernels]
    for entry in config["layers"]:
        if entry["config"]["name"] in chosen:
            entry["config"]["bits"] = layer_bits.get(entry["config"]["name"], bits)
            entry["class_name"] = QUANTIZED_LAYERS[entry["class_name"]].__name__
            entry.pop("module", None)  # Keras >= 2.13 serialization: resolve via custom_objects
            entry["registered_name"] = entry["class_name"]
    quantized = keras.Model.from_config(config, custom_objects=CUSTOM_OBJECTS)
    for layer in model.layers:
        new = quantized.get_layer(layer.name)
        if layer.name in chosen:
            for (codes, lo, scale), variables in zip(chosen[layer.name], _slots(new)):
                for variable, value in zip(variables, (codes, lo, scale)):
                    variable.assign(value)
            if layer.use_bias:
                new.bias.assign(layer.bias.numpy())
        elif layer.weights:
            new.set_weights(layer.get_weights())
    return quantized
