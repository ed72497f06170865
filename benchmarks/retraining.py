"""Retraining benchmark (issue 15): seconds per 1,000 fine-tuning steps of the paper's pruned models on this machine.
Figures printed, never pass/fail. `invoke bench --only retraining`.

For VGG_16, ResNet_50 (pruned at threshold 0.5) and the GNMT (pruned at 0.5), and the mini-zoo's mini_vgg for
scale: the artifact's own fine-tuning loop (artifact.device.train.loop, the one `artifact retrain` runs) on
in-memory batches of the model's input shape (real photos from matplotlib's sample image, cropped; num2words
sentences hashed into the GNMT vocabulary, 25 tokens a side, about a WMT16 BPE sentence), the
optimizer of the model's retraining defaults. The first WARMUP steps (tracing) are left out; the median of the
rest is the step time. The batch is small so a CPU gets through it; the last column scales it linearly to
the retraining default's batch (an estimate, labelled as one: a GPU is far from linear in the batch).
Each model runs in a fresh subprocess.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

WARMUP, TIMED = 2, 5
CASES = [("mini_vgg", 0.5, 32), ("vgg_16", 0.5, 4), ("resnet_v1_50", 0.5, 4), ("nmt", 0.5, 8)]
SENTENCE_TOKENS = 25


def _source(name, task, batch):
    import numpy as np

    from artifact.device.compat import tf
    from artifact.device.models.tasks.common import TrainingSource, classification_loss

    if name.startswith("mini_"):
        return task.training_source()
    if name == "nmt":
        from artifact.device.models.data.wmt_train import masked_sequence_loss

        sentences = [sentence for sentence in task.timing_inputs(8)]
        ids = np.stack([np.resize(sentences[i % len(sentences)][0], SENTENCE_TOKENS) for i in range(batch)]).astype(
            "int32")
        weights = np.ones_like(ids, "float32")

        def dataset(b, seed):
            return tf.data.Dataset.from_tensors(((ids, ids), ids, weights)).repeat()

        return TrainingSource(dataset, masked_sequence_loss, None, "hashed num2words", "bench", "bench")
    images = np.concatenate(task.timing_inputs(batch) * batch)[:batch]
    labels = np.arange(batch, dtype="int32") % 1000
    ones = np.ones(batch, "float32")

    def dataset(b, seed):
        return tf.data.Dataset.from_tensors((images, labels, ones)).repeat()

    return TrainingSource(dataset, classification_loss(True), None, "sample photo", "bench", "bench")


def one_model(name, threshold, batch):
    """Runs in a subprocess: prints one JSON line."""
    from artifact.device.compress.techniques import pruned_for_fine_tuning
    from artifact.device.models.tasks import task_for
    from artifact.device.train.loop import fine_tune

    task = task_for(name, {})
    baseline = task.train(epochs_scale=0.1)
    pruned = pruned_for_fine_tuning("prune", {"threshold": threshold}, baseline)
    settings = dict(task.retraining_defaults(), steps=WARMUP + TIMED, checkpoint_every=10 ** 6, batch_size=batch)
    stamps = []
    with tempfile.TemporaryDirectory() as work:
        fine_tune(pruned, _source(name, task, batch), settings, work,
                  progress=lambda step, steps, loss, rate: stamps.append(time.perf_counter()))
    steps = [b - a for a, b in zip(stamps[WARMUP - 1:], stamps[WARMUP:])]
    step_s = statistics.median(steps)
    default_batch = task.retraining_defaults()["batch_size"]
    print(json.dumps({"model": name, "threshold": threshold, "batch": batch, "step_s": step_s,
                      "per_1000_steps_s": 1000 * step_s, "examples_per_s": batch / step_s,
                      "default_batch": default_batch,
                      "per_1000_default_steps_s_estimate": 1000 * step_s * default_batch / batch}))


def main():
    rows = []
    for name, threshold, batch in CASES:
        out = subprocess.run([sys.executable, __file__, "--one", name, str(threshold), str(batch)], cwd=ROOT,
                             capture_output=True, text=True)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode != 0 or not line:
            print(f"{name}: failed\n{out.stderr[-2000:]}")
            continue
        rows.append(json.loads(line[-1]))
    from tabulate import tabulate

    print(f"Fine-tuning steps of pruned models on this machine ({os.cpu_count()} CPUs), median of {TIMED} steps "
          f"after {WARMUP} warm-up steps; the artifact's own loop")
    print(tabulate([[r["model"], r["threshold"], r["batch"], f"{r['step_s']:.3f}", f"{r['per_1000_steps_s']:.0f}",
                     f"{r['examples_per_s']:.1f}", r["default_batch"],
                     f"{r['per_1000_default_steps_s_estimate'] / 3600:.2f}"] for r in rows],
                   ["model", "pruned", "batch", "s/step", "s per 1,000 steps", "examples/s", "default batch",
                    "h per 1,000 steps at the default batch (linear estimate)"]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one_model(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
