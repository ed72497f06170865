"""Accuracy metrics on the same model file that was timed (scikit-learn, sacrebleu).

Precision, recall and F1 are macro-averaged over the classes present in the ground truth (every
class weighs the same), the reading closest to the paper's per-label definitions in §III-B. On the
full ILSVRC2012 validation set that is all 1000 classes; on a quick run of N images, classes absent
from the sample are left out rather than counted as zero.
"""

from typing import Dict, Sequence  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

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


def bleu_score(hypotheses, references):
    # type: (Sequence[str], Sequence[str]) -> float
    import sacrebleu

    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)
