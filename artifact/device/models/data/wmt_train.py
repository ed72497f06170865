"""The WMT16 English-German *training* set in tensorflow/nmt's layout, batched as nmt trains the GNMT.

`WMTTrain.for_model(DIR, nmt_data)` (`retrain --nmt-train DIR`) reads the files nmt's
scripts/wmt16_en_de.sh leaves in its output directory:

    DIR/train.tok.clean.bpe.32000.en, .de   sentence-aligned, tokenized, BPE (about 4.5 million pairs)
    DIR/vocab.bpe.32000.en, .de             the vocabularies

The language suffixes and the file prefixes are those of the model's `--nmt DIR` (its hparams' `src`, `tgt`,
and the basenames of `train_prefix` and `vocab_prefix`), else nmt's defaults for WMT16 (en -> de,
train.tok.clean.bpe.32000, vocab.bpe.32000). The model's vocabularies are the ones given with `--nmt`; when
DIR holds vocabulary files too they must be the same tokens (a model fine-tuned on other ids would be
garbage), and without `--nmt` they are DIR's own.

Batches follow nmt's `iterator_utils.get_iterator`: lines split on " " (empty tokens dropped), pairs with an
empty side dropped, both sides cut at `src_max_len` / `tgt_max_len` tokens (hparams; 50 in
wmt16_gnmt_4_layer.json), words to ids (unknown -> <unk>, id 0), target input `<s> y`, target output
`y </s>`, shuffled in a buffer of 1,000 batches. One difference, for the same arithmetic: nmt pads sources
of a batch to one length and hides the padding with sequence lengths; the Keras GNMT has no sequence lengths,
so a batch holds sentences of one source length (grouped, as nmt's length buckets group them, but exactly),
and only targets are padded (with </s>, weight 0). The loss is nmt's: the cross-entropy of every real
target token, summed, divided by the batch size (`masked_sequence_loss`).
"""
import hashlib
import os
from typing import Any, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError, MissingInputError
from artifact.device.compat import tf
from artifact.device.models.data.nmt_data import STANDARD_HPARAMS, load_vocabulary
from artifact.device.models.data.vocabulary import UNK_ID

TRAIN_PREFIX = "train.tok.clean.bpe.32000"   # nmt/scripts/wmt16_en_de.sh
MAX_LENGTH = 50                               # src_max_len, tgt_max_len of wmt16_gnmt_4_layer.json
SHUFFLE_BATCHES = 1000                        # nmt: output_buffer_size = batch_size * 1000


def masked_sequence_loss(y, logits, weights):
    """nmt's training loss: sum over real target tokens of the cross-entropy, divided by the batch size."""
    crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(y, tf.int32), logits=logits)
    batch = tf.cast(tf.shape(y)[0], crossent.dtype)
    return tf.reduce_sum(crossent * tf.cast(weights, crossent.dtype)) / batch


def _basename(value, default):
    if isinstance(value, str) and value.strip():
        return os.path.basename(value.rstrip("/\\").replace("\\", "/"))
    return default


def _count_lines(path, digest):
    # type: (str, Any) -> int
    """Lines of a text file (a last line without "\\n" counts), its bytes fed to `digest` on the same pass."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
            digest.update(block)
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


class WMTTrain(object):
    """Sentence pairs of nmt's WMT16 training files with the model's vocabularies."""

    def __init__(self, directory, src, tgt, train_prefix, src_vocab, tgt_vocab, src_max_len, tgt_max_len,
                 vocab_origin):
        # type: (str, str, str, str, Any, Any, int, int, str) -> None
        self.directory = directory
        self.src, self.tgt = src, tgt
        self.src_path = os.path.join(directory, train_prefix + "." + src)
        self.tgt_path = os.path.join(directory, train_prefix + "." + tgt)
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src_max_len, self.tgt_max_len = int(src_max_len), int(tgt_max_len)
        for path in (self.src_path, self.tgt_path):
            if not os.path.isfile(path):
                raise MissingInputError("--nmt-train {}: {} not found; give the output directory of nmt's "
                                        "scripts/wmt16_en_de.sh (train.tok.clean.bpe.32000.{{en,de}})".format(
                                            directory, path))
        digest = hashlib.sha256()   # one pass over the files (gigabytes for WMT16): counted and digested together
        sizes = (_count_lines(self.src_path, digest), _count_lines(self.tgt_path, digest))
        for vocab in (src_vocab, tgt_vocab):
            digest.update("\n".join(vocab.words).encode("utf-8"))
        self._index_sha256 = digest.hexdigest()
        if sizes[0] != sizes[1]:
            raise FormatError("parallel training files differ in length: {} has {} lines, {} has {}; give "
                              "sentence-aligned files".format(self.src_path, sizes[0], self.tgt_path, sizes[1]))
        if not sizes[0]:
            raise FormatError("{}: empty; give nmt's WMT16 training files".format(self.src_path))
        self.pairs = sizes[0]
        self.description = ("WMT16 {}->{} training set (tensorflow/nmt), {} sentence pairs of {}.{}/.{}, "
                            "vocabularies {}/{} tokens from {}, sentences cut at {}/{} tokens".format(
                                src, tgt, self.pairs, train_prefix, src, tgt, len(src_vocab), len(tgt_vocab),
                                vocab_origin, self.src_max_len, self.tgt_max_len))

    @classmethod
    def for_model(cls, directory, nmt_data=None):
        # type: (str, Any) -> WMTTrain
        """The training files in `directory` for the model of `nmt_data` (an NmtData; None: nmt's defaults)."""
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise MissingInputError("--nmt-train {}: no such directory; give the output directory of nmt's "
                                    "scripts/wmt16_en_de.sh".format(directory))
        hparams = dict(STANDARD_HPARAMS)
        if nmt_data is not None:
            hparams.update(nmt_data.hparams)
        src, tgt = hparams["src"], hparams["tgt"]
        train_prefix = _basename(hparams.get("train_prefix"), TRAIN_PREFIX)
        vocab_prefix = _basename(hparams.get("vocab_prefix"), STANDARD_HPARAMS["vocab_prefix"])
        sos, eos = hparams.get("sos") or None, hparams.get("eos") or None
        here = [os.path.join(directory, vocab_prefix + "." + side) for side in (src, tgt)]
        if nmt_data is not None:
            vocabs = (nmt_data.src_vocab, nmt_data.tgt_vocab)
            origin = "--nmt {}".format(nmt_data.directory)
            for path, vocab in zip(here, vocabs):
                if os.path.isfile(path):
                    own = load_vocabulary(path, sos=vocab.sos, eos=vocab.eos)
                    if own.words != vocab.words:
                        raise FormatError("{}: {} tokens, not the {} of the model's vocabulary {}; fine-tune on the "
                                          "training files the model was trained with (same BPE and vocabulary)"
                                          .format(path, len(own), len(vocab), vocab.path))
        else:
            missing = [path for path in here if not os.path.isfile(path)]
            if missing:
                raise MissingInputError("--nmt-train {}: {} not found; copy nmt's vocabularies there or give the "
                                        "model's directory with --nmt DIR".format(directory, missing[0]))
            kwargs = dict((k, v) for k, v in (("sos", sos), ("eos", eos)) if v)
            vocabs = (load_vocabulary(here[0], **kwargs), load_vocabulary(here[1], **kwargs))
            origin = directory
        return cls(directory, src, tgt, train_prefix, vocabs[0], vocabs[1],
                   hparams.get("src_max_len") or MAX_LENGTH, hparams.get("tgt_max_len") or MAX_LENGTH, origin)

    def __len__(self):
        return self.pairs

    def index_checksum(self):
        # type: () -> str
        """sha256 of both training files and both vocabularies (what the model was fine-tuned on)."""
        return self._index_sha256

    def _table(self, vocab):
        keys = tf.constant(vocab.words)
        values = tf.constant(list(range(len(vocab.words))), tf.int64)
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=UNK_ID)

    def dataset(self, batch, seed=0):
        # type: (int, int) -> Any
        """Repeated ((source [b, s], target input [b, t]), target output [b, t], weights [b, t]) batches."""
        batch = int(batch)
        src_table, tgt_table = self._table(self.src_vocab), self._table(self.tgt_vocab)
        sos, eos = self.tgt_vocab.sos_id, self.tgt_vocab.eos_id
        src_max, tgt_max = self.src_max_len, self.tgt_max_len

        def tokens(line):
            words = tf.strings.split(tf.reshape(line, [1]), sep=" ").values
            return tf.boolean_mask(words, tf.strings.length(words) > 0)

        def to_ids(src, tgt):
            src_ids = tf.cast(src_table.lookup(src[:src_max]), tf.int32)
            tgt_ids = tf.cast(tgt_table.lookup(tgt[:tgt_max]), tf.int32)
            tgt_in = tf.concat([[sos], tgt_ids], 0)
            tgt_out = tf.concat([tgt_ids, [eos]], 0)
            return (src_ids, tgt_in), tgt_out, tf.ones_like(tgt_out, tf.float32)

        def one_length(key, window):
            return window.padded_batch(batch, padded_shapes=(([None], [None]), [None], [None]),
                                       padding_values=((eos, eos), eos, 0.0), drop_remainder=True)

        pairs = tf.data.Dataset.zip((tf.data.TextLineDataset(self.src_path), tf.data.TextLineDataset(self.tgt_path)))
        pairs = pairs.shuffle(batch * SHUFFLE_BATCHES, seed=seed, reshuffle_each_iteration=True)
        pairs = pairs.map(lambda s, t: (tokens(s), tokens(t)))
        # filtered before repeat: files without one usable pair end the stream (the loop says so) instead of
        # filtering an endless repetition of nothing
        pairs = pairs.filter(lambda s, t: tf.logical_and(tf.size(s) > 0, tf.size(t) > 0)).repeat()
        data = pairs.map(to_ids, num_parallel_calls=tf.data.experimental.AUTOTUNE)
        def source_length(x, y, w):
            return tf.cast(tf.shape(x[0])[0], tf.int64)

        if hasattr(data, "group_by_window"):  # TF >= 2.6 names it on the dataset; tf.data.experimental's is deprecated
            data = data.group_by_window(source_length, one_length, window_size=batch)
        else:
            data = data.apply(tf.data.experimental.group_by_window(source_length, one_length, window_size=batch))
        return data.prefetch(tf.data.experimental.AUTOTUNE)
