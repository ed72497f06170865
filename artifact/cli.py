"""Command line: `python -m artifact retrain|run|check|report|reproduce|summary|advise|explore|list|doctor`.

The only place that catches `ArtifactError`, prints it as one line and picks exit codes:
0 success, 1 a claim FAILed (`check`), 2 a user error, 3 a measurement worker failed.
"""
import argparse
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ArtifactError
from artifact.core.inputs import on_jetson
from artifact.core.results import ResultsDir, SummaryDir
from artifact.core.techniques import CNN, TRANSLATOR, explored_on


def results_for(args):
    # type: (argparse.Namespace) -> ResultsDir
    return ResultsDir.for_profile(args.profile, args.results)


def existing_results(args):
    # type: (argparse.Namespace) -> ResultsDir
    """The results directory of a command that reads a run (check, report): refused before its lock is taken (which
    would create it) when there is no such directory."""
    from artifact.core.errors import MissingInputError

    results = results_for(args)
    if not os.path.isdir(results.path):
        raise MissingInputError("--results {}: no such results directory; run `invoke run` first, or give the "
                                "directory of a run".format(results.path))
    return results


def _inputs(args):
    # type: (argparse.Namespace) -> dict
    return {"imagenet": args.imagenet, "slim_checkpoints": args.checkpoints, "nmt_data": args.nmt,
            "eval_samples": args.eval_samples or None, "jetson": on_jetson() or None,
            "retrained": getattr(args, "retrained", None)}


def _selected(profile, args):
    # type: (Any, argparse.Namespace) -> Optional[List[Any]]
    """`--cells KEY,KEY`: those cells of the profile (the fleet hands one board one cell); None: every cell."""
    from artifact.core.errors import ConfigError

    if not getattr(args, "cells", None):
        return None
    keys = [k.strip() for k in args.cells.split(",") if k.strip()]
    known = {c.key: c for c in profile.cells}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ConfigError("--cells {}: not a cell of profile {}; its cells: {}".format(
            unknown[0], profile.name, ", ".join(sorted(known))))
    return [known[k] for k in keys]


def _packages(args, results):
    # type: (argparse.Namespace, ResultsDir) -> str
    """Where `retrain` writes packages: --retrained DIR, else results/<profile>/retrained."""
    return args.retrained or results.retrained


# ---- the training side (the x86 server image; the board for the mini-zoo). Imports artifact.device.
def cmd_retrain(args):
    # type: (argparse.Namespace) -> int
    """Fine-tune every pruned cell of the profile that can be trained here and write its model package."""
    from tqdm import tqdm

    from artifact.core.errors import ConfigError
    from artifact.core.profiles import load_profile
    from artifact.core.progress import CellProgress
    from artifact.device.train.retrain import packaged_cells, retrain_profile

    profile = load_profile(args.profile)
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    unknown = [m for m in models or [] if m not in profile.models]
    if unknown:
        raise ConfigError("--models {}: not in profile {} (its models: {})".format(
            unknown[0], profile.name, ", ".join(profile.models)))
    inputs = dict(_inputs(args), imagenet_train=args.imagenet_train, nmt_train=args.nmt_train)
    results = results_for(args)
    packages = _packages(args, results)
    selected = _selected(profile, args)
    keys = [c.key for c in selected] if selected is not None else None
    cells = [c for c in packaged_cells(profile, models) if keys is None or c.key in keys]
    print("retrain: profile {}: {} pruned cells -> {}".format(profile.name, len(cells), packages))
    start = time.perf_counter()
    with results.writer("artifact retrain --profile {}".format(args.profile)):
        watch = CellProgress(len(cells))
        with tqdm(total=0, unit="step", dynamic_ncols=True, disable=None) as bar:
            outcomes = retrain_profile(profile, results, packages, inputs, args.max_steps, models, bar,
                                       say=lambda what: bar.write(what), keys=keys,
                                       done=lambda o, seconds: watch.done("{} {}".format(o.cell.key, o.status),
                                                                          seconds))
        results.update_run_info(steps={"retrain": time.perf_counter() - start})
    skipped = {}  # type: dict
    for outcome in outcomes:
        if outcome.status == "skipped":  # one line per model: the reason is the model's, not the cell's
            skipped.setdefault((outcome.cell.model, outcome.detail), []).append(outcome.cell.key)
        else:
            print("  {:<8} {}: {}".format(outcome.status, outcome.cell.key, outcome.detail))
    for (model, why), keys in skipped.items():
        print("  {:<8} {} ({} pruned cells): {}".format("skipped", model, len(keys), why))
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("written", "kept", "skipped")}
    print("retrain: {written} written, {kept} kept, {skipped} skipped in {seconds:.1f} s".format(
        seconds=time.perf_counter() - start, **counts))
    return 0


# ---- device side: run (and doctor below). Imports artifact.device only, never artifact.host.
def cmd_run(args):
    # type: (argparse.Namespace) -> int
    from artifact.core.profiles import load_profile
    from artifact.core.progress import CellProgress
    from artifact.device.run.inputs import check_required
    from artifact.device.run.parent import pending_cells, run_profile

    profile = load_profile(args.profile)
    check_required(profile, _inputs(args))
    results = results_for(args)
    selected = _selected(profile, args)
    with results.writer("artifact run --profile {}".format(args.profile)):
        todo = pending_cells(profile, results, set_aside=True, packages=getattr(args, "retrained", None))
        if selected is not None:
            todo = [c for c in todo if c.key in {s.key for s in selected}]
        print("profile {}: {} cells, {} already measured in {}".format(
            profile.name, len(profile.cells), len(profile.cells) - len(todo), results.path))
        start = time.perf_counter()
        watches = [CellProgress(len(todo))]

        def progress(model, what, seconds):
            if seconds is None:
                watches[-1].phase(what)
            else:
                watches[-1].done(what, seconds)

        def on_stage(stage, cells, how):   # a two-stage run: a progress line of each stage's own
            watches[-1].close()
            print("{} stage: {} cells, {}".format(stage, cells, how), flush=True)
            watches.append(CellProgress(cells, unit="prepared cell" if stage == "prepare" else "cell"))

        events = []  # type: List[Any]
        try:
            _, failures = run_profile(profile, results, _inputs(args), progress, todo=todo,
                                      before_workers=lambda: _refuse_a_busy_machine(args.allow_busy),
                                      two_stage=args.two_stage, on_stage=on_stage, events=events)
        finally:
            watches[-1].close()
        elapsed = time.perf_counter() - start
        steps = {"run": elapsed} if todo else {}
        if args.two_stage:
            steps.update(_stage_steps(events))
        results.update_run_info(profile, steps)
    print("run: {} cells measured in {:.1f} s".format(len(todo), elapsed))
    if failures:
        print("error: measurement failed for " + "; ".join(failures), file=sys.stderr)
        return 3
    return 0


def _stage_steps(events):
    # type: (List[Any]) -> Dict[str, float]
    """A two-stage run's stages: a line each (wall time, the workers' summed time, how many ran at once) and their
    wall times as steps of run.json ("run: prepare stage", "run: quiet stage")."""
    from artifact.device.run.stages import stage_times

    steps = {}  # type: Dict[str, float]
    for stage, times in stage_times(events).items():
        print("{} stage: {:.1f} s wall, its workers {:.1f} s in all, at most {} at once".format(
            stage, times["wall"], times["busy"], int(times["most"])))
        steps["run: {} stage".format(stage)] = times["wall"]
    return steps


def _refuse_a_busy_machine(allow_busy):
    # type: (bool) -> None
    """A second of watching before measuring: a busy machine stops `run` unless --allow-busy (then a warning)."""
    from artifact.core.errors import ConfigError
    from artifact.device.measure.busy import ADVICE, check_now, describe

    load = check_now(1.0)
    if not load["busy"]:
        return
    if not allow_busy:
        raise ConfigError("{}; {}".format(describe(load), ADVICE))
    print("warning: {}; measuring anyway (--allow-busy): timings will be flagged".format(describe(load)),
          file=sys.stderr)


# ---- host side: check, report, reproduce, list. Imports artifact.host only, never artifact.device.
def cmd_check(args):
    # type: (argparse.Namespace) -> int
    from artifact.host.judge.check import check
    from artifact.host.judge.grade import grades_line
    from artifact.host.report.render import verdict_line

    results = existing_results(args)
    against = getattr(args, "against", None)  # `reproduce` has no --against
    if against:  # the other run read and checked first: a refusal writes nothing
        from artifact.host.judge.agreement import disagreements, reference_verdicts, timing_disagreements

        reference, reference_records = reference_verdicts(against), ResultsDir(against).load_records()
    start = time.perf_counter()
    with results.writer("artifact check --profile {}".format(args.profile)):
        data = check(results.path, args.claims) if args.claims else check(results.path)
        results.update_run_info(steps={"check": time.perf_counter() - start})
    line = verdict_line(data["counts"], data.get("flagged", 0), data.get("busy", 0), data.get("label", ""))
    print("check: {} -> {}".format(line, results.verdicts_json))
    print("check: {}".format(grades_line(data["grades"])))
    if against:
        problems = disagreements(data, reference)
        for problem in problems:
            print("  differs from {}: {}".format(args.against, problem))
        timing = timing_disagreements(results.load_records(), reference_records)
        for problem in timing:
            print("  timing differs from {}: {}".format(args.against, problem))
        if timing:
            print("check: {} of the cells timed in both runs differ beyond their paired intervals{}".format(
                len(timing), "" if args.strict_timing else " (not failed: give --strict-timing to fail on them)"))
        problems = problems + (timing if args.strict_timing else [])
        print("check: {} {}".format("agrees with" if not problems else "{} disagreement(s) with".format(len(problems)),
                                    args.against))
        if problems:
            return 1
    return 1 if data["counts"]["FAIL"] and args.gate else 0


def cmd_report(args):
    # type: (argparse.Namespace) -> int
    from artifact.host.report.render import render_report

    results = existing_results(args)
    start = time.perf_counter()
    with results.writer("artifact report --profile {}".format(args.profile)):
        summary = render_report(results)
        results.update_run_info(steps={"report": time.perf_counter() - start})
    print("report: {} (+ report.md, summary.json, {} figures)".format(
        results.report_html, len(summary["figures"])))
    return 0


def cmd_reproduce(args):
    # type: (argparse.Namespace) -> int
    steps = []
    for name, step in (("run", cmd_run), ("check", cmd_check), ("report", cmd_report)):
        start = time.perf_counter()
        code = step(args)
        steps.append((name, time.perf_counter() - start))
        if code not in (0, 1):
            return code
    from artifact.host.report.render import verdict_line

    results = results_for(args)
    data = results.read_verdicts()
    print("steps: " + ", ".join("{} {:.1f} s".format(n, s) for n, s in steps))
    print("report: {}".format(results.report_html))
    line = verdict_line(data["counts"], data.get("flagged", 0), data.get("busy", 0), data.get("label", ""))
    print("verdicts ({}): {}".format(args.profile, line))
    return 1 if data["counts"]["FAIL"] and args.gate else 0


def cmd_fleet(args):
    # type: (argparse.Namespace) -> int
    """Measure the profile on a fleet of boards and servers (Dask distributed), then check and report each kind."""
    from artifact.host.fleet.fleetfile import check_reachable, load_fleet
    from artifact.host.fleet.run import run_fleet

    fleet = load_fleet(args.fleet_file)
    check_reachable(fleet)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    inputs = []  # type: List[str]
    for option, value in (("--imagenet", args.imagenet), ("--checkpoints", args.checkpoints), ("--nmt", args.nmt),
                          ("--eval-samples", args.eval_samples)):
        if value:
            inputs += [option, os.path.abspath(value) if option != "--eval-samples" else str(value)]
    results = results_for(args)
    summary = run_fleet(fleet, args.profile, results.path, kinds, inputs, args.allow_busy)
    for name, why in summary["lost"].items():
        print("fleet: lost {}: {}".format(name, why))
    for path in summary["set_aside"]:
        print("fleet: a later attempt set aside: {}".format(path))
    print("fleet: {} records committed{}".format(summary["committed"], "; results in " + ", ".join(
        "{} ({})".format(p, k) for k, p in summary["results"].items())))
    if summary.get("failed"):
        print("error: fleet tasks failed: " + "; ".join("{}: {}".format(k, v) for k, v in summary["failed"].items()),
              file=sys.stderr)
        return 3
    return 0


def cmd_advise(args):
    # type: (argparse.Namespace) -> int
    """The Pareto-optimal configurations of each model and the one to deploy under the constraints given."""
    from tabulate import tabulate

    from artifact.core.errors import ConfigError
    from artifact.core.jsonfile import dumps_json
    from artifact.host.advise.from_records import configs_by_model
    from artifact.host.advise.pareto import CONSTRAINTS, LABELS, OBJECTIVES, advise, on_runtime

    results = results_for(args)
    configs = configs_by_model(results.load_records())
    if not configs:
        raise ConfigError("{}: no records; run `invoke run` (or give --results DIR of a run)".format(results.records))
    if args.model and args.model not in configs:
        raise ConfigError("--model {}: not in {}; models there: {}".format(
            args.model, results.path, ", ".join(configs)))
    every = configs
    configs = {m: on_runtime(c, args.runtime) for m, c in configs.items() if on_runtime(c, args.runtime)}
    if not configs or (args.model and args.model not in configs):
        raise ConfigError("--runtime {}: no configuration of {} in {} runs on it; runtimes there: {}".format(
            args.runtime, args.model or "any model", results.path,
            ", ".join(sorted({c.runtime for m in ([args.model] if args.model else every) for c in every[m]}))))
    objective = {"size": "size_mb", "latency": "latency_ms", "energy": "energy_mj"}[args.objective]
    bounds = {o: getattr(args, c) for c, o in CONSTRAINTS.items() if getattr(args, c) is not None}
    answers = [advise(configs[m], objective, bounds) for m in ([args.model] if args.model else configs)]
    if args.json:
        print(dumps_json([a.to_dict() for a in answers]))  # strict JSON: a non-finite number is null
        return 0
    for answer in answers:
        shown = answer.front_objectives or list(OBJECTIVES)
        rows = [[("→ " if c is answer.recommended else "≈ " if c in answer.ties else "  ") + c.name]
                + ["—" if c.get(o) is None else "{:.4g}".format(c.get(o)) for o in shown] for c in answer.front]
        print("\n{} — Pareto front over {}{}".format(answer.model, ", ".join(LABELS[o] for o in shown),
              "; unknown here: " + ", ".join(LABELS[o] for o in answer.unknown_objectives)
              if answer.unknown_objectives else ""))
        print(tabulate(rows, headers=["configuration"] + [LABELS[o] for o in shown]))
        choice = answer.recommended.name if answer.recommended else "none"
        print("recommended: {} — {} (records: {})".format(
            choice, answer.why, ", ".join(answer.recommended.evidence) if answer.recommended else "—"))
        for config, relax in answer.nearest:
            print("  nearest: {} if {}".format(config.name, ", ".join(
                "{} ≤ {:g}".format(LABELS[o], v) for o, v in relax.items())))
    return 0


def cmd_explore(args):
    # type: (argparse.Namespace) -> int
    """A seeded multi-objective search over techniques and settings; every trial is measured as a cell."""
    from tqdm import tqdm

    from artifact.core.jsonfile import dumps_json, write_json_atomic
    from artifact.host.explore.search import GRID_TECHNIQUES, Explorer

    results = results_for(args)
    models = [args.model] if args.model else None
    techniques = tuple(t.strip() for t in args.techniques.split(",") if t.strip()) if args.techniques else None
    summaries = []
    for model in models or _profile_models(args.profile):
        explorer = Explorer(args.profile, results, model, techniques, args.seed, args.batch, args.allow_busy,
                            known=not args.no_known)
        grid = len([c for c in explorer.profile.cells_of(model) if c.technique in GRID_TECHNIQUES])
        trials = args.trials or grid
        with tqdm(total=trials, initial=min(len(explorer.completed()), trials), unit="trial", desc=model,
                  disable=None) as bar:
            def progress(summary, bar=bar, trials=trials):
                bar.update(max(0, min(summary["trials"], trials) - bar.n))
                bar.set_postfix_str("front {} configs".format(len(summary["front"])))

            summary = explorer.explore(trials, args.minutes, progress)
        write_json_atomic(results.explore_summary(model), summary)
        summaries.append(summary)
        for plane in sorted(k for k in summary if k.startswith("hypervolume_")):
            hv = summary[plane]
            ratio = "{:.3f}".format(hv["ratio"]) if hv["ratio"] is not None else "—"
            print("{} {}: explored {:.4g} vs the paper's grid {:.4g} (ratio {}; {} trials, {} grid points)".format(
                model, plane.replace("hypervolume_", "hypervolume ").replace("_", " "), hv["explored"], hv["grid"],
                ratio, summary["trials"], summary["grid_points"]))
    if args.json:
        print(dumps_json(summaries))  # strict JSON: a non-finite number is null
    return 0


def _profile_models(profile_name):
    # type: (str) -> List[str]
    from artifact.core.profiles import load_profile

    return load_profile(profile_name).models


def cmd_summary(args):
    # type: (argparse.Namespace) -> int
    """One answer per claim over every profile that ran, and what each section of the paper reproduced."""
    from artifact.core.errors import ConfigError
    from artifact.host.judge.combine import clip, combine, evidence_line
    from artifact.host.report.render import verdict_line
    from artifact.host.report.summary_page import render_summary

    if not args.out or (os.path.exists(args.out) and not os.path.isdir(args.out)):
        raise ConfigError(f"--out {args.out!r}: not a directory; give a directory for the summary page")
    dirs = [d.strip() for d in (args.results or "results/embedded,results/paper").split(",") if d.strip()]
    if not args.results:  # the default pair: the profiles that ran; directories given are each required
        dirs = [d for d in dirs if os.path.exists(ResultsDir(d).verdicts_json)] or dirs
    data = combine(dirs)
    line = verdict_line(data["counts"])
    evidence = evidence_line(data)
    try:
        render_summary(data, args.out, line, evidence)
    except OSError as exc:
        raise ConfigError(f"--out {args.out}: cannot write the summary there ({exc.strerror or exc}); give a "
                          "writable directory") from None
    print("verdicts (one per claim, {}): {}".format(" + ".join(data["runs"]), line))
    print("evidence: {}".format(evidence))
    from artifact.host.report.first_screen import paper_order

    for s in sorted(data["sections"], key=lambda s: paper_order(s["section"])):
        print("  {:<10} {:<26} {}".format(s["section"], s["status"], clip(s["why"], 100)))
    print("summary: {}".format(SummaryDir(args.out).index_html))
    return 0


def cmd_list(args):
    # type: (argparse.Namespace) -> int
    from artifact.core.profiles import available_profiles, load_profile
    from artifact.host.judge.claims import load_claims

    for name in available_profiles():
        profile = load_profile(name)
        needs = ", ".join(profile.requires) or "nothing"
        print(f"profile {name}: {len(profile.cells)} cells, needs {needs} — {profile.description}")
    for claim in load_claims():
        print(f"claim {claim.id}: [{claim.source}] {claim.statement}")
    return 0


def cmd_doctor(args):
    # type: (argparse.Namespace) -> int
    from artifact.device.measure.busy import ADVICE, check_now, describe
    from artifact.device.measure.environment import collect_environment, sysfs_root
    from artifact.device.measure.power import SensorReadError, discover_power_sensor

    environment = collect_environment()
    for key, value in sorted(environment.items()):
        print(f"{key:>20}: {value}")
    sensor, reason = discover_power_sensor(sysfs_root())
    print(f"{'power sensor':>20}: {sensor.name if sensor else reason}")
    reading = ""
    if sensor is not None:  # one real read, so a sensor that only looks present is caught before a run
        try:
            reading = f"{sensor.read_watts():.3f} W now ({sensor.notes.get('total', '+'.join(sensor.rails))})"
        except SensorReadError as exc:
            reading = f"unreadable: {exc}"
        print(f"{'power reading':>20}: {reading}")
    load = check_now(1.0)
    print(f"{'machine load':>20}: {describe(load)}" + (f"; {ADVICE}" if load["busy"] else ""))
    for key, value in _inputs(args).items():
        if key == "jetson":
            where = os.path.join(sysfs_root(), "etc", "nv_tegra_release")
            print(f"{'on a Jetson':>20}: {'yes (' + where + ')' if value else 'no (no ' + where + ')'}")
        else:
            print(f"{'input ' + key:>20}: {value or 'not given'}")
    print(ready_line(environment, load, sensor, reading))
    return 0


def ready_line(environment, load, sensor, reading):
    # type: (dict, dict, object, str) -> str
    """doctor's last line: ready / not ready to measure, with what stands in the way and what will be SKIPPED."""
    blocking = []  # type: List[str]
    if load["busy"]:
        blocking.append("the machine is busy (see machine load)")
    if sensor is not None and reading.startswith("unreadable"):
        blocking.append("the power sensor does not read (see power reading)")
    clocks = str(environment.get("jetson_clocks", ""))
    if "jetson_clocks" in environment and not clocks.startswith("pinned"):
        blocking.append("the Jetson clocks are not pinned (sudo nvpmodel -m 0 && sudo jetson_clocks)")
    if blocking:
        return "not ready to measure: " + "; ".join(blocking)
    return "ready to measure" + ("" if sensor is not None else " (power and energy will be SKIPPED: no power sensor)")


class _FromEnvironment(str):
    """An option's default read from an environment variable: a bad value blames the variable, not the option."""

    def __new__(cls, variable):
        value = os.environ.get(variable)
        if value is None:
            return None
        text = super().__new__(cls, value)
        text.variable = variable
        return text


def _refuse(text, why):
    # type: (str, str) -> None
    variable = getattr(text, "variable", None)
    if variable:  # argparse would name the option; the value came from the environment
        from artifact.core.errors import ConfigError

        raise ConfigError(f"{variable}={text!r}: {why}; fix or unset the environment variable")
    raise argparse.ArgumentTypeError(why)


def _count(text):
    # type: (str) -> int
    try:
        value = int(text)
    except ValueError:
        _refuse(text, f"expected a whole number of samples, got {text!r}")
    if value < 0:
        _refuse(text, f"expected 0 (all) or more samples, got {value}")
    return value


def _whole(low, high, what):
    """An option's type: a whole number in [low, high]."""
    def whole(text):
        # type: (str) -> int
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {value}")
        return value
    return whole


def _bound(low, above=False):
    """An option's type: a finite number >= low (> low when `above`)."""
    def bound(text):
        # type: (str) -> float
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (above and value == low):
            raise argparse.ArgumentTypeError("expected a finite number {} {:g}, got {!r}".format(
                "above" if above else "of at least", low, text))
        return value
    return bound


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line, as every other user error (exit 2; `--help` still shows the usage)."""

    def error(self, message):
        from artifact.core.errors import ConfigError

        raise ConfigError(f"{self.prog}: {message}; see `{self.prog} --help`")


def _steps(text):
    # type: (str) -> int
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more steps, got {value}")
    return value


# the options each command reads; argparse refuses any other (`doctor --gate` is an error, not ignored)
PROFILE_COMMANDS = ("retrain", "run", "check", "report", "reproduce", "advise", "explore", "fleet")  # --profile
RESULTS_COMMANDS = PROFILE_COMMANDS + ("summary",)  # --results
JUDGE_COMMANDS = ("check", "reproduce")  # --claims, --gate
INPUT_COMMANDS = ("retrain", "run", "reproduce", "doctor", "fleet")  # --imagenet, --checkpoints, --nmt, --eval-samples
BUSY_COMMANDS = ("run", "reproduce", "explore", "fleet")  # --allow-busy


def build_parser():
    # type: () -> argparse.ArgumentParser
    parser = _Parser(prog="artifact", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.required = True  # add_subparsers(required=...) is Python 3.7+; the TX2 image runs 3.6
    commands = {"retrain": (cmd_retrain, "fine-tune the profile's pruned cells and write their model packages"),
                "run": (cmd_run, "measure every cell of a profile that has no record yet"),
                "check": (cmd_check, "judge the paper's claims against the records"),
                "report": (cmd_report, "write the HTML/Markdown/JSON report and figures"),
                "reproduce": (cmd_reproduce, "run, check and report"),
                "fleet": (cmd_fleet, "measure a profile on a fleet of boards and servers (Dask distributed)"),
                "advise": (cmd_advise, "Pareto-optimal configurations and a recommendation under constraints"),
                "explore": (cmd_explore, "search new configurations (Optuna, seeded); each trial is measured"),
                "summary": (cmd_summary, "one verdict per claim over every profile that ran, by paper section"),
                "list": (cmd_list, "list profiles and claims"),
                "doctor": (cmd_doctor, "show what this machine offers (GPU, sensors, inputs, versions)")}
    for name, (func, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if name in PROFILE_COMMANDS:
            p.add_argument("--profile", default="embedded", help="profile name or .toml path (default: embedded)")
        if name in RESULTS_COMMANDS:
            p.add_argument("--results", default=None, help="results directory (default: results/<profile>)")
        if name in JUDGE_COMMANDS:
            p.add_argument("--claims", default=None, help="claims directory (default: expected_results/claims)")
            p.add_argument("--gate", action="store_true", help="exit 1 when any claim FAILs")
        if name == "advise":
            p.add_argument("--model", default=None, help="one model of the run (default: every model)")
            p.add_argument("--objective", choices=("size", "latency", "energy"), default="latency",
                           help="what to minimise within the constraints (default: latency)")
            for option, what in (("--max-size-mb", "deployed file size, MB"), ("--max-latency-ms", "ms per inference"),
                                 ("--max-energy-mj", "mJ per inference"),
                                 ("--max-top1-drop", "top-1 points lost against fp32"),
                                 ("--max-bleu-drop", "BLEU points lost against fp32")):
                p.add_argument(option, type=_bound(0.0) if "drop" not in option else _bound(-100.0), default=None,
                               help="constraint: " + what)
            p.add_argument("--runtime", choices=("keras", "litert"), default=None,
                           help="only configurations this runtime runs (default: any)")
            p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "fleet":
            p.add_argument("fleet_file", metavar="FILE", help="the fleet file (TOML; docs/fleet.md)")
            p.add_argument("--kinds", default=None, help="board kinds to measure on, comma-separated (default: every "
                                                         "kind of the fleet file)")
        if name == "summary":
            p.add_argument("--out", default=SummaryDir().path, help="where to write it")
        if name == "explore":
            p.add_argument("--model", default=None, help="one model of the profile (default: each in turn)")
            p.add_argument("--trials", type=_count, default=0,
                           help="completed trials per model, earlier runs included (default: the paper's grid size)")
            p.add_argument("--minutes", type=_bound(0.0, above=True), default=30.0,
                           help="stop asking new trials after this long")
            p.add_argument("--seed", type=_whole(0, 2 ** 32 - 1, "seed"), default=0,
                           help="the sampler's seed (default 0)")
            p.add_argument("--batch", type=_whole(1, 1000, "trials per run"), default=3,
                           help="trials measured per run (default 3)")
            p.add_argument("--techniques", default=None,
                           help="comma-separated (default: " + ", ".join(explored_on(CNN)) + "; translators: "
                                + ", ".join(explored_on(TRANSLATOR)) + ")")
            p.add_argument("--no-known", action="store_true",
                           help="do not add the results directory's records (the paper's grid...) to the study as "
                                "known trials: the search starts knowing nothing")
            p.add_argument("--json", action="store_true", help="print the summaries as JSON too")
        if name in ("retrain", "run"):
            p.add_argument("--cells", default=None, metavar="KEY,KEY",
                           help="only these cells of the profile (run: measure them if pending; retrain: fine-tune "
                                "them; a baseline key: train or load that model's baseline only)")
        if name in ("run", "reproduce"):
            p.add_argument("--two-stage", action="store_true", default=os.environ.get("ARTIFACT_TWO_STAGE") == "1",
                           help="prepare every model's cells in parallel (compress, convert, save, sizes, memory, "
                                "accuracy), then time them one model at a time on the quiet machine (docs/fleet.md)")
        if name in ("retrain", "run", "reproduce"):
            p.add_argument("--retrained", default=os.environ.get("ARTIFACT_RETRAINED"), metavar="DIR",
                           help="model packages of the pruned cells (default: RESULTS/retrained, where `retrain` "
                                "writes them)")
        if name == "retrain":
            p.add_argument("--imagenet-train", default=os.environ.get("ARTIFACT_IMAGENET_TRAIN"), metavar="DIR",
                           help="ILSVRC2012 train: class folders (n01440764/*.JPEG) or TF-Slim TFRecord shards")
            p.add_argument("--nmt-train", default=os.environ.get("ARTIFACT_NMT_TRAIN"), metavar="DIR",
                           help="WMT16 en-de in tensorflow/nmt's layout (train.tok.clean.bpe.32000.{en,de}, vocab)")
            p.add_argument("--max-steps", type=_steps, default=None, metavar="N",
                           help="train each cell for at most N steps (a quick run; the package says so)")
            p.add_argument("--models", default=None, help="comma-separated models of the profile (default: all)")
        if name == "check":
            p.add_argument("--strict-timing", action="store_true",
                           help="with --against: also exit 1 when a paired time ratio differs from DIR's beyond "
                                "both runs' 95%% intervals (same machine, same load only)")
            p.add_argument("--against", default=None, metavar="DIR",
                           help="also exit 1 unless the verdicts agree with DIR's (a frozen reference run, "
                                "e.g. expected_results/reference/<profile>): nothing lost, exact metrics equal")
        if name in INPUT_COMMANDS:
            p.add_argument("--imagenet", default=os.environ.get("ARTIFACT_IMAGENET"), help="ILSVRC2012 validation dir")
            p.add_argument("--checkpoints", default=os.environ.get("ARTIFACT_CHECKPOINTS"),
                           help="TF-Slim checkpoints dir")
            p.add_argument("--nmt", default=os.environ.get("ARTIFACT_NMT"), help="NMT data and checkpoint dir")
            p.add_argument("--eval-samples", type=_count, default=_FromEnvironment("ARTIFACT_EVAL_SAMPLES"),
                           metavar="N", help="score on the first N evaluation images/sentences (quick run)")
        if name in BUSY_COMMANDS:
            p.add_argument("--allow-busy", action="store_true", default=os.environ.get("ARTIFACT_ALLOW_BUSY") == "1",
                           help="measure even when other processes use the CPU (timings are flagged 'busy machine')")
    return parser


def refuse_below_the_checkout_root(args, cwd=None):
    # type: (argparse.Namespace, Optional[str]) -> None
    """From a subdirectory of the checkout, the relative defaults (results/<profile>) would name a directory
    nobody looks in: say where to run instead (an installed copy, or a run elsewhere, is not concerned)."""
    from artifact.core.errors import ConfigError

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(os.path.join(root, "pyproject.toml")) or args.command not in RESULTS_COMMANDS:
        return
    here = os.path.realpath(cwd or os.getcwd())
    if here == os.path.realpath(root) or not here.startswith(os.path.realpath(root) + os.sep):
        return
    if args.results and all(os.path.isabs(p.strip()) for p in args.results.split(",") if p.strip()):
        return
    raise ConfigError("you are in {}, below the checkout's root {} (where results/ is): cd {} first, or give "
                      "--results as an absolute path".format(here, root, root))


def main(argv=None):
    # type: (Optional[List[str]]) -> int
    try:
        args = build_parser().parse_args(argv)
        for name, value in sorted(vars(args).items()):  # no path or name holds one: open() would raise ValueError
            if isinstance(value, str) and "\x00" in value:
                from artifact.core.errors import ConfigError

                raise ConfigError(f"--{name.replace('_', '-')}: contains a NUL character; give it without one")
        refuse_below_the_checkout_root(args)
        return args.func(args)
    except ArtifactError as exc:  # one line even when it quotes a name with a line break or a control character
        print("error: " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second ^C (the terminal's, then invoke's) adds nothing
        print("interrupted: finished cells are saved; re-run the same command to continue", file=sys.stderr)
        return 130
