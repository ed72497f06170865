"""A reviewer's first contact, cold: `invoke bench --only reviewer`.

Runs `python -m artifact retrain` then `reproduce` for the quick profile (or each profile in $PROFILE,
comma-separated: PROFILE=quick,embedded,paper for all three) into a fresh results directory, the way
`make quick` / `invoke reproduce-all` do after install, and prints the wall time of each step and where the
run's time went: per technique, the phases every record keeps (baseline training or loading, retraining,
compression, saving, loading, each meter). The same table is in the report ("Where the time went").
KEEP=DIR keeps the results in DIR/<profile> (which must not exist yet: the run is cold) instead of a temporary
directory, e.g. KEEP=results and then `invoke freeze-reference` to freeze them as the references.

STAGES=two runs `reproduce --two-stage` (artifact.device.run.stages: preparation in parallel, then the timings
one at a time); STAGES=both runs each profile cold the old way (one cell at a time), then cold in two stages, in
the same session on the same machine, into <profile>-one and <profile>-two, and prints the ratios, each stage's
wall time and its parallel efficiency: the one-stage run's seconds of that stage's meters and phases (from its
records) over (the stage's wall time x the workers it ran at once). Each run is also checked --against
expected_results/reference/<profile> when there is one (the agreement the two-stage path must keep).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


QUIET = ("time_and_power", "op_profile")   # artifact.device.run.meters.QUIET_METERS (the host never imports it)


def one_profile(profile, tmp, two_stage=False, name=None):
    from tabulate import tabulate

    from artifact.core.results import ResultsDir
    from artifact.host.report.render import time_rows

    results = os.path.join(tmp, name or profile)
    steps = []
    start = time.perf_counter()
    run = ["reproduce", "--allow-busy"] + (["--two-stage"] if two_stage else [])
    for command in (["retrain"], run):   # what `invoke reproduce-all` runs per profile
        began = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "artifact", command[0], "--profile", profile, "--results",
                               results] + command[1:], cwd=ROOT, capture_output=True, text=True)
        steps.append("{} {:.1f} s".format(command[0], time.perf_counter() - began))
        if proc.returncode not in (0, 1):
            print(proc.stdout[-1500:] + proc.stderr[-1500:])
            break
    total = time.perf_counter() - start
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:])
    for line in proc.stdout.splitlines():
        if " stage: " in line:
            print("  " + line)
    print(f"cold {profile}{' in two stages' if two_stage else ''}: {total:.1f} s in all ({', '.join(steps)}; exit "
          f"{proc.returncode}; load average at the end {os.getloadavg()[0]:.2f})")
    headers, rows = time_rows(ResultsDir(results).load_records())
    print(tabulate(rows, headers))
    _against(profile, results)
    return total, results


def _against(profile, results):
    reference = os.path.join(ROOT, "expected_results", "reference", profile)
    if not os.path.isdir(reference):
        return
    proc = subprocess.run([sys.executable, "-m", "artifact", "check", "--profile", profile, "--results", results,
                           "--against", reference], cwd=ROOT, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("  differs") or line.startswith("check: ") and "agree" in line or "timing differ" in line:
            print("  " + line[:400])


def _steps(results):
    with open(os.path.join(results, "run.json")) as handle:
        return json.load(handle).get("steps", {})


def _phase_seconds(results, quiet):
    """The seconds the records' phases of one stage took (quiet: the timing meters; else every other phase)."""
    from artifact.core.results import ResultsDir

    return sum(seconds for record in ResultsDir(results).load_records().values()
               for phase, seconds in record.phases.items() if (phase in QUIET) == quiet)


def compare(profile, one, two):
    """The two runs of a profile side by side: totals, the run step, each stage's wall time and efficiency."""
    (t_one, r_one), (t_two, r_two) = one, two
    s_one, s_two = _steps(r_one), _steps(r_two)
    print(f"{profile}: cold {t_one:.1f} s one stage, {t_two:.1f} s two stages: ratio {t_two / t_one:.2f}; "
          f"the run step {s_one.get('run', 0):.1f} s -> {s_two.get('run', 0):.1f} s "
          f"(ratio {s_two.get('run', 0) / max(s_one.get('run', 1e-9), 1e-9):.2f})")
    cpus = os.cpu_count() or 1
    for stage, quiet, workers in (("prepare", False, cpus), ("quiet", True, 1)):
        wall = s_two.get(f"run: {stage} stage")
        if not wall:
            continue
        work = _phase_seconds(r_one, quiet)
        print(f"  {stage} stage: {wall:.1f} s wall; the one-stage run spent {work:.1f} s on its phases; parallel "
              f"efficiency {work / (wall * workers):.2f} on {workers} worker{'s' if workers > 1 else ''} "
              f"(speed-up {work / wall:.2f})")


def main():
    profiles = [p.strip() for p in os.environ.get("PROFILE", "quick").split(",") if p.strip()]
    keep = os.environ.get("KEEP")
    if keep:
        taken = [p for p in profiles if os.path.exists(os.path.join(keep, p))]
        if taken:
            raise SystemExit(f"KEEP={keep}: {os.path.join(keep, taken[0])} exists; a cold run needs it gone")
    stages = os.environ.get("STAGES", "one")
    if stages not in ("one", "two", "both"):
        raise SystemExit(f"STAGES={stages}: one (the old way, one cell at a time), two (--two-stage) or both")
    with tempfile.TemporaryDirectory() as tmp:
        if stages == "both":
            for p in profiles:
                compare(p, one_profile(p, keep or tmp, name=p + "-one"),
                        one_profile(p, keep or tmp, True, name=p + "-two"))
            return
        totals = {p: one_profile(p, keep or tmp, stages == "two")[0] for p in profiles}
    if len(totals) > 1:
        print("cold, in all: " + ", ".join(f"{p} {t:.0f} s" for p, t in totals.items()))


if __name__ == "__main__":
    main()
