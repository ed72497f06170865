"""A reviewer's first contact, cold: `invoke bench --only reviewer`.

Runs `python -m artifact reproduce --profile quick` (or the profile in $PROFILE) into a fresh results
directory, the way `make quick` does after install, and prints the wall time of each step and where the
run's time went: per technique, the phases every record keeps (baseline training or loading, compression,
saving, loading, each meter). The same table is in the report ("Where the time went").
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    from tabulate import tabulate

    from artifact.core.results import ResultsDir
    from artifact.host.report.render import time_rows

    profile = os.environ.get("PROFILE", "quick")
    with tempfile.TemporaryDirectory() as tmp:
        results = os.path.join(tmp, profile)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "artifact", "reproduce", "--profile", profile, "--results",
                               results, "--allow-busy"], cwd=ROOT, capture_output=True, text=True)
        total = time.perf_counter() - start
        print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:])
        print(f"cold {profile}: {total:.1f} s in all (exit {proc.returncode})")
        headers, rows = time_rows(ResultsDir(results).load_records())
        print(tabulate(rows, headers))


if __name__ == "__main__":
    main()
