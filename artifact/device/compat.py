"""Keras 2 API on every TensorFlow the artifact supports: tf_keras on TF >= 2.16, tf.keras below.

TF 2.7 (Jetson TX2, JetPack 4.6) ships Keras 2 as `tf.keras`; TF >= 2.16 ships Keras 3 there and
the Keras 2 API lives in the `tf_keras` package. Import Keras only from here.
"""
import os
import sys
import tempfile

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly():
    """Import TF with file descriptor 2 parked: its C++ start-up banner (absl "All log messages
    before absl::InitializeLog()", oneDNN and CUDA-stub notices) ignores TF_CPP_MIN_LOG_LEVEL and
    would break the one-line error messages of the command line. Shown again if the import fails."""
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr descriptor
        import tensorflow
        return tensorflow
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tensorflow


tf = _import_tensorflow_quietly()


def _tf_version():
    parts = tf.__version__.split(".")
    return int(parts[0]), int(parts[1])


if _tf_version() >= (2, 16):
    import tf_keras as keras  # noqa: F401
else:  # pragma: no cover - exercised on the Jetson images
    keras = tf.keras



def set_random_seed(seed):
    # type: (int) -> None
    """Seed Python, NumPy and TensorFlow: `keras.utils.set_random_seed` where it exists (Keras >= 2.7),
    the same three calls below (TF 2.6, the newest PyPI TensorFlow for the TX2's Python 3.6)."""
    if hasattr(keras.utils, "set_random_seed"):
        keras.utils.set_random_seed(seed)
        return
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)


def error_line(error, limit=200):
    # type: (BaseException, int) -> str
    """An exception's message as one line for a user error: TensorFlow's node and op decorations ({{...}},
    [[...]], [Op:...], a trailing "name:") removed, whitespace collapsed, cut at `limit` characters."""
    import re

    text = getattr(error, "message", None) or str(error)
    text = re.sub(r"\{\{[^}]*\}\}|\[\[[^\]]*\]\]|\[Op:[^\]]*\]|\bname:\s*$", "", text)
    return " ".join(text.split())[:limit]


__all__ = ["error_line", "keras", "set_random_seed", "tf"]
