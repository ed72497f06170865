"""Keras 2 API on every TensorFlow the artifact supports: tf_keras on TF >= 2.16, tf.keras below.

TF 2.7 (Jetson TX2, JetPack 4.6) ships Keras 2 as `tf.keras`; TF >= 2.16 ships Keras 3 there and
the Keras 2 API lives in the `tf_keras` package. Import Keras only from here.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402


def _tf_version():
    parts = tf.__version__.split(".")
    return int(parts[0]), int(parts[1])


if _tf_version() >= (2, 16):
    import tf_keras as keras  # noqa: F401
else:  # pragma: no cover - exercised on the Jetson images
    keras = tf.keras

__all__ = ["keras", "tf"]
