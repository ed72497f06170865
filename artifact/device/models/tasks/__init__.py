"""What a model is for: its data, its training/fine-tuning, the inputs it is timed on, its metrics.

A task is the one place that knows how to feed a model. The runner asks a task for a trained
baseline, for fine-tuning after pruning, for real inputs to time, for a predict function of one
input, and for the accuracy metrics of a model. `task_for` picks it: `mini` for the mini-zoo,
`paper` for the Table I models.
"""
from typing import Any, Dict, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import MINI_ZOO, TABLE_I, check_model

_DATA_CACHE = {}  # type: Dict[str, Any]


def task_for(model_name, inputs=None, eval_samples=0):
    # type: (str, Optional[Dict[str, Optional[str]]], int) -> Any
    """The task of a model: a mini-zoo model (data built once per process) or a Table I model."""
    check_model(model_name, "task")
    if model_name in TABLE_I:
        from artifact.device.models.tasks.paper import paper_task

        return paper_task(model_name, inputs or {}, eval_samples)
    from artifact.device.models.data import bundled
    from artifact.device.models.tasks.mini import ClassificationTask, TranslationTask

    if MINI_ZOO[model_name] == "translation":
        if "corpus" not in _DATA_CACHE:
            _DATA_CACHE["corpus"] = bundled.number_corpus()
        return TranslationTask(model_name, _DATA_CACHE["corpus"])
    if "digits" not in _DATA_CACHE:
        _DATA_CACHE["digits"] = bundled.digits_split()
    return ClassificationTask(model_name, _DATA_CACHE["digits"])
