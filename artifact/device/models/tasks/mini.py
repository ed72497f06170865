"""Tasks of the mini-zoo: trained here on data shipped inside installed packages.

A task is the one place that knows how to feed a model. The runner asks a task for a trained
baseline, for fine-tuning after pruning, for real inputs to time, for a predict function of one
input, and for the accuracy metrics of a model.
"""


from typing import Any, Dict, List  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.device.compat import tf
from artifact.device.models.architectures import mini_zoo
from artifact.device.models.data import bundled as datasets
from artifact.device.models.tasks.common import (
    TrainingSource,
    array_dataset,
    arrays_sha256,
    classification_loss,
    image_predict_fn,
)


def _mini_retraining(examples, batch_size, learning_rate, epochs_scale):
    # type: (int, int, float, float) -> Dict[str, Any]
    """The mini-zoo's fine-tuning: Adam at a constant rate for FINE_TUNE_EPOCHS (x the profile's scale) passes."""
    per_epoch = -(-examples // batch_size)
    epochs = mini_zoo.scaled_epochs(mini_zoo.FINE_TUNE_EPOCHS, epochs_scale)
    return {"optimizer": "adam", "learning_rate": learning_rate, "batch_size": batch_size,
            "steps": epochs * per_epoch, "checkpoint_every": per_epoch, "clip_norm": 0.0, "seed": mini_zoo.SEED,
            "validation_samples": 0}


class ClassificationTask(object):
    kind = "classification"
    trains_baseline = True  # the baseline is trained here (the profile's train_epochs_scale applies)
    can_retrain = True
    weights = "trained here (mini-zoo)"

    def __init__(self, model_name, split):
        self.model_name = model_name
        self.split = split

    @property
    def description(self):
        return self.split.description

    def accuracy_unavailable(self):
        return None

    def train(self, epochs_scale=1.0):
        return mini_zoo.train_mini_model(self.model_name, split=self.split, epochs_scale=epochs_scale)

    def retraining_defaults(self, epochs_scale=1.0):
        # type: (float) -> Dict[str, Any]
        return _mini_retraining(len(self.split.y_train), 32, 1e-3, epochs_scale)

    def training_source(self):
        import numpy as np

        x, y = self.split.x_train, self.split.y_train
        w = np.ones(len(y), np.float32)
        return TrainingSource(lambda batch, seed: array_dataset(x, y, w, batch, seed), classification_loss(False),
                              len(y), self.split.description, "bundled (scikit-learn load_digits)",
                              arrays_sha256(x, y))

    def timing_inputs(self, count=64):
        # type: (int) -> List[Any]
        """Real single images from the evaluation split, batch size 1."""
        return [self.split.x_test[i:i + 1] for i in range(min(count, len(self.split.x_test)))]

    def training_arrays(self):
        """(x, y) of the training split, for fine-tuning that is not the task's own (TF-MOT)."""
        return self.split.x_train, self.split.y_train

    def calibration_inputs(self, count=32):
        # type: (int) -> List[Any]
        """Real training images, batch size 1, for full-integer quantization's activation ranges."""
        return [self.split.x_train[i:i + 1] for i in range(min(count, len(self.split.x_train)))]

    def predict_fn(self, model):
        return image_predict_fn(model)

    def evaluate(self, model, limit=0):
        # type: (Any, int) -> Dict[str, float]
        from artifact.device.measure.accuracy import classification_metrics

        n = limit or len(self.split.y_test)
        probs = model.predict(self.split.x_test[:n], batch_size=128, verbose=0)
        return classification_metrics(probs, self.split.y_test[:n])


class TranslationTask(object):
    kind = "translation"
    trains_baseline = True
    can_retrain = True
    weights = "trained here (mini-zoo)"

    def training_arrays(self):
        return None  # TF-MOT fine-tuning here is for classifiers; magnitude pruning runs without

    def __init__(self, model_name, corpus):
        self.model_name = model_name
        self.corpus = corpus
        self.test_arrays = corpus.arrays(corpus.test_pairs)

    @property
    def description(self):
        return self.corpus.description

    def accuracy_unavailable(self):
        return None

    def train(self, epochs_scale=1.0):
        return mini_zoo.train_mini_model(self.model_name, corpus=self.corpus, epochs_scale=epochs_scale)

    def retraining_defaults(self, epochs_scale=1.0):
        # type: (float) -> Dict[str, Any]
        return _mini_retraining(len(self.corpus.train_pairs), 64, 2e-3, epochs_scale)

    def training_source(self):
        arrays = self.corpus.arrays(self.corpus.train_pairs)
        src, dec_in, dec_out = arrays["src"], arrays["dec_in"], arrays["dec_out"]
        weights = (dec_out != 0).astype("float32")   # padding does not count, as in fit(sample_weight=...)

        def dataset(batch, seed):
            data = tf.data.Dataset.from_tensor_slices(((src, dec_in), dec_out, weights))
            return data.shuffle(len(src), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch).prefetch(2)

        return TrainingSource(dataset, classification_loss(False), len(src), self.corpus.description,
                              "bundled (num2words)", arrays_sha256(src, dec_in, dec_out))

    def timing_inputs(self, count=64):
        src = self.test_arrays["src"]
        return [src[i:i + 1] for i in range(min(count, len(src)))]

    def predict_fn(self, model):
        """Greedy decoding of a batch of source sentences, unrolled over the target length."""
        length = self.corpus.tgt_len
        start = self.corpus.tgt_vocab.sos_id

        @tf.function
        def translate(src):
            batch = tf.shape(src)[0]
            tokens = [tf.fill([batch], tf.constant(start, tf.int32))]
            for position in range(length):
                dec_in = tf.stack(tokens + [tf.zeros([batch], tf.int32)] * (length - len(tokens)), axis=1)
                probs = model([src, dec_in], training=False)
                tokens.append(tf.argmax(probs[:, position], axis=-1, output_type=tf.int32))
            return tf.stack(tokens[1:], axis=1)

        return translate

    def evaluate(self, model, limit=0):
        from artifact.device.measure.accuracy import bleu

        n = limit or len(self.corpus.test_pairs)
        translate = self.predict_fn(model)
        ids = translate(tf.constant(self.test_arrays["src"][:n])).numpy()
        vocab = self.corpus.tgt_vocab
        hyps = [datasets.decode(vocab, row) for row in ids]
        refs = [t for _, t in self.corpus.test_pairs[:n]]
        return {"bleu": bleu(hyps, refs), "scored": len(refs)}
