"""invoke tasks: thin wrappers that shell out to `python -m artifact` (see `invoke --list`)."""
import difflib
import os
import re
import signal
import sys

from invoke import Collection, Exit, Local, UnexpectedExit, task
from invoke.parser import parser as _invoke_parser

from artifact.core.results import DEFAULT_ROOT, ResultsDir, SummaryDir  # the one owner of every path (stdlib only)

PY = sys.executable
VERMIN = os.path.join(os.path.dirname(PY), "vermin")  # its package has no __main__

# The checkout's root is where tasks.py is (invoke finds it from any directory below): every task works
# there, so results/ is always the checkout's; a path the user types is read from where they typed it.
ROOT = os.path.dirname(os.path.abspath(__file__))
CALLED_FROM = os.getcwd()
if os.path.realpath(CALLED_FROM) != os.path.realpath(ROOT):
    print(f"invoke: working in the checkout's root {ROOT} (called from {CALLED_FROM})", file=sys.stderr)
    os.chdir(ROOT)


def _here(path):
    """A path the user gave, as they meant it: relative to the directory invoke was called from."""
    if not path or os.path.isabs(os.path.expanduser(path)):
        return os.path.expanduser(path) if path else path
    return os.path.normpath(os.path.join(CALLED_FROM, path))


def _suggesting_error(self, msg):
    """invoke's 'No idea what X is!' with the nearest task (or, after a task, the nearest of its options)."""
    match = re.match(r"No idea what '(.+)' is!$", msg)
    if match:
        token = match.group(1)
        names = list(self.context.flags) if token.startswith("-") and self.context else list(self.contexts)
        near = difflib.get_close_matches(token, names, n=1, cutoff=0.5)
        msg = f"{msg} Did you mean {near[0]!r}?" if near else f"{msg} (`invoke --list` lists the tasks)"
    raise _invoke_parser.ParseError(msg, self.context)


_invoke_parser.ParseMachine.error = _suggesting_error

INTERRUPTED = 130  # what `python -m artifact` exits with on SIGINT, after its one line
INTERRUPTED_LINE = "interrupted: finished cells are saved; re-run the same command to continue"  # and invoke's


class _Interruptible(Local):
    """invoke's local runner, forwarding an interrupt as SIGINT (its default writes ^C into the command's stdin
    pipe, which `python -m artifact` never reads, then fails on the closed pipe with a long traceback); a command
    that ends interrupted (exit 130, its one line said) ends the task with 130 and nothing more."""

    def send_interrupt(self, interrupt):
        pid = getattr(self, "pid", None) if self.using_pty else getattr(self.process, "pid", None)
        if pid and (self.using_pty or self.process.poll() is None):
            os.kill(pid, signal.SIGINT)

    def run(self, command, **kwargs):
        try:
            result = super().run(command, **kwargs)
        except UnexpectedExit as failed:
            if failed.result.exited in (INTERRUPTED, -signal.SIGINT):
                raise Exit(code=INTERRUPTED) from None
            raise
        if result.exited in (INTERRUPTED, -signal.SIGINT):
            raise Exit(code=INTERRUPTED)
        return result



# mypy checks all of artifact/ (pyproject.toml [tool.mypy]), the device side's type comments included (they import
# the names they use), as Python 3.10: the oldest version mypy 2.4 accepts ("--python-version 3.8: must be 3.10 or
# higher"); that the device side also runs on 3.6 is vermin's check below and the board twins' (make test-twins)
MYPY_TARGETS = ("artifact",)
MYPY_PYTHON = "3.10"

DEFAULT_PROFILES = "embedded,paper"
PROFILE_HELP = "profile name(s) or .toml path(s), comma-separated (default: embedded,paper)"


INPUT_HELP = {
    "imagenet": "ILSVRC2012 validation directory (JPEGs + LOC_val_solution.csv or the devkit)",
    "checkpoints": "directory of TF-Slim checkpoints (vgg_16.ckpt, resnet_v1_50.ckpt, ...)",
    "nmt": "tensorflow/nmt model directory (hparams, vocabularies, newstest, checkpoint)",
    "eval_samples": "score on the first N images/sentences only (quick run)",
    "allow_busy": "measure even when other processes use the CPU (timings are flagged 'busy machine')",
}


def _inputs(imagenet="", checkpoints="", nmt="", eval_samples=0, allow_busy=False):
    out = " --allow-busy" if allow_busy else ""
    for flag, value in (("--imagenet", imagenet), ("--checkpoints", checkpoints), ("--nmt", nmt)):
        if value:
            out += f" {flag} {_here(value)}"
    return out + (f" --eval-samples {eval_samples}" if eval_samples else "")


def _profile_names(profiles, results):
    """The comma-separated profile names; --results names one directory, so only with one profile."""
    names = [p.strip() for p in profiles.split(",") if p.strip()]
    if results and len(names) > 1:
        raise SystemExit("--results names one directory: give a single --profile with it")
    return names


def _progress_env():
    """The children's stderr is invoke's pipe (pty=False): when invoke's own stderr is a terminal, say so, so their
    progress redraws the current cell and phase (artifact.core.progress)."""
    from artifact.core.progress import TTY_ENV

    return {TTY_ENV: "1"} if sys.stderr.isatty() else {}


def _each(c, command, profiles, results, gate=False, extra="", only_measured=False):
    """Run `python -m artifact <command>` once per profile; results dirs default to results/<profile>."""
    names = _profile_names(profiles, results)
    if only_measured and not results:
        measured = [n for n in names if os.path.isdir(ResultsDir.for_profile(n).records)]
        if not measured:
            raise SystemExit(f"nothing measured yet for {', '.join(names)}: run `invoke reproduce-all` first")
        names = measured
    failed = []
    for name in names:
        name = _here(name) if name.endswith(".toml") else name
        opts = f"--profile {name}" + (f" --results {_here(results)}" if results else "") + (" --gate" if gate else "")
        opts += extra
        result = c.run(f"{PY} -m artifact {command} {opts}", warn=True, pty=False, env=_progress_env())
        if result.exited != 0:
            failed.append((name, result.exited))
    if failed:
        raise SystemExit(", ".join(f"{n}: exit {code}" for n, code in failed))


@task(help=dict(INPUT_HELP, profile=PROFILE_HELP, results="results directory (default results/<profile>)"))
def run(c, profile=DEFAULT_PROFILES, results="", imagenet="", checkpoints="", nmt="", eval_samples=0,
        allow_busy=False):
    """Measure every cell of a profile that has no record yet (resumable)."""
    _each(c, "run", profile, results, extra=_inputs(imagenet, checkpoints, nmt, eval_samples, allow_busy))


@task(help={"gate": "exit non-zero when any claim FAILs"})
def check(c, profile=DEFAULT_PROFILES, results="", gate=False):
    """Judge the paper's claims against the stored records; writes verdicts.json."""
    _each(c, "check", profile, results, gate)


@task
def report(c, profile=DEFAULT_PROFILES, results=""):
    """Write the HTML/Markdown/JSON report and every figure from stored results."""
    _each(c, "report", profile, results, only_measured=True)


@task(help={"profile": "profile name(s), comma-separated (default: every profile with results under results/)"})
def figures(c, profile="", results=""):
    """Regenerate figures and report from stored results without re-running anything."""
    if not profile and not results:
        judged = _judged_profiles()
        if not judged:
            raise Exit("figures: nothing judged yet under results/: run `make quick` or `make reproduce` first",
                       code=2)
        print("figures: rendering " + ", ".join(f"{n} (results/{n})" for n in judged))
        profile = ",".join(judged)
    report(c, profile or DEFAULT_PROFILES, results)


def _judged_profiles():
    """The profiles under results/ that have records and verdicts (what `report` can render)."""
    names = sorted(os.listdir(DEFAULT_ROOT)) if os.path.isdir(DEFAULT_ROOT) else []
    return [n for n in names if os.path.isdir(ResultsDir.for_profile(n).records)
            and os.path.isfile(ResultsDir.for_profile(n).verdicts_json)]


TRAINING_HELP = {
    "imagenet_train": "ILSVRC2012 train (class folders n01440764/*.JPEG or TF-Slim TFRecord shards): the server "
                      "fine-tunes the pruned Table I CNNs on it",
    "nmt_train": "WMT16 en-de in tensorflow/nmt's layout (train.tok.clean.bpe.32000.{en,de}, vocab.bpe.32000.*): "
                 "the server fine-tunes the pruned GNMT on it",
    "max_steps": "retrain each pruned cell for at most N steps (a quick run; its packages say so)",
}


def _training(imagenet_train="", nmt_train="", max_steps=0):
    out = ""
    for flag, value in (("--imagenet-train", imagenet_train), ("--nmt-train", nmt_train)):
        if value:
            out += f" {flag} {_here(value)}"
    return out + (f" --max-steps {max_steps}" if max_steps else "")


@task(help=dict(TRAINING_HELP, profile=PROFILE_HELP, results="results directory (default results/<profile>)",
                checkpoints=INPUT_HELP["checkpoints"], nmt=INPUT_HELP["nmt"]))
def retrain(c, profile=DEFAULT_PROFILES, results="", imagenet_train="", nmt_train="", checkpoints="", nmt="",
            max_steps=0):
    """Fine-tune every pruned cell that can be trained here and write its model package (RESULTS/retrained)."""
    _each(c, "retrain", profile, results,
          extra=_inputs(checkpoints=checkpoints, nmt=nmt) + _training(imagenet_train, nmt_train, max_steps))


@task(name="reproduce-all", help=dict(INPUT_HELP, **TRAINING_HELP, gate="exit non-zero when any claim FAILs",
                                      profile=PROFILE_HELP,
                                      in_docker="retrain in the server image and run in the jetson image "
                                                "(invoke.yaml docker.step_roles), then check and report here",
                                      datasets="--in-docker: directory mounted read-only at /datasets",
                                      quick="the first look (how long: docs/benchmarks.md): the `quick` profile "
                                            "(every step and technique, looser targets, labelled QUICK)",
                                      fleet="a fleet file (docs/fleet.md): baselines and pruned cells on its servers, "
                                            "measurements on its boards (Dask), then check and report each kind",
                                      two_stage="prepare the cells in parallel, then time them one model at a time "
                                                "(run --two-stage; docs/fleet.md, 'A fleet of one')"))
def reproduce_all(c, profile=DEFAULT_PROFILES, results="", gate=False, imagenet="", checkpoints="", nmt="",
                  eval_samples=0, in_docker=False, datasets="", allow_busy=False, quick=False, imagenet_train="",
                  nmt_train="", max_steps=0, fleet="", two_stage=False):
    """Retrain, run, check and report every profile: the reviewer's one command (embedded + paper by default).

    The two worlds of the paper, in order: `retrain` fine-tunes each pruned cell whose model can be trained
    here (the mini-zoo always; the Table I CNNs with --imagenet-train, the GNMT with --nmt-train) and writes
    its model package into RESULTS/retrained; `run` measures every cell, the pruned ones from their packages;
    then check and report. With --in-docker each step runs in the image of the role invoke.yaml's
    docker.step_roles gives it (retrain: server, run: jetson), results/<P> handed from one to the next
    (mounted, or copied to and from a remote engine); check and report run here. Inputs must lie under
    --datasets.
    """
    if quick:
        profile = "quick"
    if two_stage and (fleet or in_docker):
        raise Exit(f"reproduce-all --two-stage: runs on this machine, not with --{'fleet' if fleet else 'in-docker'}; "
                   f"leave one of the two out", code=2)
    allow_busy = allow_busy or os.environ.get("ARTIFACT_ALLOW_BUSY") == "1"
    if not in_docker:
        _refuse_a_busy_machine(allow_busy, _busy_ways(quick))
    training = _training(imagenet_train, nmt_train, max_steps)
    if fleet:
        try:
            dirs = _fleet(c, fleet, profile, results, gate,
                          _inputs(imagenet, checkpoints, nmt, eval_samples, allow_busy))
        except KeyboardInterrupt:
            raise Exit(INTERRUPTED_LINE, code=INTERRUPTED) from None
        _summary(c, profile, results, dirs)
        return
    if not in_docker:
        interrupted = False
        try:
            _each(c, "retrain", profile, results, extra=_inputs(checkpoints=checkpoints, nmt=nmt) + training)
            _each(c, "reproduce", profile, results, gate,
                  extra=_inputs(imagenet, checkpoints, nmt, eval_samples, allow_busy) + (" --two-stage" if two_stage
                                                                                          else ""))
        except KeyboardInterrupt:   # ^C in invoke's own code between two steps (a child's ^C ends in Exit 130)
            interrupted = True
            raise Exit(INTERRUPTED_LINE, code=INTERRUPTED) from None
        except Exit as stop:
            interrupted = stop.code == INTERRUPTED
            raise
        finally:
            if not interrupted:
                _summary(c, profile, results)
        return
    from artifact.host.containers.run import path_in_container

    names = _profile_names(profile, results)
    settings = _docker_settings(c)
    inside = {}  # the inputs as the container sees them under /datasets
    for flag, value in (("--imagenet", imagenet), ("--checkpoints", checkpoints), ("--nmt", nmt),
                        ("--imagenet-train", imagenet_train), ("--nmt-train", nmt_train)):
        if value:
            path = path_in_container(value, datasets)
            if path is None:
                raise SystemExit(f"{flag} {value} is not under --datasets: give --datasets DIR holding it")
            inside[flag] = f" {flag} {path}"
    weights = inside.get("--checkpoints", "") + inside.get("--nmt", "")
    steps = {
        "retrain": weights + inside.get("--imagenet-train", "") + inside.get("--nmt-train", "")
        + (f" --max-steps {max_steps}" if max_steps else ""),
        "run": weights + inside.get("--imagenet", "") + (f" --eval-samples {eval_samples}" if eval_samples else "")
        + (" --allow-busy" if allow_busy else ""),
    }
    try:
        for name in names:
            host_results = ResultsDir.for_profile(name, results).path
            for step, options in steps.items():
                role = _containers_call(settings.role_for_step, step)
                print(f"== {name}: {step} in the {role} image ({settings.image(role)})")
                code = _docker_run(c, role, f"python3 -m artifact {step} --profile {name} --results /results{options}",
                                   host_results, datasets, cpu=False, settings=settings)
                if code != 0:
                    raise SystemExit(f"{name}: {step} in the {role} container exited {code}")
        _each(c, "check", profile, results, gate)
        _each(c, "report", profile, results)
    except KeyboardInterrupt:
        raise Exit(INTERRUPTED_LINE, code=INTERRUPTED) from None
    _summary(c, profile, results)


def _fleet(c, fleet, profiles, results, gate, extra):
    """`python -m artifact fleet FILE` for each profile, then check and report each kind's results directory
    (RESULTS for a fleet of one kind, RESULTS-<kind> for several: artifact.host.fleet.run.results_by_kind);
    returns those directories (the summary page's)."""
    from artifact.host.fleet.fleetfile import load_fleet
    from artifact.host.fleet.run import results_by_kind

    kinds = load_fleet(fleet).kinds()
    dirs = []
    for name in _profile_names(profiles, results):
        base = results or os.path.join("results", name)
        c.run(f"{PY} -m artifact fleet {fleet} --profile {name} --results {base}{extra}", env=_progress_env())
        for folder in results_by_kind(base, kinds).values():
            c.run(f"{PY} -m artifact check --profile {name} --results {folder.path}{' --gate' if gate else ''}",
                  warn=not gate)
            c.run(f"{PY} -m artifact report --profile {name} --results {folder.path}")
            dirs.append(folder.path)
    return dirs


def _summary(c, profiles, results, dirs=None):
    """The last page of every reproduce-all: one verdict per claim over the profiles just run (or `dirs`: a fleet's
    results directories), by paper section (results/summary for several; RESULTS/summary for one, so a quick look
    never replaces it)."""
    if dirs is None:
        names = _profile_names(profiles, results)
        dirs = [_here(results)] if results else [ResultsDir.for_profile(n).path for n in names]
    dirs = [d for d in dirs if os.path.exists(ResultsDir(d).verdicts_json)]
    if dirs:
        out = ResultsDir(dirs[0]).summary if len(dirs) == 1 else SummaryDir().path
        c.run(f"{PY} -m artifact summary --results {','.join(dirs)} --out {out}", warn=True, pty=False)


def _busy_ways(quick, argv=None):
    """The commands that measure anyway, each as it can be pasted where the user is: the make target this run is
    (`ARTIFACT_ALLOW_BUSY=1 make quick`), then the invoke command line as typed with --allow-busy added, its
    program the invoke that runs now (`.venv/bin/invoke reproduce-all --quick --allow-busy` under `make quick`)."""
    import shlex

    argv = sys.argv if argv is None else argv
    typed = argv[argv.index("reproduce-all"):] if "reproduce-all" in argv else ["reproduce-all"]
    if quick and "--quick" not in typed and "-q" not in typed:
        typed.append("--quick")
    ways = []
    target = "quick" if quick else "reproduce" if typed == ["reproduce-all"] else ""
    if target:
        where = os.path.relpath(ROOT, CALLED_FROM)
        ways.append(f"ARTIFACT_ALLOW_BUSY=1 make {'' if where == '.' else f'-C {shlex.quote(where)} '}{target}")
    program = os.path.join(os.path.dirname(PY), "invoke")
    if not os.path.exists(program):
        program = f"{shlex.quote(PY)} -m invoke"
    elif os.path.realpath(program).startswith(os.path.realpath(ROOT) + os.sep):
        program = shlex.quote(os.path.relpath(program, CALLED_FROM))
    else:
        program = shlex.quote(program)
    ways.append(" ".join([program] + [shlex.quote(a) for a in typed] + ["--allow-busy"]))
    return ways


def _refuse_a_busy_machine(allow_busy, ways):
    """A second of watching before anything costly (retraining included): on a busy machine, one line naming
    the processes and each way to measure anyway (`ways`: commands to paste), exit 2; with --allow-busy a
    warning (timings are flagged). A ^C while watching: one line, exit 130."""
    from artifact.device.measure.busy import check_now, describe, refusal

    try:
        load = check_now(1.0)
    except KeyboardInterrupt:
        raise Exit(INTERRUPTED_LINE, code=INTERRUPTED) from None
    if not load["busy"]:
        return
    if allow_busy:
        print(f"warning: {describe(load)}; measuring anyway: timings will be flagged 'busy machine'", file=sys.stderr)
        return
    raise Exit(refusal(load, ways), code=2)


@task(help={"profile": "one profile (default embedded)", "results": "results directory (default results/<profile>)",
            "model": "one model (default all)", "objective": "size | latency | energy (default latency)",
            "max_size_mb": "constraint", "max_latency_ms": "constraint", "max_energy_mj": "constraint",
            "max_top1_drop": "constraint (points)", "max_bleu_drop": "constraint (points)", "json": "JSON output"})
def advise(c, profile="embedded", results="", model="", objective="latency", max_size_mb=None, max_latency_ms=None,
           max_energy_mj=None, max_top1_drop=None, max_bleu_drop=None, json=False):
    """The Pareto-optimal configurations of each model and the one to deploy under your constraints."""
    opts = f"--profile {profile}" + (f" --results {results}" if results else "")
    opts += f" --model {model}" if model else ""
    opts += f" --objective {objective}" + (" --json" if json else "")
    for name, value in (("max-size-mb", max_size_mb), ("max-latency-ms", max_latency_ms),
                        ("max-energy-mj", max_energy_mj), ("max-top1-drop", max_top1_drop),
                        ("max-bleu-drop", max_bleu_drop)):
        opts += f" --{name} {value}" if value is not None else ""
    c.run(f"{PY} -m artifact advise {opts}", pty=False)


@task(help={"profile": "one profile (default embedded)", "results": "results directory (default results/<profile>)",
            "model": "one model (default each in turn)", "trials": "completed trials per model (default: grid size)",
            "minutes": "time budget", "seed": "sampler seed", "allow_busy": INPUT_HELP["allow_busy"]})
def explore(c, profile="embedded", results="", model="", trials=0, minutes=30.0, seed=0, allow_busy=False):
    """Search new configurations (Optuna, seeded); every trial is measured as an ordinary cell."""
    opts = f"--profile {profile}" + (f" --results {results}" if results else "")
    opts += (f" --model {model}" if model else "") + f" --trials {trials} --minutes {minutes} --seed {seed}"
    opts += " --allow-busy" if allow_busy else ""
    c.run(f"{PY} -m artifact explore {opts}", pty=False)


REFERENCE_DIR = os.path.join("expected_results", "reference")
REFERENCE_FILES = ("run_json", "inputs_json", "verdicts_json")  # ResultsDir's names of the files frozen


@task(name="freeze-reference", help={"profile": PROFILE_HELP})
def freeze_reference(c, profile=DEFAULT_PROFILES):
    """Copy results/<profile>'s records, run.json and verdicts.json to expected_results/reference/<profile>.

    The committed copy is what CI's tolerance-check tests judge (tests/behaviour/test_reference_results.py):
    re-run this after `invoke reproduce-all` when measurements or claims change on purpose.
    """
    import shutil

    for name in [p.strip() for p in profile.split(",") if p.strip()]:
        src, dst = ResultsDir.for_profile(name), ResultsDir(os.path.join(REFERENCE_DIR, name))
        missing = [src.relative(getattr(src, f)) for f in REFERENCE_FILES + ("records",)
                   if not os.path.exists(getattr(src, f))]
        if missing:
            raise SystemExit(f"{src.path} lacks {', '.join(missing)}: "
                             f"run `invoke reproduce-all --profile {name}` first")
        if os.path.isdir(dst.path):
            shutil.rmtree(dst.path)
        shutil.copytree(src.records, dst.records)
        for f in REFERENCE_FILES:
            shutil.copy2(getattr(src, f), getattr(dst, f))
        print(f"{dst.path}: {len(os.listdir(dst.records))} records, verdicts and run.json frozen")


@task(name="reference-platforms")
def reference_platforms(c):
    """Write each committed reference's run.json `environment.platform` from its own recorded facts.

    The references were run before run.json said what platform a run is on (artifact.core.evidence); this
    re-derives it from the environment each one recorded (ResultsDir.state_platform), measuring nothing again.
    """
    for name in sorted(os.listdir(REFERENCE_DIR)):
        results = ResultsDir(os.path.join(REFERENCE_DIR, name))
        changed = results.state_platform()
        print(f"{results.run_json}: {'platform written' if changed else 'unchanged'}: "
              f"{results.read_run_info().get('environment', {}).get('platform', 'no environment recorded')}")


@task
def doctor(c):
    """Show what this machine offers: GPU, power sensors, inputs, versions."""
    c.run(f"{PY} -m artifact doctor")


@task
def lint(c):
    """ruff on everything; vermin: every module the device side imports must run on Python 3.6 (Jetson TX2);
    mypy: all of artifact/ (host, core, entry points and the device side); hadolint: Dockerfiles."""
    from artifact.layers import device_closure

    c.run(f"{PY} -m ruff check .")
    c.run(f"{VERMIN} -t=3.6- --no-tips --violations --backport dataclasses {' '.join(device_closure())}")
    c.run(f"{PY} -m mypy --python-version {MYPY_PYTHON} {' '.join(MYPY_TARGETS)}")
    c.run(f"{os.path.join(os.path.dirname(PY), 'hadolint')} docker/jetson/Dockerfile docker/server/Dockerfile")


FAST_TIER = "not slow and not twins and not trains"  # tests/conftest.py TRAINING_MODULES: the files left out


def test_workers():
    """pytest-xdist workers: one per core, at most 4 (each imports TensorFlow and starts pipeline subprocesses:
    about 1.5 GB at its peak). Most of a test's time is one core's (importing TensorFlow, building and training
    small models, subprocess start-up), so two workers on the 2 cores run the suite in less wall time; the tests
    are built to pass beside other work (`make test-loaded`)."""
    return max(1, min(os.cpu_count() or 1, 4))


@task(help={"k": "pytest -k expression", "fast": "the fast tier only: no model training, no pipeline runs (<= 3 min)",
            "workers": "pytest-xdist workers (default: one per core, at most 4; 1: no xdist)"})
def test(c, k="", fast=False, workers=0):
    """Run the test suite in parallel (--fast: the developer's loop, unit tests without TensorFlow model training)."""
    workers = workers or test_workers()
    parallel = f" -n {workers} --dist worksteal" if workers > 1 else ""
    selected = (f" -m '{FAST_TIER}'" if fast else "") + (f" -k '{k}'" if k else "")
    c.run(f"{PY} -m pytest -q --durations=25{parallel}{selected}")   # the slowest 25: where a slower suite went


@task(help={"only": "run one benchmark script of benchmarks/ (e.g. model_zoo); default: all"})
def bench(c, only=""):
    """Benchmarks that print figures (medians and ratios), never pass/fail: every benchmarks/*.py."""
    names = sorted(n[:-3] for n in os.listdir("benchmarks") if n.endswith(".py") and not n.startswith("_"))
    if only and only not in names:
        raise SystemExit(f"no benchmark {only!r}; choose one of: {', '.join(names)}")
    for name in [only] if only else names:
        print(f"== benchmarks/{name}.py")
        c.run(f"{PY} benchmarks/{name}.py", pty=False)


# -- docker: the images of docker/ on the engines of invoke.yaml (docker SDK; artifact/containers) --

TARGET_HELP = "jetson (the device image) or server (x86 GPU retraining image)"


def _docker_settings(c):
    from artifact.host.containers.settings import DockerSettings

    return _containers_call(DockerSettings.from_config, c.config.get("docker"))


def _containers_call(func, *args, **kwargs):
    """Call into artifact.host.containers; its ContainerError (one line saying what to do) exits the task."""
    from artifact.core.errors import ArtifactError

    try:
        return func(*args, **kwargs)
    except ArtifactError as error:
        raise SystemExit(f"error: {error}") from None


def _docker_run(c, target, command, results, datasets, cpu, settings=None):
    from artifact.host.containers.engine import connect
    from artifact.host.containers.run import run_container

    settings = settings or _docker_settings(c)
    client = _containers_call(connect, settings, target)
    return _containers_call(run_container, client, target, settings.image(target), command or None, results,
                            datasets, cpu, settings.engine_url(target))


@task(name="build", help={"target": TARGET_HELP, "base": "base image (default: invoke.yaml docker.bases.<target>)",
                          "tag": "image tag (default: invoke.yaml docker.images.<target>)",
                          "platform": "e.g. linux/arm64; a platform the engine cannot build goes to docker buildx"})
def docker_build(c, target="jetson", base="", tag="", platform=""):
    """Build docker/<target>/Dockerfile on the role's engine, streaming the log (docker SDK)."""
    import time

    from artifact.host.containers.engine import connect
    from artifact.host.containers.images import build_image
    from artifact.host.containers.settings import check_target

    _containers_call(check_target, target)
    settings = _docker_settings(c)
    client = _containers_call(connect, settings, target)
    base, tag = base or settings.base(target), tag or settings.image(target)
    start = time.perf_counter()
    image = _containers_call(build_image, client, target, base, tag, settings.source, platform,
                             settings.engine_url(target))
    print(f"[{target}] built {tag} ({image}) from {base} in {time.perf_counter() - start:.0f} s")


@task(name="run", help={"target": TARGET_HELP, "command": "command to run (default: the image's CMD, doctor)",
                        "results": "host directory mounted read-write at /results (default: results)",
                        "datasets": "host directory mounted read-only at /datasets",
                        "cpu": "no GPU: neither the nvidia runtime nor GPU device requests"})
def docker_run(c, target="jetson", command="", results="results", datasets="", cpu=False):
    """Run a container of the target's image as you, with results/data sets mounted; exits with its status."""
    from artifact.host.containers.settings import check_target

    _containers_call(check_target, target)
    code = _docker_run(c, target, command, results, datasets, cpu)
    if code:
        raise SystemExit(code)


@task(name="wheelhouse", help={"target": TARGET_HELP,
                               "platform": "linux/arm64 (default for jetson) or linux/amd64 (default for server)",
                               "python_version": "the image's Python (default: 3.6 for the R32 jetson base, "
                                                 "else 3.11)",
                               "requirements": "jetson: a docker/jetson/requirements-*.txt (default: the one of "
                                               "docker.bases.jetson in docker/bases.toml)",
                               "python": "the interpreter pip resolves with, so environment markers are the "
                                         "image's (default: the tx2 twin .twins/tx2/bin/python for Python 3.6 "
                                         "when built, else this one)"})
def docker_wheelhouse(c, target="jetson", platform="", python_version="", requirements="", python=""):
    """Download the wheels docker/<target>'s image installs into docker/wheelhouse/<target>/ (offline builds)."""
    import shlex

    from artifact.host.containers.bases import base_entry
    from artifact.host.containers.images import wheelhouse_commands, wheelhouse_dir
    from artifact.host.containers.settings import check_target

    _containers_call(check_target, target)
    settings = _docker_settings(c)
    entry = base_entry(target, settings.base(target)) if target == "jetson" else {}
    requirements = requirements or entry.get("requirements", "")
    python_version = python_version or entry.get("python") or ("3.6" if target == "jetson" else "3.11")
    platform = platform or ("linux/arm64" if target == "jetson" else "linux/amd64")
    dest = wheelhouse_dir(target)
    os.makedirs(dest, exist_ok=True)
    twin = os.path.join(".twins", "tx2", "bin", "python")
    if not python and python_version == "3.6" and os.path.exists(twin):
        python = twin  # markers such as tqdm's `importlib-resources; python_version < "3.7"` then hold
    elif not python and python_version != "{}.{}".format(*sys.version_info[:2]):
        print(f"warning: resolving for Python {python_version} with Python {sys.version.split()[0]}: dependencies "
              f"behind environment markers may be missed; give --python (e.g. `make twins`, then {twin})")
    for command in _containers_call(wheelhouse_commands, target, platform, python_version, requirements,
                                    python or PY):
        c.run(" ".join(shlex.quote(part) for part in command), pty=False)
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    size = sum(os.path.getsize(os.path.join(dest, f)) for f in wheels)
    print(f"{dest}: {len(wheels)} wheels, {size / 1e6:.0f} MB (python {python_version}, {platform})")


docker_ns = Collection("docker", docker_build, docker_run, docker_wheelhouse)

ns = Collection(retrain, run, check, report, figures, reproduce_all, freeze_reference, reference_platforms, doctor,
                advise, explore, lint, test, bench)
ns.add_collection(docker_ns)
ns.configure({"runners": {"local": _Interruptible}})
