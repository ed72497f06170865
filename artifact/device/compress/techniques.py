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

The input model is never modified; the same seed gives the same result.
"""
from artifact.core.errors import ConfigError
from artifact.core.techniques import technique as technique_row
from artifact.device.compress.prune import check_threshold, prune_model
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
SENSITIVITY_SAMPLES = 32  # calibration inputs the mixed-width technique measures each layer's sensitivity on
# the techniques dispatched by apply_technique (tests/test_architecture.py: the same as artifact.core.techniques)
DISPATCHED = ("baseline", "quantize", "prune", "quantize_prune", "quantize_mixed", "magnitude_prune", "litert")


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
    threshold = check_threshold(_setting(setting, "threshold", technique))
    if technique == "prune":
        return prune_model(model, threshold)
    if technique == "quantize_prune":
        return prune_model(weights_through_quantizer(model, check_bits(_setting(setting, "bits", technique))),
                           threshold)
    raise AssertionError("{} is not fine-tuned after pruning".format(technique))


def apply_technique(technique, setting, model, task, retrain_epochs=RETRAIN_EPOCHS, fine_tuned=None):
    """`technique` applied to `model`. For prune / quantize_prune, `fine_tuned(pruned)` returns the fine-tuned
    model (from its package) or None, when none can be had here: the pruned model is then deployed as it is."""
    if technique == "baseline":
        return model
    if technique == "quantize":
        return quantize_model(model, check_bits(_setting(setting, "bits", technique)))
    if technique in ("prune", "quantize_prune"):
        pruned = pruned_for_fine_tuning(technique, setting, model)
        tuned = fine_tuned(pruned) if fine_tuned is not None else None
        pruned = pruned if tuned is None else tuned
        if technique == "prune":
            return pruned
        return quantize_model(pruned, check_bits(_setting(setting, "bits", technique)))
    if technique == "quantize_mixed":
        from artifact.device.compress.mixed import quantize_mixed

        return quantize_mixed(model, setting["bits"], setting["low_bits"], setting["low_fraction"],
                              task.calibration_inputs(SENSITIVITY_SAMPLES))
    if technique == "magnitude_prune":
        from artifact.device.compress.sparsity import check_sparsity, magnitude_prune

        sparsity = check_sparsity(_setting(setting, "sparsity", technique))
        data = task.training_arrays() if retrain_epochs else None
        return magnitude_prune(model, sparsity, finetune=data, epochs=retrain_epochs if data else 0)
    if technique == "litert":
        from artifact.device.compress import litert

        mode = litert.check_mode(_setting(setting, "mode", technique))
        calibration = task.calibration_inputs(litert.CALIBRATION_SAMPLES) if mode == "int8" else None
        return litert.convert(model, mode, calibration)
    technique_row(technique)  # raises for an unknown name
    raise AssertionError("technique {!r} is in artifact.core.techniques but has no dispatch here".format(technique))
