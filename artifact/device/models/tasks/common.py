"""What every task shares."""
from artifact.device.compat import tf


def image_predict_fn(model):
    """One inference on a batch of images: a LiteRT model is already callable, a Keras model is
    wrapped in a tf.function."""
    if getattr(model, "is_litert", False):
        return model
    return tf.function(lambda x: model(x, training=False))
