"""The paper's techniques behind one call: a model and a setting in, a new model out.

    baseline        the trained fp32 model, unchanged
    quantize        {bits}: k-bit weights, dequantized at run time (no retraining)
    prune           {threshold}: L1 filter/neuron removal, then fine-tuning
    quantize_prune  {bits, threshold}: k-bit quantization first, then pruning of the quantized
                    weights, fine-tuning, and the result stored again in k bits (paper §IV-J order)

The fine-tuning of prune and quantize_prune is not done here: `pruned_for_fine_tuning` gives the model
the retraining step (artifact.device.train) fine-tunes, `apply_technique` takes the fine-tuned result
through `fine_tuned` (a model package, artifact.core.packages) and finishes the technique.
    magnitude_prune {sparsity}: TF-MOT's unstructured magnitude pruning (prune_low_magnitude,
                    strip_pruning), the contrast to the paper's structured pruning: the zeros
                    stay in a dense model of the same size and speed unless the file is compressed
    litert          {mode}: beyond the paper, a LiteRT conversion (fp32, dynamic, float16, int8);
                    returns a `litert.LiteRTVariant` deployed as a .tflite file
    prune_blocks    {first, middle, last}: beyond the paper, prune with its own fraction in each third
                    of the prunable layers (input to output), then fine-tuning
    prune_litert    {threshold, mode}: beyond the paper, prune's fine-tuned model (physically fewer
                    channels) converted as litert's: a speed-up on the same runtime as litert alone

The input model is never modified; the same seed gives the same result. Each technique's row in
artifact.core.techniques names its function here (`compress`); `apply_technique` calls it.
"""
from artifact.core.errors import ConfigError
from artifact.core.techniques import BLOCKS
from artifact.core.techniques import technique as technique_row
from artifact.device.compress.prune import check_block_fractions, check_threshold, prune_model
from artifact.device.compress.quantize import (
    MIN_ELEMENTS,
    QUANTIZED_LAYERS,
    check_bits,
    dequantize_array,
    kernels_of,
    quantize_array,
    quantize_model,
)

RETRAIN_EPOCHS = 3  # magnitude_prune's TF-MOT fine-tuning, in epochs of the task's training arrays
SENSITIVITY_SAMPLES = 64  # held-out images the mixed-width technique measures each layer's sensitivity on


def _setting(setting, key, technique):
    if key not in setting:
        raise ConfigError("technique {!r} needs setting {!r}, got {}".format(technique, key, setting))
    return setting[key]


def weights_through_quantizer(model, bits):
    """An fp32 copy of `model` whose quantizable kernels hold their k-bit dequantized values."""
    from artifact.device.compat import keras

    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    for layer in copy.layers:
        if type(layer).__name__ in QUANTIZED_LAYERS:
            kernels = kernels_of(layer)
            if max(int(k.shape.num_elements()) for k in kernels) >= MIN_ELEMENTS:
                for kernel in kernels:
                    kernel.assign(dequantize_array(*quantize_array(kernel.numpy(), bits)))
    return copy


def pruned_for_fine_tuning(technique, setting, model):
    """The pruned model of a prune / quantize_prune cell, before fine-tuning (the retraining step's input)."""
    if technique == "prune_blocks":
        return prune_model(model, check_block_fractions([_setting(setting, b, technique) for b in BLOCKS]))
    threshold = check_threshold(_setting(setting, "threshold", technique))
    if technique in ("prune", "prune_litert"):
        return prune_model(model, threshold)
    if technique == "quantize_prune":
        return prune_model(weights_through_quantizer(model, check_bits(_setting(setting, "bits", technique))),
                           threshold)
    raise AssertionError("{} is not fine-tuned after pruning".format(technique))


def apply_technique(technique, setting, model, task, retrain_epochs=RETRAIN_EPOCHS, fine_tuned=None):
    """`technique` applied to `model`, by the function its row names (`compress`). For prune / quantize_prune,
    `fine_tuned(pruned)` returns the fine-tuned model (from its package) or None, when none can be had here: the
    pruned model is then deployed as it is."""
    return compress_function(technique)(setting, model, task, retrain_epochs, fine_tuned)


def compress_function(technique):
    """The function `technique`'s row names ("module:function"), imported now (device imports stay lazy)."""
    import importlib

    module, _, name = technique_row(technique).compress.partition(":")  # raises for an unknown name
    return getattr(importlib.import_module(module), name)


# One function per technique, each (setting, model, task, retrain_epochs, fine_tuned) -> the deployed model.
def baseline(setting, model, task, retrain_epochs, fine_tuned):
    return model


def quantize(setting, model, task, retrain_epochs, fine_tuned):
    return quantize_model(model, check_bits(_setting(setting, "bits", "quantize")))


def _fine_tuned_pruning(technique, setting, model, fine_tuned):
    pruned = pruned_for_fine_tuning(technique, setting, model)
    tuned = fine_tuned(pruned) if fine_tuned is not None else None
    return pruned if tuned is None else tuned


def prune(setting, model, task, retrain_epochs, fine_tuned):
    return _fine_tuned_pruning("prune", setting, model, fine_tuned)


def quantize_prune(setting, model, task, retrain_epochs, fine_tuned):
    pruned = _fine_tuned_pruning("quantize_prune", setting, model, fine_tuned)
    return quantize_model(pruned, check_bits(_setting(setting, "bits", "quantize_prune")))


def quantize_mixed(setting, model, task, retrain_epochs, fine_tuned):
    from artifact.device.compress.mixed import quantize_mixed as mixed

    return mixed(model, setting["bits"], setting["low_bits"], setting["low_fraction"],
                 task.timing_inputs(SENSITIVITY_SAMPLES))  # held-out images (never trained on); labels unused


def magnitude_prune(setting, model, task, retrain_epochs, fine_tuned):
    from artifact.device.compress.sparsity import check_sparsity
    from artifact.device.compress.sparsity import magnitude_prune as prune_low_magnitude

    sparsity = check_sparsity(_setting(setting, "sparsity", "magnitude_prune"))
    data = task.training_arrays() if retrain_epochs else None
    return prune_low_magnitude(model, sparsity, finetune=data, epochs=retrain_epochs if data else 0)


def litert(setting, model, task, retrain_epochs, fine_tuned):
    from artifact.device.compress import litert as converter

    mode = converter.check_mode(_setting(setting, "mode", "litert"))
    calibration = task.calibration_inputs(converter.CALIBRATION_SAMPLES) if mode == "int8" else None
    return converter.convert(model, mode, calibration)


def prune_blocks(setting, model, task, retrain_epochs, fine_tuned):
    return _fine_tuned_pruning("prune_blocks", setting, model, fine_tuned)


def prune_litert(setting, model, task, retrain_epochs, fine_tuned):
    pruned = _fine_tuned_pruning("prune_litert", setting, model, fine_tuned)
    return litert({"mode": _setting(setting, "mode", "prune_litert")}, pruned, task, retrain_epochs, None)
