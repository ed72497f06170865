"""Tasks of the paper's eleven Table I models: real weights and data when given, else initialised.

A task tells the runner how to obtain a model's baseline, what to time it on, and how to score
it (see `artifact.device.models.tasks.mini`). For the paper's models the inputs come from paths the user gives:

    --checkpoints DIR   TF-Slim checkpoints (vgg_16.ckpt, ...)      -> weights of the ten CNNs
    --imagenet DIR      ILSVRC2012 validation images + ground truth -> timing inputs and accuracy
    --nmt DIR           tensorflow/nmt model dir: hparams, vocabularies, newstest, checkpoint

Without them the architecture is still real: weights are initialised (seeded, deterministic) and
everything that needs no trained weights is measured (parameters, depth, storage of every
variant, memory, time and time ratios); accuracy metrics are SKIPPED with the reason. Timing
inputs are then real photographs shipped in an installed package (matplotlib's sample photo) for
the CNNs and real English sentences (num2words) for the translator, never random tensors.

Pruned models are fine-tuned by `artifact retrain` (the x86 server image's job) when the training set is
given (--imagenet-train DIR: ILSVRC2012 train as class folders or TF-Slim TFRecord shards; --nmt-train DIR:
tensorflow/nmt's WMT16 files) and handed to the board as model packages (`run --retrained DIR`). Without
them a pruned model is measured as pruned, and the record says so (`retrained: false`).

Retraining defaults (the paper gives no schedule): the CNNs as Li et al. (ICLR'17, the pruning method the
paper applies) retrain their pruned ImageNet models, SGD with momentum 0.9 at a constant learning rate of
0.001, for 20 epochs (200,000 steps of 128 images); the GNMT with nmt's own optimizer (SGD, gradient norm
clipped at 5) at 0.1, a tenth of nmt's initial rate as fine-tuning goes, for 40,000 steps of 128 sentence
pairs (about one pass over WMT16's 4.5 million). Profiles override them per model ([retraining.<model>]).
"""
import zlib
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError, MissingInputError
from artifact.device.compat import set_random_seed, tf
from artifact.device.models.architectures.paper_architectures import PAPER_MODELS, build_paper_model

SEED = 0
NMT_TIMING_SENTENCES = 8
NMT_MAX_LENGTH_FACTOR = 2  # nmt's default decoding limit: 2 target tokens per source token


def _seed():
    set_random_seed(SEED)


class PaperClassificationTask(object):
    """A TF-Slim CNN of Table I on ImageNet (or on a sample photo, for architecture-only runs)."""

    kind = "classification"
    trains_baseline = False  # TF-Slim / nmt weights or seeded initial ones: train_epochs_scale does not apply
    retrain_note = ("not retrained: fine-tuning needs the ImageNet training set (`invoke retrain --imagenet-train "
                    "DIR` on the server image, then `run --retrained DIR` here)")

    def __init__(self, model_name, checkpoints_dir=None, imagenet_dir=None, eval_samples=0, imagenet_train=None):
        # type: (str, Optional[str], Optional[str], int, Optional[str]) -> None
        from artifact.device.models.data.imagenet import PREPROCESSING_FOR_FAMILY

        self.model_name = model_name
        self.info = PAPER_MODELS[model_name]
        self.style = PREPROCESSING_FOR_FAMILY[self.info.family]
        self.size = self.info.input_size
        self.checkpoint = None
        if checkpoints_dir:
            from artifact.device.models.checkpoints.slim_checkpoint import find_slim_checkpoint

            self.checkpoint = find_slim_checkpoint(checkpoints_dir, model_name)
        self.val = None
        if imagenet_dir:
            from artifact.device.models.data.imagenet import ImageNetVal

            self.val = ImageNetVal(imagenet_dir, limit=eval_samples)
        self.train_set = None
        if imagenet_train:
            from artifact.device.models.data.imagenet_train import ImageNetTrain

            self.train_set = ImageNetTrain(imagenet_train)

    @property
    def can_retrain(self):
        # type: () -> bool
        return self.train_set is not None

    def retraining_defaults(self, epochs_scale=1.0):
        # type: (float) -> Dict[str, Any]
        return {"optimizer": "sgd", "momentum": 0.9, "learning_rate": 0.001, "batch_size": 128, "steps": 200000,
                "checkpoint_every": 1000, "clip_norm": 0.0, "seed": SEED, "validation_samples": 1000}

    def training_source(self):
        from artifact.device.models.tasks.common import TrainingSource, classification_loss

        train, style, size, classes = self.train_set, self.style, self.size, self.info.num_classes

        def dataset(batch, seed):
            return train.dataset(style, size, batch, classes, seed=seed).map(
                lambda x, y: (x, y, tf.ones_like(y, tf.float32)))

        return TrainingSource(dataset, classification_loss(True), None, train.description, train.root,
                              train.index_checksum())

    @property
    def weights(self):
        # type: () -> str
        if self.checkpoint:
            return "TF-Slim checkpoint {}".format(self.checkpoint)
        return "initialised, seed {} (no trained weights given)".format(SEED)

    @property
    def description(self):
        # type: () -> str
        data = self.val.description if self.val is not None else (
            "no ImageNet given: timed on matplotlib's sample photo (grace_hopper.jpg)")
        return "{}; {} preprocessing {}x{}; weights: {}".format(data, self.style, self.size, self.size,
                                                                 self.weights)

    def accuracy_unavailable(self):
        # type: () -> Optional[str]
        """Why accuracy cannot be measured here, or None when it can."""
        missing = []
        if not self.checkpoint:
            missing.append("trained weights (--checkpoints DIR with TF-Slim checkpoints)")
        if self.val is None:
            missing.append("the ILSVRC2012 validation set (--imagenet DIR)")
        if missing:
            return "needs " + " and ".join(missing)
        return None

    def train(self, epochs_scale=1.0):  # initialised or loaded weights: nothing to scale
        """The baseline: TF-Slim's weights when a checkpoint is given, else seeded initial weights."""
        _seed()
        model = build_paper_model(self.model_name)
        if self.checkpoint:
            from artifact.device.models.checkpoints.slim_checkpoint import load_slim_checkpoint

            load_slim_checkpoint(model, self.checkpoint)
        return model

    def timing_inputs(self, count=64):
        # type: (int) -> List[Any]
        if self.val is not None:
            return self.val.images(self.style, self.size, min(count, len(self.val)))
        from artifact.device.models.data.imagenet import sample_photos

        return sample_photos(self.style, self.size)[:count]

    def training_arrays(self):
        return None  # no ImageNet training set here

    def calibration_inputs(self, count=32):
        # type: (int) -> List[Any]
        """Activation-range samples for full-integer quantization: ImageNet images when given."""
        return self.timing_inputs(count)

    def predict_fn(self, model):
        from artifact.device.models.tasks.common import image_predict_fn

        return image_predict_fn(model)

    def evaluate(self, model, limit=0):
        # type: (Any, int) -> Dict[str, float]
        from artifact.device.models.data.imagenet import ImageNetVal, evaluate_classifier

        reason = self.accuracy_unavailable()
        if reason:
            raise MissingInputError("{}: accuracy {}".format(self.model_name, reason))
        full = self.val
        assert full is not None  # accuracy_unavailable() returns a reason when there is no validation set
        val = full if not limit or limit >= len(full) else ImageNetVal(full.root, limit=limit)
        predict = self.predict_fn(model)
        return evaluate_classifier(lambda x: predict(tf.constant(x)), val, self.style, self.size,
                                   self.info.num_classes)


def _hashed_ids(tokens, vocab_size, reserved=3):
    # type: (List[str], int, int) -> List[int]
    """Stable ids for words of a vocabulary we do not have (architecture-only runs)."""
    return [reserved + zlib.crc32(t.encode("utf-8")) % (vocab_size - reserved) for t in tokens]


class PaperTranslationTask(object):
    """tensorflow/nmt's GNMT of Table I on newstest (or on num2words sentences, architecture-only)."""

    kind = "translation"
    trains_baseline = False
    retrain_note = ("not retrained: fine-tuning needs the WMT training set (`invoke retrain --nmt-train DIR` on the "
                    "server image, then `run --retrained DIR` here)")

    def __init__(self, model_name, nmt_dir=None, eval_samples=0, nmt_train=None):
        # type: (str, Optional[str], int, Optional[str]) -> None
        self.model_name = model_name
        self.info = PAPER_MODELS[model_name]
        self.data = None
        if nmt_dir:
            from artifact.device.models.data.nmt_data import NmtData

            self.data = NmtData.from_directory(nmt_dir, limit=eval_samples or None)
        self.train_set = None
        if nmt_train:
            from artifact.device.models.data.wmt_train import WMTTrain

            self.train_set = WMTTrain.for_model(nmt_train, nmt_data=self.data)
            if self.data is None:
                self._check_vocabulary_sizes()

    def _check_vocabulary_sizes(self):
        """Without --nmt the model is nmt's WMT16 GNMT (36549 tokens a side): the training vocabularies must fit it."""
        for vocab in (self.train_set.src_vocab, self.train_set.tgt_vocab):
            if len(vocab) != self.info.num_classes:
                raise ConfigError("{}: {} tokens, the GNMT of Table I has {}; give the model trained with this "
                                  "vocabulary too (--nmt DIR: hparams, vocabularies, checkpoint)".format(
                                      vocab.path, len(vocab), self.info.num_classes))

    @property
    def can_retrain(self):
        # type: () -> bool
        return self.train_set is not None

    def retraining_defaults(self, epochs_scale=1.0):
        # type: (float) -> Dict[str, Any]
        return {"optimizer": "sgd", "momentum": 0.0, "learning_rate": 0.1, "batch_size": 128, "steps": 40000,
                "checkpoint_every": 1000, "clip_norm": 5.0, "seed": SEED, "validation_samples": 0}

    def training_source(self):
        from artifact.device.models.data.wmt_train import masked_sequence_loss
        from artifact.device.models.tasks.common import TrainingSource

        train = self.train_set
        return TrainingSource(lambda batch, seed: train.dataset(batch, seed=seed), masked_sequence_loss, len(train),
                              train.description, train.directory, train.index_checksum())

    @property
    def weights(self):
        # type: () -> str
        if self.data is not None:
            return "tensorflow/nmt checkpoint {}".format(self.data.checkpoint_prefix)
        return "initialised, seed {} (no trained weights given)".format(SEED)

    @property
    def description(self):
        # type: () -> str
        data = self.data.description if self.data is not None else (
            "no NMT data given: timed on num2words English sentences hashed into the 36549-token "
            "vocabulary, greedy decoding of {}x the source length".format(NMT_MAX_LENGTH_FACTOR))
        return "{}; weights: {}".format(data, self.weights)

    def accuracy_unavailable(self):
        # type: () -> Optional[str]
        if self.data is None:
            return "needs the NMT test set, vocabularies and trained checkpoint (--nmt DIR)"
        return None

    def train(self, epochs_scale=1.0):  # initialised or loaded weights: nothing to scale
        _seed()
        if self.data is None:
            from artifact.device.models.architectures.paper_architectures import gnmt

            return gnmt(dropout=0.0)
        from artifact.device.models.checkpoints.gnmt_checkpoint import load_gnmt

        return load_gnmt(self.data)[0]

    def _vocabularies(self):
        from artifact.device.models.data.nmt_data import EOS, SOS, UNK, Vocabulary

        if self.data is not None:
            return self.data.src_vocab, self.data.tgt_vocab
        words = [UNK, SOS, EOS] + ["w{}".format(i) for i in range(3, self.info.num_classes)]
        vocab = Vocabulary(words)
        return vocab, vocab

    def _source_ids(self, count):
        # type: (int) -> List[List[int]]
        if self.data is not None:
            return [self.data.src_vocab.ids(s) for s in self.data.sources[:count]]
        from artifact.device.models.data.bundled import number_corpus

        corpus = number_corpus(n_train=0, n_test=count)
        return [_hashed_ids(src, self.info.num_classes) for src, _ in corpus.test_pairs[:count]]

    def timing_inputs(self, count=NMT_TIMING_SENTENCES):
        import numpy as np

        return [np.array([ids], dtype="int32") for ids in self._source_ids(min(count, NMT_TIMING_SENTENCES))]

    def _translator(self, model, max_length=None):
        from artifact.device.models.checkpoints.gnmt_checkpoint import GreedyTranslator

        if self.data is not None:
            return GreedyTranslator.from_nmt_data(model, self.data, max_length=max_length)
        src_vocab, tgt_vocab = self._vocabularies()
        return GreedyTranslator(model, src_vocab, tgt_vocab, max_length)

    def predict_fn(self, model):
        """Greedy decoding of one source sentence (a [1, time] id array), as nmt's inference does."""
        translator = self._translator(model)

        def translate(src):
            return translator.translate_ids([list(src[0])])

        return translate

    def profile_fn(self, model):
        """For the op breakdown: one teacher-forced pass over a target as long as decoding allows."""
        return tf.function(lambda x: model(x, training=False))

    def profile_input(self):
        import numpy as np

        src = self.timing_inputs(1)[0]
        target = np.full((1, NMT_MAX_LENGTH_FACTOR * src.shape[1]), 1, dtype="int32")
        return [src, target]

    def evaluate(self, model, limit=0):
        reason = self.accuracy_unavailable()
        if reason:
            raise MissingInputError("{}: BLEU {}".format(self.model_name, reason))
        n = limit or len(self.data.sources)
        hyps = self._translator(model).translate_text(self.data.sources[:n])
        refs = self.data.reference_texts()[:n]
        from artifact.device.models.data.nmt_data import bleu

        return {"bleu": bleu(hyps, refs), "scored": len(refs)}


def paper_task(model_name, inputs, eval_samples=0):
    # type: (str, Dict[str, Optional[str]], int) -> Any
    """The task of a Table I model given the user's inputs ({"imagenet": dir, ...})."""
    if model_name == "nmt":
        return PaperTranslationTask(model_name, inputs.get("nmt_data"), eval_samples, inputs.get("nmt_train"))
    return PaperClassificationTask(model_name, inputs.get("slim_checkpoints"), inputs.get("imagenet"),
                                   eval_samples, inputs.get("imagenet_train"))
