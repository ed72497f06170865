"""The faster full run against the methods it replaced, on the paper's architectures: `invoke bench --only speedups`.

Figures, never pass/fail (the tests pin what must hold: tests/device/measure/test_op_profile.py,
tests/device/run/test_memory_probe.py).
Each pair runs in alternating order, REPEATS times, so drift on a shared machine hits both; medians.

1. Op profile (the op_shares and dequantize_share meters): weights as variables read at run time (since
   2026-12-02) against weights frozen into constants (before): seconds for one `profile_ops(runs=3)` as the
   meter calls it, and what is judged or drawn: dequantize_share, the top op type and its share.
2. Memory probe (memory_peak_bytes): a child forked from the worker's pre-imported probe server against a
   fresh `python -m` process: the footprint, the RSS before loading and the seconds per probe.
3. The baseline once per worker: seconds to load the baseline's file (what each cell paid, twice) against the
   digest check that now guards the loaded one.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tabulate import tabulate  # noqa: E402

REPEATS = 2
OP_CASES = [("vgg_19", "baseline"), ("nmt", "baseline"), ("resnet_v1_50", "baseline"), ("resnet_v1_50", "quantize"),
            ("inception_v3", "quantize"), ("mobilenet_v1", "quantize"), ("vgg_16", "quantize")]
MEMORY_CASES = [("mobilenet_v1", "baseline"), ("resnet_v1_50", "baseline"), ("resnet_v1_50", "quantize"),
                ("vgg_16", "baseline"), ("nmt", "baseline")]
BASELINE_CASES = ["resnet_v1_50", "vgg_19"]


def _variant(name, technique):
    from artifact.device.compress.techniques import apply_technique
    from artifact.device.models.tasks import task_for

    task = task_for(name, {})
    model = task.train()
    if technique == "quantize":
        model = apply_technique("quantize", {"bits": 8}, model, task, 0)
    return task, model


def op_profiles():
    from artifact.device.measure.op_profile import profile_ops

    rows = []
    for name, technique in OP_CASES:
        task, model = _variant(name, technique)
        if hasattr(task, "profile_fn"):
            fn, inputs = task.profile_fn(model), task.profile_input()
        else:
            fn, inputs = task.predict_fn(model), task.timing_inputs(1)[0]
        seen = {"variables": [], "constants": []}
        for repeat in range(REPEATS):
            for weights in (("variables", "constants") if repeat % 2 == 0 else ("constants", "variables")):
                start = time.perf_counter()
                prof = profile_ops(fn, inputs, runs=3, weights=weights)
                seen[weights].append((time.perf_counter() - start, prof))
        row = ["{} {}".format(name, technique)]
        for weights in ("constants", "variables"):
            seconds = statistics.median(s for s, _ in seen[weights])
            deq = statistics.median(p.dequantize_share for _, p in seen[weights])
            top = next(iter(seen[weights][-1][1].shares()))
            share = statistics.median(p.shares(0.0).get(top, 0.0) for _, p in seen[weights])
            row += ["{:.1f}".format(seconds), "{:.3f}".format(deq), "{} {:.2f}".format(top, share)]
        rows.append(row)
        print(tabulate([row]), flush=True)
    print(tabulate(rows, ["variant", "constants s", "deq. share", "top op", "variables s", "deq. share",
                          "top op"]))
    before = sum(float(r[1]) for r in rows)
    after = sum(float(r[4]) for r in rows)
    print("op profile, these {} variants: {:.0f} s with constants, {:.0f} s with variables ({:.1f}x)\n".format(
        len(rows), before, after, before / after))


def memory_probes(tmp):
    from artifact.device.compress.deploy import save_deployable
    from artifact.device.run.memory_probe import ProbeServer, fresh_probe

    rows = []
    server = ProbeServer(tmp)
    try:
        for name, technique in MEMORY_CASES:
            path = os.path.join(tmp, "{}_{}.keras".format(name, technique))
            save_deployable(_variant(name, technique)[1], path, {"model": name, "technique": technique})
            seen = {"fresh": [], "forked": []}
            for repeat in range(REPEATS):
                for how in (("fresh", "forked") if repeat % 2 == 0 else ("forked", "fresh")):
                    start = time.perf_counter()
                    result = (fresh_probe if how == "fresh" else server.measure)(path, name, 3)[1]
                    seen[how].append((time.perf_counter() - start, result))
            row = ["{} {}".format(name, technique)]
            for how in ("fresh", "forked"):
                row += ["{:.1f}".format(statistics.median(s for s, _ in seen[how])),
                        "{:.1f}".format(statistics.median(r["peak_delta_bytes"] for _, r in seen[how]) / 1e6),
                        "{:.0f}".format(statistics.median(r["rss_before_bytes"] for _, r in seen[how]) / 1e6)]
            rows.append(row)
            print(tabulate([row]), flush=True)
            os.remove(path)
    finally:
        server.close()
    print(tabulate(rows, ["variant", "fresh s", "footprint MB", "RSS before MB", "forked s", "footprint MB",
                          "RSS before MB"]))
    print("(forked: the first probe of a server includes its start and imports, as in a worker)\n")


def baselines(tmp):
    from artifact.device.compress.storage import load_model_file, save_model_file
    from artifact.device.models.tasks import task_for
    from artifact.device.train.package import weights_sha256

    rows = []
    for name in BASELINE_CASES:
        path = os.path.join(tmp, name + ".keras")
        save_model_file(task_for(name, {}).train(), path, {"model": name, "technique": "baseline"})
        loads, digests = [], []
        for _ in range(REPEATS + 1):
            start = time.perf_counter()
            model = load_model_file(path)[0]
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            weights_sha256(model)
            digests.append(time.perf_counter() - start)
        rows.append([name, "{:.2f}".format(statistics.median(loads)), "{:.2f}".format(statistics.median(digests))])
        os.remove(path)
    print(tabulate(rows, ["baseline", "load its file s (each cell, twice, before)", "digest check s (now)"]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        op_profiles()
        memory_probes(tmp)
        baselines(tmp)


if __name__ == "__main__":
    main()
