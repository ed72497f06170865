"""Accuracy metrics on the same model file that was timed (scikit-learn, sacrebleu).

One BLEU for every translation model (`bleu`): the tokenized text scored as given, without
re-tokenization or smoothing, as tensorflow/nmt's own `compute_bleu` does, so the number is
comparable with nmt's reported BLEU and Table I (sacreBLEU's default would detokenize and
re-tokenize with 13a first, which splits a model's tokens differently).

Precision, recall and F1 are macro-averaged over the classes present in the ground truth (every
class weighs the same), the reading closest to the paper's per-label definitions in §III-B. On the
full ILSVRC2012 validation set that is all 1000 classes; on a quick run of N images, classes absent
from the sample are left out rather than counted as zero.
"""

from typing import Dict, List, Sequence  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import ConfigError, MissingInputError

AVERAGING = "macro"


def classification_metrics(probs, labels):
    # type: (np.ndarray, np.ndarray) -> Dict[str, float]
    from sklearn.metrics import f1_score, precision_score, recall_score, top_k_accuracy_score

    probs, labels = np.asarray(probs), np.asarray(labels)
    predicted = probs.argmax(axis=1)
    classes = np.arange(probs.shape[1])
    kwargs = {"average": AVERAGING, "labels": np.unique(labels), "zero_division": 0}
    return {
        "top1": float((predicted == labels).mean()),
        "top5": float(top_k_accuracy_score(labels, probs, k=min(5, probs.shape[1]), labels=classes)),
        "precision": float(precision_score(labels, predicted, **kwargs)),
        "recall": float(recall_score(labels, predicted, **kwargs)),
        "f1": float(f1_score(labels, predicted, **kwargs)),
        "scored": int(len(labels)),  # the judge's binomial standard error needs n
    }


def bleu(hypotheses, references):
    # type: (Sequence[object], Sequence[object]) -> float
    """Corpus BLEU (0-100) of tokenized, BPE-merged text, comparable with nmt's reported BLEU.

    Items are strings or token lists (joined with spaces); one reference per hypothesis. Computed
    as ``sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", smooth_method="none")``:
    the text is scored as given (nmt's `compute_bleu` splits on spaces and does not re-tokenize)
    and without smoothing (nmt calls it with smooth=False).
    """
    if len(hypotheses) != len(references):
        raise ConfigError("bleu: {} hypotheses but {} references; give one reference per "
                          "hypothesis".format(len(hypotheses), len(references)))
    try:
        import sacrebleu
    except ImportError:  # pragma: no cover - the Jetson images install it
        raise MissingInputError("Python package sacrebleu is not installed; pip install sacrebleu")

    def text(item):
        return item if isinstance(item, str) else " ".join(item)

    result = sacrebleu.corpus_bleu([text(h) for h in hypotheses], [[text(r) for r in references]],
                                   tokenize="none", smooth_method="none")
    return float(result.score)
