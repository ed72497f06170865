"""Does `explore` earn its budget? `invoke bench --only advisor` (issue 31). Figures printed, never pass/fail.

For each mini CNN of the embedded profile (stand-ins trained here on scikit-learn digits, x86: never the paper's
models or board):
1. The paper's grid of the model (its quantize / prune / quantize_prune cells), its fp32 baseline, LiteRT int8
   and the cells of SAME_RUNTIME_PROBES (pruned-then-int8 LiteRT, per-block pruning: the profile's own plus
   PROBES, pruned-then-int8 at two more thresholds, appended to a copy of the profile in the work folder) are
   measured once, in one results directory (`python -m artifact run --cells`).
2. For each seed, a copy of that directory, and `explore` in it with `known=False` (`explore --no-known`): the
   sampler knows nothing of the grid's records. Its budget is a quarter of the model's grid cells in trials (at
   least 1). A trial equal to a cell already measured is told from that cell's record (measured the same way,
   in the same directory, against the same baseline): it costs a trial, not a measurement, and the table
   counts new measurements apart.
3. Per model and seed, the hypervolume of the explored configurations' front over the grid's, in two planes
   (size x top-1 drop, latency x top-1 drop; same reference point: `Explorer.summary`), then the medians over
   the seeds and how many models reach 0.95 in both planes.
4. Same runtime: within 1 point of top-1, the fastest configuration measured for the model (grid and every
   seed's trials) on LiteRT against uniform LiteRT int8, and on Keras against Keras fp32 (latencies paired to
   the baseline window by window: their ratio is a ratio of paired ratios).

`--work DIR` keeps the directories (a re-run measures only what is missing, each study resumes); without it they
live in a temporary folder removed at the end.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PROFILE = "embedded"
MODELS = ("mini_vgg", "mini_resnet", "mini_inception", "mini_mobilenet")
SEEDS = (0, 1, 2)
TARGET = 0.95  # issue 31: the explored front's share of the grid's hypervolume, in both planes
WITHIN_POINTS = 1.0  # top-1 points of the same-runtime comparison
LITERT_INT8 = {"mode": "int8"}
SAME_RUNTIME_PROBES = ("prune_litert", "prune_blocks")  # measured beside the grid for part 4, never the grid
PROBES = """
# ---- benchmarks/advisor.py: pruned-then-int8 LiteRT at two more thresholds (same-runtime probes)
[[group]]
technique = "prune_litert"
models = [{models}]
settings = [{{threshold = 0.1, mode = "int8"}}, {{threshold = 0.25, mode = "int8"}}]
metrics = ["params", "storage_bytes", "inference_time_s", "top1", "top5"]
"""


def budget(grid_cells):
    """Trials of a search: a quarter of the model's grid cells, at least one."""
    return max(1, grid_cells // 4)


def grid_keys(profile, model):
    """(the grid's own cells, every cell measured in the grid's directory) of a model."""
    from artifact.core.techniques import grid_techniques

    grid = [c.key for c in profile.cells_of(model) if c.technique in grid_techniques()]
    extra = [c.key for c in profile.cells_of(model)
             if c.technique in ("baseline",) + SAME_RUNTIME_PROBES
             or (c.technique == "litert" and c.setting == LITERT_INT8)]
    return grid, grid + extra


def probe_profile(work, models):
    """The profile's own text plus PROBES, as a file in the work folder (`run --profile FILE`)."""
    from artifact.core.atomic import write_atomic
    from artifact.core.profiles import load_profile

    with open(load_profile(PROFILE).source) as handle:
        text = handle.read()
    path = os.path.join(work, "probes.toml")
    write_atomic(path, text + PROBES.format(models=", ".join('"{}"'.format(m) for m in models)))
    return load_profile(path)


def measure(profile, results_path, keys):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "artifact", "run", "--profile", profile.source, "--results",
                           results_path,
                           "--cells", ",".join(keys), "--allow-busy"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit("grid run failed ({}): {}".format(proc.returncode, (proc.stderr or proc.stdout)[-2000:]))
    return time.monotonic() - started


def explore_one(results_path, model, seed, trials):
    from artifact.core.results import ResultsDir
    from artifact.host.explore.search import Explorer

    explorer = Explorer(PROFILE, ResultsDir(results_path), model, seed=seed, batch=trials, allow_busy=True,
                        known=False)
    return explorer.explore(trials, minutes=30.0), [t.user_attrs["cell"] for t in explorer.completed()]


def fastest_within(configs, runtime, top1_floor):
    from artifact.host.advise.from_records import runtime_of

    near = [c for c in configs if runtime_of(c.name.split(" ")[0]) == runtime and c.get("latency_ms") is not None
            and c.get("top1_drop") is not None and c.get("top1_drop") <= top1_floor]
    return min(near, key=lambda c: c.get("latency_ms"), default=None)


def same_runtime(model, folders):
    """(LiteRT: best within 1 point vs int8; Keras: best within 1 point vs fp32), from every folder's records."""
    from artifact.core.results import ResultsDir
    from artifact.host.advise.from_records import configs_by_model

    configs = {}
    for folder in folders:
        for config in configs_by_model(ResultsDir(folder).load_records()).get(model, []):
            configs.setdefault(config.evidence[0], config)
    every = list(configs.values())
    int8 = next((c for c in every if c.name == "litert mode=int8"), None)
    fp32 = next((c for c in every if c.name.split(" ")[0] == "baseline"), None)
    out = []
    for runtime, reference in (("litert", int8), ("keras", fp32)):
        best = fastest_within(every, runtime, WITHIN_POINTS)
        if best is None or reference is None:
            out.append("—")
        else:
            speedup = reference.get("latency_ms") / best.get("latency_ms")
            out.append("{} {:.2f}x (top-1 drop {:.2f} pts)".format(best.name, speedup, best.get("top1_drop")))
    return out, len(every)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=None, help="keep the results directories here (default: a temporary one)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated sampler seeds")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated mini CNNs")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    from tabulate import tabulate

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    work = args.work or tempfile.mkdtemp(prefix="bench-advisor-")
    os.makedirs(work, exist_ok=True)
    try:
        grid_dir = os.path.join(work, "grid")
        profile = probe_profile(work, models)
        keys = {m: grid_keys(profile, m) for m in models}
        seconds = measure(profile, grid_dir, [k for m in models for k in keys[m][1]])
        print("grid, baselines, LiteRT int8 and probes measured in {:.0f} s (load average {:.1f})".format(
            seconds, os.getloadavg()[0]), flush=True)
        rows, ratios, folders = [], {m: {"size": [], "latency": []} for m in models}, [grid_dir]
        for seed in seeds:
            folder = os.path.join(work, "seed-{}".format(seed))
            folders.append(folder)
            if not os.path.isdir(folder):
                shutil.copytree(grid_dir, folder, ignore=shutil.ignore_patterns("explore", "explore.db", ".lock*"))
            for model in models:
                grid, measured = keys[model]
                started = time.monotonic()
                summary, cells = explore_one(folder, model, seed, budget(len(grid)))
                size = summary.get("hypervolume_size_mb_top1_drop", {}).get("ratio")
                latency = summary.get("hypervolume_latency_ms_top1_drop", {}).get("ratio")
                ratios[model]["size"].append(size)
                ratios[model]["latency"].append(latency)
                new = [c for c in cells if c not in measured]
                asked = "; ".join(c.split("__", 1)[1] for c in cells)
                rows.append([model, seed, len(grid), len(cells), len(new), _fmt(size), _fmt(latency), asked,
                             "{:.0f}".format(time.monotonic() - started)])
                print("{} seed {}: {} trials, hypervolume ratio size {} latency {} (load average {:.1f})".format(
                    model, seed, len(cells), _fmt(size), _fmt(latency), os.getloadavg()[0]), flush=True)
        print(tabulate(rows, headers=["model", "seed", "grid cells", "trials", "new measurements", "HV ratio size",
                                      "HV ratio latency", "trials asked", "s"], tablefmt="github"))
        medians, reached = [], 0
        for model in models:
            size, latency = (_median(ratios[model][p]) for p in ("size", "latency"))
            ok = size is not None and latency is not None and size >= TARGET and latency >= TARGET
            reached += ok
            litert, keras = same_runtime(model, folders)[0]
            medians.append([model, _fmt(size), _fmt(latency), "yes" if ok else "no", litert, keras])
        print()
        print(tabulate(medians, headers=["model", "median HV ratio size", "median HV ratio latency",
                                         ">= {} both".format(TARGET), "LiteRT: fastest within 1 pt vs int8",
                                         "Keras: fastest within 1 pt vs fp32"], tablefmt="github"))
        print("\n{} of {} models reach {} of the grid's hypervolume in both planes (medians over seeds {}); x86 CPU, "
              "load average at the end {:.1f}".format(reached, len(models), TARGET, seeds, os.getloadavg()[0]))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _median(values):
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _fmt(value):
    return "—" if value is None else "{:.3f}".format(value)


if __name__ == "__main__":
    main()
