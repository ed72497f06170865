"""Compression benchmarks (issue 4): figures printed, never pass/fail. `invoke bench --only compression`.

1. Quantizing VGG_16 (138M parameters) to 6 bits, and pruning it at 5% without retraining:
   seconds, and the process's peak-RSS growth over the fp32 weights' size (goals: <= 20 s,
   <= 3x). Each runs in a fresh subprocess after the model is built, so the peak is its own.
2. Storage of every variant of every Table I model, from the `paper` profile's records, against
   the paper's §IV-C averages (16-bit -50.2%, 8-bit -75%, 6-bit -80.7%, pruning -27.2%).
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PAPER = {("quantize", "bits-16"): 50.2, ("quantize", "bits-8"): 75.0, ("quantize", "bits-6"): 80.7,
         ("prune", "threshold-0.05"): 27.2}


def one(technique):
    """Subprocess: build VGG_16, then time `technique` and its peak RSS growth."""
    from artifact.device.compat import keras
    from artifact.device.compress.prune import prune_model
    from artifact.device.compress.quantize import quantize_model
    from artifact.device.measure.memory import current_rss_bytes, peak_rss_bytes, reset_peak
    from artifact.device.models.architectures.paper_architectures import build_paper_model, count_params

    keras.utils.set_random_seed(0)
    model = build_paper_model("vgg_16")
    fp32 = count_params(model) * 4
    reset_peak()
    before = current_rss_bytes()
    start = time.perf_counter()
    result = quantize_model(model, 6) if technique == "quantize" else prune_model(model, 0.05)
    seconds = time.perf_counter() - start
    growth = peak_rss_bytes() - before
    print("RESULT " + json.dumps({"seconds": seconds, "growth": growth, "fp32": fp32,
                                  "params_after": count_params(result)}), flush=True)


def vgg16(technique, repeats=3):
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--one", technique], cwd=ROOT, capture_output=True,
                              text=True, check=True)
        runs.append(json.loads(proc.stdout.split("RESULT ")[-1]))
    seconds = statistics.median(r["seconds"] for r in runs)
    growth = statistics.median(r["growth"] for r in runs) / runs[0]["fp32"]
    label = "quantize VGG_16 to 6 bits" if technique == "quantize" else "prune VGG_16 at 5% (no retraining)"
    print(f"{label}: median {seconds:.1f} s of {repeats} fresh processes (goal <= 20 s); peak RSS growth "
          f"{growth:.2f}x the fp32 weights ({runs[0]['fp32'] / 1e6:.0f} MB; goal <= 3x)")


def storage_table(results="results/paper"):
    from tabulate import tabulate

    from artifact.core.records import load_records

    records = load_records(os.path.join(ROOT, results, "records"))
    if not records:
        print(f"storage table: no records in {results}; run `invoke run --profile paper` first")
        return
    base = {r.cell["model"]: r.value("storage_bytes") for r in records.values() if r.cell["technique"] == "baseline"}
    rows, reductions = [], {}
    for record in sorted(records.values(), key=lambda r: r.key):
        size, model = record.value("storage_bytes"), record.cell["model"]
        if record.cell["technique"] == "baseline" or size is None or not base.get(model):
            continue
        setting = record.key.split("__")[2]
        reduction = (1 - size / base[model]) * 100
        reductions.setdefault((record.cell["technique"], setting), []).append(reduction)
        rows.append([model, record.cell["technique"], setting, f"{size / 1e6:.1f}", f"{reduction:.1f}"])
    print(tabulate(rows, headers=["model", "technique", "setting", "MB", "reduction %"], tablefmt="github"))
    print()
    summary = [[t, s, len(v), f"{statistics.mean(v):.1f}", PAPER.get((t, s), "")]
               for (t, s), v in sorted(reductions.items())]
    print(tabulate(summary, headers=["technique", "setting", "models", "mean reduction %", "paper §IV-C %"],
                   tablefmt="github"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        vgg16("quantize")
        vgg16("prune")
        storage_table()
