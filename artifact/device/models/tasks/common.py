"""What every task shares."""
from artifact.device.compat import keras, tf


def image_predict_fn(model):
    """One inference on a batch of images: a LiteRT model is already callable, a Keras model is
    wrapped in a tf.function."""
    if getattr(model, "is_litert", False):
        return model
    return tf.function(lambda x: model(x, training=False))


class TrainingSource(object):
    """What a task trains a model on: batches, the loss of the model's outputs, and where the data came from.

    `dataset(batch_size, seed)` is a tf.data.Dataset, repeated, yielding (x, y, w): x the model's input(s),
    y the targets, w per-target weights (ones where every target counts). `loss(y, out, w)` is a scalar
    tensor. `index_sha256` identifies the data (the package's provenance says what a model was tuned on).
    """

    def __init__(self, dataset, loss, examples, description, path, index_sha256):
        self.dataset = dataset
        self.loss = loss
        self.examples = examples            # per epoch (None: unknown without a full pass)
        self.description = description
        self.path = path
        self.index_sha256 = index_sha256


def arrays_sha256(*arrays):
    """The sha256 of arrays' bytes (bundled data sets: the data are the index)."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def array_dataset(x, y, w, batch_size, seed):
    """Shuffled (each pass anew, seeded), repeated batches of in-memory arrays, as Keras' fit(shuffle=True) feeds."""
    data = tf.data.Dataset.from_tensor_slices((x, y, w))
    return data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size).prefetch(2)


def classification_loss(from_logits):
    """Mean sparse cross-entropy over the batch, weighted."""
    def loss(y, out, w):
        ce = keras.losses.sparse_categorical_crossentropy(y, out, from_logits=from_logits)
        return tf.reduce_sum(ce * tf.cast(w, ce.dtype)) / tf.cast(tf.size(ce), ce.dtype)
    return loss
