"""Today's post-training quantization, beside the paper's: LiteRT (ai-edge-litert) variants.

Beyond the paper. The question a 2026 reader asks is whether "quantized is slower" still holds.
Four LiteRT conversions of the same trained Keras model (TFLiteConverter):

    fp32      no optimization: the LiteRT reference point
    dynamic   dynamic-range int8: int8 weights; activations quantized on the fly at every
              inference (hybrid kernels), float outputs
    float16   float16 weights, dequantized to fp32 once when the interpreter is prepared
    int8      full-integer int8: weights and activations int8, activation ranges calibrated on
              real samples of the task (`calibration_inputs`); float input/output kept

The deployable file is the `.tflite` flatbuffer. Inference runs in the LiteRT interpreter
(`ai_edge_litert`, or `tf.lite.Interpreter` on TensorFlow builds that have no separate package,
e.g. the Jetson TX2's TF 2.7) with its default XNNPACK delegate. `LiteRTModel.op_summary` says
which operators the delegate took and which stayed on the interpreter's own kernels: that is the
measured reason one variant is faster than another (e.g. hybrid dynamic-range kernels that the
delegate does not take run on slower built-in kernels).
"""
import collections
import os
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.atomic import write_atomic
from artifact.core.errors import UnsupportedError
from artifact.core.techniques import LITERT_MODES

MODES = LITERT_MODES  # the technique registry's choices
CALIBRATION_SAMPLES = 32


def check_mode(mode):
    # type: (str) -> str
    if mode not in MODES:
        raise UnsupportedError("LiteRT mode must be one of {}, got {!r}".format(", ".join(MODES), mode))
    return mode


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - TF builds without ai-edge-litert (Jetson TX2)
        from artifact.device.compat import tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


class LiteRTVariant(object):
    """A converted model before it is written: the flatbuffer bytes and how they were made."""

    def __init__(self, flatbuffer, mode, notes):
        # type: (bytes, str, Dict[str, Any]) -> None
        self.flatbuffer = flatbuffer
        self.mode = mode
        self.notes = notes


def convert(model, mode, calibration_inputs=None):
    # type: (Any, str, Optional[List[Any]]) -> LiteRTVariant
    """Convert a Keras model (single image input) to a LiteRT flatbuffer in `mode`; `model` is untouched."""
    import numpy as np

    from artifact.device.compat import tf

    check_mode(mode)
    if len(model.inputs) != 1:
        raise UnsupportedError("LiteRT conversion here takes single-input models; {} has {} inputs".format(
            model.name, len(model.inputs)))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    notes = {"mode": mode, "converter": "tf.lite.TFLiteConverter (TF {})".format(tf.__version__)}  # type: Dict[str, Any]
    if mode != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        samples = list(calibration_inputs or [])[:CALIBRATION_SAMPLES]
        if not samples:
            raise UnsupportedError("full-integer int8 needs calibration samples; the task gave none")
        converter.representative_dataset = lambda: ([np.asarray(x, dtype=np.float32)] for x in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        notes["calibration_samples"] = len(samples)
    try:
        flatbuffer = converter.convert()
    except Exception as exc:  # the converter raises many types; name the model and the mode
        raise UnsupportedError("LiteRT {} conversion of {} failed: {}".format(
            mode, model.name, str(exc).splitlines()[0][:300]))
    return LiteRTVariant(flatbuffer, mode, notes)


def save(variant, path):
    # type: (LiteRTVariant, str) -> int
    """Write the flatbuffer atomically; returns its size in bytes."""
    write_atomic(path, variant.flatbuffer)
    return os.path.getsize(path)


class LiteRTModel(object):
    """A `.tflite` file in the LiteRT interpreter, callable like a Keras model on a batch."""

    is_litert = True

    def __init__(self, path, num_threads=None):
        # type: (str, Optional[int]) -> None
        self.path = path
        self.num_threads = num_threads or os.cpu_count() or 1
        self.interpreter = _interpreter_class()(model_path=path, num_threads=self.num_threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self.name = os.path.basename(path)

    def _one(self, x):
        self.interpreter.set_tensor(self._input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"]).copy()

    def __call__(self, x, training=False):
        import numpy as np

        x = np.asarray(x, dtype=np.float32)
        if x.shape[0] == 1:
            return self._one(x)
        return np.concatenate([self._one(x[i:i + 1]) for i in range(x.shape[0])], axis=0)

    def predict(self, x, batch_size=None, verbose=0):
        return self(x)

    def op_summary(self):
        # type: () -> Dict[str, int]
        """Operator counts of the model graph (DELEGATE: nodes XNNPACK took over, besides the originals)."""
        try:
            ops = self.interpreter._get_ops_details()  # pylint: disable=protected-access
        except AttributeError:  # pragma: no cover - older interpreters
            return {}
        return dict(collections.Counter(op["op_name"] for op in ops))


def load(path):
    # type: (str) -> LiteRTModel
    return LiteRTModel(path)
