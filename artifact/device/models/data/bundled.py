"""Evaluation and training data that ship inside installed packages (no downloads).

- Images: scikit-learn's `load_digits` (1,797 labelled 8x8 digit scans, 10 classes), upsampled
  to 16x16 so that convolutions have some work to do; a fixed stratified split.
- Translation: a parallel English -> French corpus of numbers written out by `num2words`.
"""
import re
from typing import Dict, List, Sequence, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.device.models.data.vocabulary import Vocabulary

SEED = 1234
IMAGE_SIZE = 16
PAD, START, END = "<pad>", "<s>", "</s>"


class Split(object):
    def __init__(self, x_train, y_train, x_test, y_test, description):
        self.x_train, self.y_train = x_train, y_train
        self.x_test, self.y_test = x_test, y_test
        self.description = description


def digits_split(test_fraction=0.2):
    # type: (float) -> Split
    """Digits as float32 NHWC images in [0, 1], 16x16x1, stratified train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    images = np.kron(images, np.ones((1, IMAGE_SIZE // 8, IMAGE_SIZE // 8), np.float32))
    images = images[..., None]
    labels = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=test_fraction, random_state=SEED, stratify=labels)
    return Split(x_tr, y_tr, x_te, y_te,
                 "scikit-learn load_digits: {} train / {} test images, 10 classes, 16x16x1".format(
                     len(y_tr), len(y_te)))


def tokenize(text):
    # type: (str) -> List[str]
    return re.sub(r"([-,])", r" \1 ", text.lower()).split()


def detokenize(tokens):
    # type: (Sequence[str]) -> str
    return re.sub(r" ([-,]) ?", lambda m: "-" if m.group(1) == "-" else ", ", " ".join(tokens)).strip()


def corpus_vocabulary(tokens):
    # type: (Sequence[str]) -> Vocabulary
    """The vocabulary of a side of the corpus: <pad> (id 0, also the unknown slot), <s>, </s>, then the tokens."""
    return Vocabulary([PAD, START, END] + sorted(set(tokens) - {PAD, START, END}), unk=PAD, sos=START, eos=END)


def encode(vocab, tokens, length, start=False):
    # type: (Vocabulary, Sequence[str], int, bool) -> List[int]
    """Ids of a sentence, </s>-terminated, padded or cut to `length` (with <s> first for decoder inputs)."""
    ids = ([vocab.sos_id] if start else []) + vocab.ids(list(tokens)) + [vocab.eos_id]
    return (ids + [0] * length)[:length]


def decode(vocab, ids):
    # type: (Vocabulary, Sequence[int]) -> List[str]
    """Tokens up to the first </s>, without <pad> and <s>."""
    out = []
    for token in vocab.tokens(list(ids)):
        if token == END:
            break
        if token not in (PAD, START):
            out.append(token)
    return out


class ParallelCorpus(object):
    """Numbers written out in two languages by num2words: a small, real translation task."""

    def __init__(self, train_pairs, test_pairs, src_vocab, tgt_vocab, src_len, tgt_len, description):
        self.train_pairs, self.test_pairs = train_pairs, test_pairs
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src_len, self.tgt_len = src_len, tgt_len
        self.description = description

    def arrays(self, pairs):
        # type: (Sequence[Tuple[List[str], List[str]]]) -> Dict[str, np.ndarray]
        """Encoder ids, decoder inputs (start-shifted) and decoder targets."""
        src = np.array([encode(self.src_vocab, s, self.src_len) for s, _ in pairs], np.int32)
        dec_in = np.array([encode(self.tgt_vocab, t, self.tgt_len, start=True) for _, t in pairs], np.int32)
        dec_out = np.array([encode(self.tgt_vocab, t, self.tgt_len) for _, t in pairs], np.int32)
        return {"src": src, "dec_in": dec_in, "dec_out": dec_out}


def number_corpus(n_train=4000, n_test=400, max_number=10000, src_lang="en", tgt_lang="fr"):
    # type: (int, int, int, str, str) -> ParallelCorpus
    from num2words import num2words

    rng = np.random.RandomState(SEED)
    numbers = rng.permutation(max_number)[: n_train + n_test]
    pairs = [(tokenize(num2words(int(n), lang=src_lang)), tokenize(num2words(int(n), lang=tgt_lang)))
             for n in numbers]
    train, test = pairs[:n_train], pairs[n_train:]
    src_vocab = corpus_vocabulary([t for s, _ in pairs for t in s])
    tgt_vocab = corpus_vocabulary([word for _, words in pairs for word in words])
    src_len = max(len(s) for s, _ in pairs) + 1
    tgt_len = max(len(t) for _, t in pairs) + 1
    return ParallelCorpus(train, test, src_vocab, tgt_vocab, src_len, tgt_len,
                          "num2words {}->{}: numbers below {}, {} train / {} test sentence pairs".format(
                              src_lang, tgt_lang, max_number, n_train, n_test))
