"""Mixed bit widths per layer, chosen by measured sensitivity (beyond the paper: its §V asks for "wider
widths for more important weights").

Each quantizable layer's sensitivity is measured by what decides top-1: with that layer alone at
`low_bits` (the others fp32), the mean loss of decision margin on held-out images (images the model was
not trained on), the margin being the log-probability of the fp32 model's own top-1 class minus the
largest other one (a loss is counted where the margin shrinks; a flipped decision counts its whole
margin and more). Label-free: the fp32 model's decisions are the reference, so the test labels are never
read. The layers go to `low_bits` in order of that loss per bit saved (loss / (weights x (bits -
low_bits))) while their weights stay within `low_fraction` of the quantizable weights; a layer that does
not fit is skipped and the fill goes on with the next. Deterministic for the same model and inputs. The
chosen widths are in the model file (each quantized layer's `bits`), so storage packs each layer to its
own width.
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


def _log_scores(model, inputs):
    # type: (Any, Sequence[Any]) -> np.ndarray
    """One row of log-probabilities per input (a softmax output is logged; anything else is taken as logits)."""
    rows = np.concatenate([np.asarray(model(x, training=False), dtype=np.float64).reshape(1, -1) for x in inputs])
    if np.all(rows >= 0.0) and np.allclose(rows.sum(axis=1), 1.0, atol=1e-3):
        return np.log(np.maximum(rows, 1e-12))
    top = rows.max(axis=1, keepdims=True)
    return rows - top - np.log(np.sum(np.exp(rows - top), axis=1, keepdims=True))


def margins(scores, classes):
    # type: (np.ndarray, np.ndarray) -> np.ndarray
    """Log-score of `classes` minus the largest other one, per row (negative: the decision flipped)."""
    rows = np.arange(len(classes))
    chosen = scores[rows, classes]
    others = scores.copy()
    others[rows, classes] = -np.inf
    return chosen - others.max(axis=1)


def sensitivities(model, low_bits, inputs):
    # type: (Any, int, Sequence[Any]) -> Dict[str, float]
    """layer name -> mean loss of the fp32 decision's margin on `inputs` with that layer alone at `low_bits`."""
    reference = _log_scores(model, inputs)
    classes = reference.argmax(axis=1)
    before = margins(reference, classes)
    out = {}
    for name, _ in quantizable_layers(model):
        layer = model.get_layer(name)
        saved = [k.numpy() for k in kernels_of(layer)]
        for kernel, value in zip(kernels_of(layer), saved):
            kernel.assign(dequantize_array(*quantize_array(value, low_bits)))
        out[name] = float(np.mean(np.maximum(0.0, before - margins(_log_scores(model, inputs), classes))))
        for kernel, value in zip(kernels_of(layer), saved):
            kernel.assign(value)
    return out


def per_bit_saved(layers, sensitivity, bits, low_bits):
    # type: (Sequence[Tuple[str, int]], Dict[str, float], int, int) -> Dict[str, float]
    """layer -> its sensitivity per bit it saves at `low_bits` (weights x (bits - low_bits))."""
    return {name: sensitivity[name] / float(max(1, count * (bits - low_bits))) for name, count in layers}


def choose_widths(layers, sensitivity, bits, low_bits, low_fraction):
    # type: (Sequence[Tuple[str, int]], Dict[str, float], int, int, float) -> Dict[str, int]
    """layer -> bits: the least sensitive first at `low_bits` while their weights stay within `low_fraction`;
    a layer that does not fit is skipped and the fill goes on with the next, less sensitive-first."""
    total = float(sum(n for _, n in layers)) or 1.0
    widths, taken = {name: bits for name, _ in layers}, 0
    for name, count in sorted(layers, key=lambda item: (sensitivity[item[0]], item[0])):
        if (taken + count) / total > low_fraction:
            continue
        widths[name] = low_bits
        taken += count
    return widths


def quantize_mixed(model, bits, low_bits, low_fraction, held_out_inputs):
    # type: (Any, int, int, float, Sequence[Any]) -> Any
    """`held_out_inputs`: images the model was not trained on, batch size 1 (their labels are not needed)."""
    check_bits(bits)
    check_bits(low_bits)
    if not held_out_inputs:
        raise UnsupportedError("mixed widths need held-out inputs to measure each layer's sensitivity")
    from artifact.device.compat import keras

    work = keras.Model.from_config(model.get_config())  # measured on a copy: the input model is untouched
    work.set_weights(model.get_weights())
    layers = quantizable_layers(work)
    if not layers:
        raise UnsupportedError("no layer with {} or more weights to quantize".format(MIN_ELEMENTS))
    measured = sensitivities(work, low_bits, held_out_inputs)
    widths = choose_widths(layers, per_bit_saved(layers, measured, bits, low_bits), bits, low_bits, low_fraction)
    return quantize_model(model, bits, widths)
