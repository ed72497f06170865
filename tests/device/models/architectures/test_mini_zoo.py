"""The embedded mini-zoo reaches the quality the default profile relies on (issue 3):
held-out top-1 >= 95% on digits for the CNNs, and a translator whose BLEU is worth compressing."""
import pytest

from artifact.device.models.architectures import mini_zoo
from artifact.device.models.tasks import task_for


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mini_resnet", "mini_mobilenet"])
def test_cnn_reaches_95_percent_top1_on_held_out_digits(name):
    task = task_for(name)
    model = task.train()
    assert task.evaluate(model)["top1"] >= 0.95
    assert task.accuracy_unavailable() is None and task.can_retrain


@pytest.mark.slow
def test_translator_scores_a_bleu_worth_compressing():
    task = task_for("mini_nmt")
    model = task.train()
    assert task.evaluate(model, limit=200)["bleu"] >= 60.0


def test_training_is_deterministic_for_the_seed(monkeypatch):
    monkeypatch.setitem(mini_zoo.EPOCHS, "mini_mobilenet", 1)
    task = task_for("mini_mobilenet")
    first, second = task.train().get_weights(), task.train().get_weights()
    assert len(first) == len(second) and all((a == b).all() for a, b in zip(first, second))
