"""Mixed bit widths per layer, chosen by measured sensitivity (beyond the paper: its §V asks for "wider
widths for more important weights").

Each quantizable layer's sensitivity is measured: the model's outputs on real calibration inputs with
that layer alone at `low_bits` (the others fp32), as the relative squared error against the fp32
outputs. The least sensitive layers, taken in that order, go to `low_bits` until they hold
`low_fraction` of the quantizable weights; the rest stay at `bits`. Label-free, so it needs no
training data; deterministic for the same model and inputs. The chosen widths are in the model file
(each quantized layer's `bits`), so storage packs each layer to its own width.
"""
from typing import Any, Dict, List, Sequence, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import UnsupportedError
from artifact.device.compress.quantize import (
    MIN_ELEMENTS,
    QUANTIZED_LAYERS,
    check_bits,
    dequantize_array,
    kernels_of,
    quantize_array,
    quantize_model,
)


def quantizable_layers(model):
    # type: (Any) -> List[Tuple[str, int]]
    """(layer name, weights in its kernels) of every layer quantize_model turns into codes."""
    out = []
    for layer in model.layers:
        if type(layer).__name__ in QUANTIZED_LAYERS:
            kernels = kernels_of(layer)
            sizes = [int(np.prod(k.shape)) for k in kernels]
            if max(sizes) >= MIN_ELEMENTS:
                out.append((layer.name, sum(sizes)))
    return out


def _outputs(model, inputs):
    # type: (Any, Sequence[Any]) -> np.ndarray
    return np.concatenate([np.asarray(model(x, training=False)).reshape(1, -1) for x in inputs])


def sensitivities(model, low_bits, inputs):
    # type: (Any, int, Sequence[Any]) -> Dict[str, float]
    """layer name -> relative squared output error with that layer alone at `low_bits`."""
    reference = _outputs(model, inputs)
    scale = float(np.sum(reference ** 2)) or 1.0
    out = {}
    for name, _ in quantizable_layers(model):
        layer = model.get_layer(name)
        saved = [k.numpy() for k in kernels_of(layer)]
        for kernel, value in zip(kernels_of(layer), saved):
            kernel.assign(dequantize_array(*quantize_array(value, low_bits)))
        out[name] = float(np.sum((_outputs(model, inputs) - reference) ** 2)) / scale
        for kernel, value in zip(kernels_of(layer), saved):
            kernel.assign(value)
    return out


def choose_widths(layers, sensitivity, bits, low_bits, low_fraction):
    # type: (Sequence[Tuple[str, int]], Dict[str, float], int, int, float) -> Dict[str, int]
    """layer -> bits: the least sensitive first at `low_bits` while their weights stay within `low_fraction`;
    the first layer that does not fit ends it, so a more sensitive layer never goes low before a less one."""
    total = float(sum(n for _, n in layers)) or 1.0
    widths, taken = {name: bits for name, _ in layers}, 0
    for name, count in sorted(layers, key=lambda item: (sensitivity[item[0]], item[0])):
        if (taken + count) / total > low_fraction:
            break
        widths[name] = low_bits
        taken += count
    return widths


def quantize_mixed(model, bits, low_bits, low_fraction, calibration_inputs):
    # type: (Any, int, int, float, Sequence[Any]) -> Any
    check_bits(bits)
    check_bits(low_bits)
    if not calibration_inputs:
        raise UnsupportedError("mixed widths need calibration inputs to measure each layer's sensitivity")
    from artifact.device.compat import keras

    work = keras.Model.from_config(model.get_config())  # measured on a copy: the input model is untouched
    work.set_weights(model.get_weights())
    layers = quantizable_layers(work)
    if not layers:
        raise UnsupportedError("no layer with {} or more weights to quantize".format(MIN_ELEMENTS))
    widths = choose_widths(layers, sensitivities(work, low_bits, calibration_inputs), bits, low_bits, low_fraction)
    return quantize_model(model, bits, widths)
