"""invoke tasks: thin wrappers that shell out to `python -m artifact` (see `invoke --list`)."""
import os
import sys

from invoke import Collection, task

PY = sys.executable
VERMIN = os.path.join(os.path.dirname(PY), "vermin")  # its package has no __main__
DEVICE_SIDE = ("artifact/errors.py artifact/compat.py artifact/profiles.py artifact/records.py "
               "artifact/environment.py artifact/runner.py artifact/models artifact/compress artifact/measure")


def _opts(profile, results, gate=False):
    out = f"--profile {profile}"
    if results:
        out += f" --results {results}"
    return out + (" --gate" if gate else "")


@task(help={"profile": "profile name or .toml path", "results": "results directory (default results/<profile>)"})
def run(c, profile="embedded", results=""):
    """Measure every cell of a profile that has no record yet (resumable)."""
    c.run(f"{PY} -m artifact run {_opts(profile, results)}", pty=False)


@task(help={"gate": "exit non-zero when any claim FAILs"})
def check(c, profile="embedded", results="", gate=False):
    """Judge the paper's claims against the stored records; writes verdicts.json."""
    c.run(f"{PY} -m artifact check {_opts(profile, results, gate)}")


@task
def report(c, profile="embedded", results=""):
    """Write the HTML/Markdown/JSON report and every figure from stored results."""
    c.run(f"{PY} -m artifact report {_opts(profile, results)}")


@task
def figures(c, profile="embedded", results=""):
    """Regenerate figures and report from stored results without re-running anything."""
    report(c, profile, results)


@task(name="reproduce-all", help={"gate": "exit non-zero when any claim FAILs"})
def reproduce_all(c, profile="embedded", results="", gate=False):
    """Run, check and report: the reviewer's one command (embedded profile by default)."""
    c.run(f"{PY} -m artifact reproduce {_opts(profile, results, gate)}")


@task
def doctor(c):
    """Show what this machine offers: GPU, power sensors, inputs, versions."""
    c.run(f"{PY} -m artifact doctor")


@task
def lint(c):
    """ruff on everything; vermin: device-side code must import on Python 3.6 (Jetson TX2)."""
    c.run(f"{PY} -m ruff check .")
    c.run(f"{VERMIN} -t=3.6- --no-tips --violations --backport dataclasses {DEVICE_SIDE}")


@task(help={"k": "pytest -k expression"})
def test(c, k=""):
    """Run the test suite."""
    c.run(f"{PY} -m pytest -q" + (f" -k '{k}'" if k else ""))


@task
def bench(c):
    """Benchmarks that print figures (medians and ratios), never pass/fail."""
    c.run(f"{PY} benchmarks/run.py")


ns = Collection(run, check, report, figures, reproduce_all, doctor, lint, test, bench)
