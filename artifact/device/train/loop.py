"""The fine-tuning loop: a model, a training source, a step count; checkpoints, resume, a progress bar.

One loop for every model (the mini-zoo on digits / num2words, the TF-Slim CNNs on ILSVRC2012 train, the
GNMT on WMT16): a `tf.function` step under a GradientTape, the loss from the training source (the task
knows its model's outputs), the model's own regularisation losses added, gradients clipped when the
settings say so. Every `checkpoint_every` steps the model, the optimizer's slots and the step count go
to a tf.train.Checkpoint in `work_dir`; run again after a kill, it restores the last one and goes on from
its step. The data are reseeded with the step a run starts at, so a resumed run does not replay the
batches of the first (a shuffle buffer of ImageNet images is too large to checkpoint).
"""
import os
import shutil
import time
from typing import Any, Callable, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError, FormatError
from artifact.core.jsonfile import read_json, write_json_atomic
from artifact.device.compat import error_line, keras, tf

OPTIMIZERS = ("sgd", "adam")
LOSSES = "losses.json"  # beside the checkpoints: every step's loss up to the last one (a resumed package keeps them)


def make_optimizer(settings):
    # type: (Dict[str, Any]) -> Any
    name = settings["optimizer"]
    lr = float(settings["learning_rate"])
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=float(settings.get("momentum", 0.0)))
    raise ConfigError("retraining optimizer {!r} unknown; known: {}".format(name, ", ".join(OPTIMIZERS)))


def _build_slots(optimizer, variables):
    # type: (Any, List[Any]) -> None
    """Create the optimizer's slot variables (a zero step moves nothing: no gradient, no momentum yet) so a
    checkpoint restores into them on every Keras optimizer, old and new."""
    optimizer.apply_gradients(zip([tf.zeros_like(v) for v in variables], variables))


class FineTuneResult(object):
    def __init__(self, steps, started_at_step, losses, seconds, examples):
        # type: (int, int, List[float], float, int) -> None
        self.steps = steps                      # the step count reached (all runs together)
        self.started_at_step = started_at_step  # > 0: this run resumed from a checkpoint
        self.losses = losses                    # every step's loss (a resumed run's earlier ones from its work dir)
        self.seconds = seconds                  # this run's training time
        self.examples = examples                # examples this run trained on

    @property
    def final_loss(self):
        # type: () -> Optional[float]
        """Mean loss of the last tenth of the steps (one step's loss is noise)."""
        if not self.losses:
            return None
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return float(sum(tail) / len(tail))

    @property
    def first_loss(self):
        # type: () -> Optional[float]
        if not self.losses:
            return None
        head = self.losses[:max(1, len(self.losses) // 10)]
        return float(sum(head) / len(head))


def fine_tune(model, source, settings, work_dir, progress=None, stop_after=None):
    # type: (Any, Any, Dict[str, Any], str, Optional[Callable[[int, int, float, float], None]], Optional[int]) -> FineTuneResult
    """Train `model` in place for settings["steps"] steps on `source` (a tasks.common.TrainingSource).

    `progress(step, steps, loss, examples_per_s)` after each step. `stop_after`: stop after this many
    steps of this run (`--max-steps`), the checkpoint saved, so a later run goes on from there.
    """
    steps = int(settings["steps"])
    every = max(1, int(settings["checkpoint_every"]))
    optimizer = make_optimizer(settings)
    step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(checkpoint, work_dir, max_to_keep=1)
    variables = model.trainable_variables
    earlier = _earlier_losses(work_dir, checkpoint_step(work_dir))
    if earlier is None:  # a checkpoint without the losses that led to it: start over, never a package without them
        shutil.rmtree(work_dir, ignore_errors=True)
        manager = tf.train.CheckpointManager(checkpoint, work_dir, max_to_keep=1)
    if manager.latest_checkpoint:
        _build_slots(optimizer, variables)
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    start = int(step_var.numpy())
    clip = float(settings.get("clip_norm", 0.0) or 0.0)
    loss_of = source.loss

    def train_step(x, y, w):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = loss_of(y, out, w)
            if model.losses:
                loss += tf.add_n(model.losses)
        grads = tape.gradient(loss, variables)
        if clip > 0.0:
            grads, _ = tf.clip_by_global_norm(grads, clip)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    train_step = relaxed_function(train_step)
    losses = []  # type: List[float]
    examples = 0
    last = steps if stop_after is None else min(steps, start + int(stop_after))
    began = time.perf_counter()
    batches = iter(source.dataset(int(settings["batch_size"]), int(settings.get("seed", 0)) + start))
    for step in range(start, last):
        x, y, w = _next_batch(batches, source, step)
        loss = float(train_step(x, y, w).numpy())
        losses.append(loss)
        examples += int(tf.shape(y)[0])
        step_var.assign(step + 1)
        if (step + 1) % every == 0 or step + 1 == last:
            write_json_atomic(os.path.join(work_dir, LOSSES), list(earlier or []) + losses)  # before its checkpoint
            manager.save(checkpoint_number=step + 1)
        if progress is not None:
            progress(step + 1, steps, loss, examples / max(time.perf_counter() - began, 1e-9))
    return FineTuneResult(int(step_var.numpy()), start, list(earlier or []) + losses, time.perf_counter() - began,
                          examples)


def _earlier_losses(work_dir, step):
    # type: (str, int) -> Optional[List[float]]
    """The per-step losses up to checkpoint `step` (written beside it, before it); None when they are missing."""
    if step == 0:
        return []
    try:
        losses = read_json(os.path.join(work_dir, LOSSES), "losses")
    except FormatError:
        return None
    if not isinstance(losses, list) or len(losses) < step or not all(isinstance(x, (int, float)) for x in losses):
        return None
    return [float(x) for x in losses[:step]]


def _next_batch(batches, source, step):
    # type: (Any, Any, int) -> Any
    """The next (x, y, w) of the training stream; a file that cannot be read, or a stream without a single
    example, is one line naming the training data (not a TensorFlow traceback hours into a run)."""
    try:
        return next(batches)
    except StopIteration:
        raise FormatError("{}: the training data gave no example at step {} ({}); check that its files hold "
                          "examples (non-empty sentence pairs, images)".format(source.path, step, source.description))
    except tf.errors.OpError as error:
        raise FormatError("{}: a training example could not be read at step {} ({}); replace or remove the damaged "
                          "file under it (TensorFlow does not say which), then run again (it resumes from the last "
                          "checkpoint)".format(source.path, step, error_line(error, 300)))


def relaxed_function(fn):
    # type: (Callable[..., Any]) -> Any
    """tf.function that does not retrace for every new sentence length (TF < 2.9 names the option otherwise)."""
    try:
        return tf.function(fn, reduce_retracing=True)
    except TypeError:
        return tf.function(fn, experimental_relax_shapes=True)


def checkpoint_step(work_dir):
    # type: (str) -> int
    """The step the last checkpoint in `work_dir` holds (0: none)."""
    latest = tf.train.latest_checkpoint(work_dir) if os.path.isdir(work_dir) else None
    return int(latest.rsplit("-", 1)[1]) if latest else 0
