"""Model-zoo benchmarks (issue 3): figures printed, never pass/fail. `invoke bench --only model_zoo`.

1. Seconds to build each of the eleven Table I models (Keras 2, initialised weights).
2. Seconds to load a TF-Slim-sized checkpoint into each (written here from the model's own
   initialised weights in slim / nmt naming, then read back by the real loader).
3. Seconds per image (per sentence for NMT) on this machine: median of repeated batch-1 calls.
4. Seconds to train the embedded mini-zoo (all five models, from scratch, no cache).
Each model is measured in a fresh subprocess so build times and memory do not leak between them.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

REPEATS = 7


def one_model(name):
    """Runs in a subprocess: prints one JSON line of figures for one Table I model."""
    import numpy as np

    from artifact.device.compat import keras, tf
    from artifact.device.models.architectures.paper_architectures import PAPER_MODELS, build_paper_model, count_params

    info = PAPER_MODELS[name]
    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    model = build_paper_model(name) if name != "nmt" else build_paper_model(name, dropout=0.0)
    build_s = time.perf_counter() - start
    out = {"model": name, "params": count_params(model), "build_s": build_s}
    tmp = tempfile.mkdtemp(prefix="bench-ckpt-")
    try:
        prefix = os.path.join(tmp, name + ".ckpt")
        if name == "nmt":
            from artifact.device.models.checkpoints.gnmt_checkpoint import load_nmt_checkpoint, write_nmt_checkpoint

            write_nmt_checkpoint(model, prefix)
            start = time.perf_counter()
            load_nmt_checkpoint(model, prefix)
        else:
            from artifact.device.models.checkpoints.slim_checkpoint import load_slim_checkpoint, write_slim_checkpoint

            write_slim_checkpoint(model, prefix, version=2)
            start = time.perf_counter()
            load_slim_checkpoint(model, prefix)
        out["checkpoint_load_s"] = time.perf_counter() - start
        out["checkpoint_bytes"] = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if name == "nmt":
        from artifact.device.models.tasks.paper import paper_task

        task = paper_task(name, {})
        fn = task.predict_fn(model)
        x = task.timing_inputs(1)[0]
        out["unit"] = "sentence ({} source tokens, greedy)".format(x.shape[1])
    else:
        from artifact.device.models.data.imagenet import PREPROCESSING_FOR_FAMILY, sample_photos

        fn = tf.function(lambda t: model(t, training=False))
        x = sample_photos(PREPROCESSING_FOR_FAMILY[info.family], info.input_size)[0]
        out["unit"] = "image {0}x{0}".format(info.input_size)
    np.asarray(fn(x))  # trace and warm up
    np.asarray(fn(x))
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        np.asarray(fn(x))
        times.append(time.perf_counter() - start)
    out["infer_median_s"] = statistics.median(times)
    out["infer_spread"] = (max(times) - min(times)) / statistics.median(times)
    print("RESULT " + json.dumps(out), flush=True)


def mini_zoo_training():
    code = ("import time; from artifact.device.models.data import bundled; "
            "from artifact.device.models.architectures import mini_zoo; s=bundled.digits_split(); "
            "c=bundled.number_corpus(); t=time.perf_counter(); "
            "[mini_zoo.train_mini_model(n, split=s) for n in sorted(mini_zoo.CNN_BUILDERS)]; "
            "mini_zoo.train_mini_model('mini_nmt', corpus=c); print('RESULT', time.perf_counter()-t)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(proc.stdout.split("RESULT")[-1])


def main():
    from tabulate import tabulate

    from artifact.device.models.architectures.paper_architectures import PAPER_MODELS

    rows = []
    for name in PAPER_MODELS:
        proc = subprocess.run([sys.executable, __file__, "--one", name], cwd=ROOT, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(f"{name}: failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(lines[-1][7:])
        rows.append([name, f"{r['params'] / 1e6:.1f}M", f"{r['build_s']:.2f}", f"{r['checkpoint_bytes'] / 1e6:.0f}",
                     f"{r['checkpoint_load_s']:.2f}", f"{r['infer_median_s'] * 1e3:.1f}", f"{r['infer_spread']:.0%}",
                     r["unit"]])
        print(f"{name}: done", flush=True)
    print(tabulate(rows, headers=["model", "params", "build s", "ckpt MB", "ckpt load s", "ms / input (median)",
                                  "spread (max-min)/median", "input"], tablefmt="github"))
    seconds = mini_zoo_training()
    print(f"\nmini-zoo training, all five models from scratch: {seconds:.1f} s (goal <= 120 s)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one_model(sys.argv[2])
    else:
        main()
