"""A reviewer's first contact, cold: `invoke bench --only reviewer`.

Runs `python -m artifact retrain` then `reproduce` for the quick profile (or each profile in $PROFILE,
comma-separated: PROFILE=quick,embedded,paper for all three) into a fresh results directory, the way
`make quick` / `invoke reproduce-all` do after install, and prints the wall time of each step and where the
run's time went: per technique, the phases every record keeps (baseline training or loading, retraining,
compression, saving, loading, each meter). The same table is in the report ("Where the time went").
KEEP=DIR keeps the results in DIR/<profile> (which must not exist yet: the run is cold) instead of a temporary
directory, e.g. KEEP=results and then `invoke freeze-reference` to freeze them as the references.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def one_profile(profile, tmp):
    from tabulate import tabulate

    from artifact.core.results import ResultsDir
    from artifact.host.report.render import time_rows

    results = os.path.join(tmp, profile)
    steps = []
    start = time.perf_counter()
    for command in (["retrain"], ["reproduce", "--allow-busy"]):   # what `invoke reproduce-all` runs per profile
        began = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "artifact", command[0], "--profile", profile, "--results",
                               results] + command[1:], cwd=ROOT, capture_output=True, text=True)
        steps.append("{} {:.1f} s".format(command[0], time.perf_counter() - began))
        if proc.returncode not in (0, 1):
            print(proc.stdout[-1500:] + proc.stderr[-1500:])
            break
    total = time.perf_counter() - start
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:])
    print(f"cold {profile}: {total:.1f} s in all ({', '.join(steps)}; exit {proc.returncode}; "
          f"load average at the end {os.getloadavg()[0]:.2f})")
    headers, rows = time_rows(ResultsDir(results).load_records())
    print(tabulate(rows, headers))
    return total


def main():
    profiles = [p.strip() for p in os.environ.get("PROFILE", "quick").split(",") if p.strip()]
    keep = os.environ.get("KEEP")
    if keep:
        taken = [p for p in profiles if os.path.exists(os.path.join(keep, p))]
        if taken:
            raise SystemExit(f"KEEP={keep}: {os.path.join(keep, taken[0])} exists; a cold run needs it gone")
    with tempfile.TemporaryDirectory() as tmp:
        totals = {p: one_profile(p, keep or tmp) for p in profiles}
    if len(totals) > 1:
        print("cold, in all: " + ", ".join(f"{p} {t:.0f} s" for p, t in totals.items()))


if __name__ == "__main__":
    main()
