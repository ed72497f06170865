"""invoke tasks: thin wrappers that shell out to `python -m artifact` (see `invoke --list`)."""
import os
import sys

from invoke import Collection, task

PY = sys.executable
VERMIN = os.path.join(os.path.dirname(PY), "vermin")  # its package has no __main__
DEVICE_SIDE = ("artifact/errors.py artifact/compat.py artifact/profiles.py artifact/records.py "
               "artifact/environment.py artifact/runner.py artifact/models artifact/compress artifact/measure")


DEFAULT_PROFILES = "embedded,paper"
PROFILE_HELP = "profile name(s) or .toml path(s), comma-separated (default: embedded,paper)"


INPUT_HELP = {
    "imagenet": "ILSVRC2012 validation directory (JPEGs + LOC_val_solution.csv or the devkit)",
    "checkpoints": "directory of TF-Slim checkpoints (vgg_16.ckpt, resnet_v1_50.ckpt, ...)",
    "nmt": "tensorflow/nmt model directory (hparams, vocabularies, newstest, checkpoint)",
    "eval_samples": "score on the first N images/sentences only (quick run)",
}


def _inputs(imagenet="", checkpoints="", nmt="", eval_samples=0):
    out = ""
    for flag, value in (("--imagenet", imagenet), ("--checkpoints", checkpoints), ("--nmt", nmt)):
        if value:
            out += f" {flag} {value}"
    return out + (f" --eval-samples {eval_samples}" if eval_samples else "")


def _each(c, command, profiles, results, gate=False, extra="", only_measured=False):
    """Run `python -m artifact <command>` once per profile; results dirs default to results/<profile>."""
    names = [p.strip() for p in profiles.split(",") if p.strip()]
    if results and len(names) > 1:
        raise SystemExit("--results names one directory: give a single --profile with it")
    if only_measured and not results:
        measured = [n for n in names if os.path.isdir(os.path.join("results", n, "records"))]
        if not measured:
            raise SystemExit(f"nothing measured yet for {', '.join(names)}: run `invoke reproduce-all` first")
        names = measured
    failed = []
    for name in names:
        opts = f"--profile {name}" + (f" --results {results}" if results else "") + (" --gate" if gate else "")
        opts += extra
        result = c.run(f"{PY} -m artifact {command} {opts}", warn=True, pty=False)
        if result.exited != 0:
            failed.append((name, result.exited))
    if failed:
        raise SystemExit(", ".join(f"{n}: exit {code}" for n, code in failed))


@task(help=dict(INPUT_HELP, profile=PROFILE_HELP, results="results directory (default results/<profile>)"))
def run(c, profile=DEFAULT_PROFILES, results="", imagenet="", checkpoints="", nmt="", eval_samples=0):
    """Measure every cell of a profile that has no record yet (resumable)."""
    _each(c, "run", profile, results, extra=_inputs(imagenet, checkpoints, nmt, eval_samples))


@task(help={"gate": "exit non-zero when any claim FAILs"})
def check(c, profile=DEFAULT_PROFILES, results="", gate=False):
    """Judge the paper's claims against the stored records; writes verdicts.json."""
    _each(c, "check", profile, results, gate)


@task
def report(c, profile=DEFAULT_PROFILES, results=""):
    """Write the HTML/Markdown/JSON report and every figure from stored results."""
    _each(c, "report", profile, results, only_measured=True)


@task
def figures(c, profile=DEFAULT_PROFILES, results=""):
    """Regenerate figures and report from stored results without re-running anything."""
    report(c, profile, results)


@task(name="reproduce-all", help=dict(INPUT_HELP, gate="exit non-zero when any claim FAILs", profile=PROFILE_HELP))
def reproduce_all(c, profile=DEFAULT_PROFILES, results="", gate=False, imagenet="", checkpoints="", nmt="",
                  eval_samples=0):
    """Run, check and report every profile: the reviewer's one command (embedded + paper by default)."""
    _each(c, "reproduce", profile, results, gate, extra=_inputs(imagenet, checkpoints, nmt, eval_samples))


REFERENCE_DIR = os.path.join("expected_results", "reference")
REFERENCE_FILES = ("run.json", "inputs.json", "verdicts.json")


@task(name="freeze-reference", help={"profile": PROFILE_HELP})
def freeze_reference(c, profile=DEFAULT_PROFILES):
    """Copy results/<profile>'s records, run.json and verdicts.json to expected_results/reference/<profile>.

    The committed copy is what CI's tolerance-check tests judge (tests/test_reference_results.py):
    re-run this after `invoke reproduce-all` when measurements or claims change on purpose.
    """
    import shutil

    for name in [p.strip() for p in profile.split(",") if p.strip()]:
        src, dst = os.path.join("results", name), os.path.join(REFERENCE_DIR, name)
        missing = [f for f in REFERENCE_FILES + ("records",) if not os.path.exists(os.path.join(src, f))]
        if missing:
            raise SystemExit(f"{src} lacks {', '.join(missing)}: run `invoke reproduce-all --profile {name}` first")
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(src, "records"), os.path.join(dst, "records"))
        for f in REFERENCE_FILES:
            shutil.copy2(os.path.join(src, f), dst)
        print(f"{dst}: {len(os.listdir(os.path.join(dst, 'records')))} records, verdicts and run.json frozen")


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


@task(help={"only": "run one benchmark script of benchmarks/ (e.g. model_zoo); default: all"})
def bench(c, only=""):
    """Benchmarks that print figures (medians and ratios), never pass/fail: every benchmarks/*.py."""
    names = sorted(n[:-3] for n in os.listdir("benchmarks") if n.endswith(".py") and not n.startswith("_"))
    if only and only not in names:
        raise SystemExit(f"no benchmark {only!r}; choose one of: {', '.join(names)}")
    for name in [only] if only else names:
        print(f"== benchmarks/{name}.py")
        c.run(f"{PY} benchmarks/{name}.py", pty=False)


ns = Collection(run, check, report, figures, reproduce_all, freeze_reference, doctor, lint, test, bench)
