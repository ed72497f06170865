"""Command line: `python -m artifact run|check|report|reproduce|list|doctor`.

The only place that catches `ArtifactError`, prints it as one line and picks exit codes:
0 success, 1 a claim FAILed (`check`), 2 a user error, 3 a measurement worker failed.
"""
import argparse
import os
import sys
import time

from artifact.errors import ArtifactError

DEFAULT_RESULTS = "results"


def results_dir_for(args) -> str:
    return args.results or os.path.join(DEFAULT_RESULTS, args.profile)


def _inputs(args) -> dict:
    return {"imagenet": args.imagenet, "slim_checkpoints": args.checkpoints, "nmt_data": args.nmt,
            "eval_samples": args.eval_samples or None,
            "jetson": os.path.exists("/etc/nv_tegra_release") or None}


def _update_run_info(results_dir: str, profile, steps: dict) -> None:
    from artifact.judge.check import RUN_KIND, run_info_path
    from artifact.records import FORMAT_VERSION, load_records, read_json, write_json_atomic

    path = run_info_path(results_dir)
    info = read_json(path, "run") if os.path.exists(path) else {}
    records = load_records(os.path.join(results_dir, "records"))
    environment = next(iter(records.values())).environment if records else {}
    info.update(format_version=FORMAT_VERSION, kind=RUN_KIND, profile=profile.name,
                description=profile.description, stands_for=profile.stands_for,
                profile_file=os.path.relpath(profile.source), environment=environment,
                cells=len(profile.cells), records=len(records))
    info.setdefault("steps", {}).update(steps)
    write_json_atomic(path, info)


def cmd_run(args) -> int:
    from tqdm import tqdm

    from artifact.profiles import load_profile
    from artifact.runner import check_inputs, pending_cells, run_profile

    profile = load_profile(args.profile)
    check_inputs(profile, _inputs(args))
    results = results_dir_for(args)
    todo = pending_cells(profile, results)
    print(f"profile {profile.name}: {len(profile.cells)} cells, {len(profile.cells) - len(todo)} already measured "
          f"in {results}")
    start = time.perf_counter()
    with tqdm(total=len(todo), unit="cell", dynamic_ncols=True, disable=None) as bar:
        def progress(model, what, seconds):
            if seconds is None:
                bar.set_postfix_str(what)
            else:
                bar.set_postfix_str(f"{what} ({seconds:.1f} s)")
                bar.update(1)

        _, failures = run_profile(args.profile, results, _inputs(args), progress)
    elapsed = time.perf_counter() - start
    _update_run_info(results, profile, {"run": elapsed} if todo else {})
    print(f"run: {len(todo)} cells measured in {elapsed:.1f} s")
    if failures:
        print("error: measurement failed for " + "; ".join(failures), file=sys.stderr)
        return 3
    return 0


def cmd_check(args) -> int:
    from artifact.judge.check import check
    from artifact.report.render import verdict_line

    start = time.perf_counter()
    data = check(results_dir_for(args), args.claims) if args.claims else check(results_dir_for(args))
    _record_step(args, "check", time.perf_counter() - start)
    line = verdict_line(data["counts"], data.get("flagged", 0))
    print(f"check: {line} -> {os.path.join(results_dir_for(args), 'verdicts.json')}")
    if getattr(args, "against", None):  # `reproduce` has no --against
        problems = _disagreements(data, args.against)
        for problem in problems:
            print(f"  differs from {args.against}: {problem}")
        print(f"check: {'agrees with' if not problems else f'{len(problems)} disagreement(s) with'} {args.against}")
        if problems:
            return 1
    return 1 if data["counts"]["FAIL"] and args.gate else 0


def _disagreements(data, reference_dir):
    from artifact.errors import MissingInputError
    from artifact.judge.agreement import disagreements
    from artifact.records import read_json

    path = os.path.join(reference_dir, "verdicts.json")
    if not os.path.exists(path):
        raise MissingInputError(f"--against {reference_dir}: no verdicts.json there; give a results or "
                                "expected_results/reference/<profile> directory")
    return disagreements(data, read_json(path, "verdicts"))


def _record_step(args, step, seconds):
    from artifact.judge.check import run_info_path
    from artifact.records import read_json, write_json_atomic

    path = run_info_path(results_dir_for(args))
    if os.path.exists(path):
        info = read_json(path, "run")
        info.setdefault("steps", {})[step] = seconds
        write_json_atomic(path, info)


def cmd_report(args) -> int:
    from artifact.report.render import render_report

    start = time.perf_counter()
    summary = render_report(results_dir_for(args))
    _record_step(args, "report", time.perf_counter() - start)
    out = os.path.join(results_dir_for(args), "report")
    print(f"report: {os.path.join(out, 'index.html')} (+ report.md, summary.json, {len(summary['figures'])} figures)")
    return 0


def cmd_reproduce(args) -> int:
    steps = []
    for name, step in (("run", cmd_run), ("check", cmd_check), ("report", cmd_report)):
        start = time.perf_counter()
        code = step(args)
        steps.append((name, time.perf_counter() - start))
        if code not in (0, 1):
            return code
    from artifact.judge.check import load_verdicts
    from artifact.report.render import verdict_line

    data, _ = load_verdicts(results_dir_for(args))
    print("steps: " + ", ".join(f"{n} {s:.1f} s" for n, s in steps))
    print(f"report: {os.path.join(results_dir_for(args), 'report', 'index.html')}")
    print(f"verdicts ({args.profile}): {verdict_line(data['counts'], data.get('flagged', 0))}")
    return 1 if data["counts"]["FAIL"] and args.gate else 0


def cmd_list(args) -> int:
    from artifact.judge.claims import load_claims
    from artifact.profiles import available_profiles, load_profile

    for name in available_profiles():
        profile = load_profile(name)
        needs = ", ".join(profile.requires) or "nothing"
        print(f"profile {name}: {len(profile.cells)} cells, needs {needs} — {profile.description}")
    for claim in load_claims():
        print(f"claim {claim.id}: [{claim.source}] {claim.statement}")
    return 0


def cmd_doctor(args) -> int:
    from artifact.environment import collect_environment, sysfs_root
    from artifact.measure.power import discover_power_sensor

    for key, value in sorted(collect_environment().items()):
        print(f"{key:>20}: {value}")
    sensor, reason = discover_power_sensor(sysfs_root())
    print(f"{'power sensor':>20}: {sensor.name if sensor else reason}")
    for key, value in _inputs(args).items():
        if key == "jetson":
            print(f"{'on a Jetson':>20}: {'yes (/etc/nv_tegra_release)' if value else 'no'}")
        else:
            print(f"{'input ' + key:>20}: {value or 'not given'}")
    return 0


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of samples, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (all) or more samples, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artifact", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.required = True  # add_subparsers(required=...) is Python 3.7+; the TX2 image runs 3.6
    commands = {"run": (cmd_run, "measure every cell of a profile that has no record yet"),
                "check": (cmd_check, "judge the paper's claims against the records"),
                "report": (cmd_report, "write the HTML/Markdown/JSON report and figures"),
                "reproduce": (cmd_reproduce, "run, check and report"),
                "list": (cmd_list, "list profiles and claims"),
                "doctor": (cmd_doctor, "show what this machine offers (GPU, sensors, inputs, versions)")}
    for name, (func, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        p.add_argument("--profile", default="embedded", help="profile name or .toml path (default: embedded)")
        p.add_argument("--results", default=None, help="results directory (default: results/<profile>)")
        p.add_argument("--claims", default=None, help="claims directory (default: expected_results/claims)")
        p.add_argument("--gate", action="store_true", help="exit 1 when any claim FAILs")
        if name == "check":
            p.add_argument("--against", default=None, metavar="DIR",
                           help="also exit 1 unless the verdicts agree with DIR's (a frozen reference run, "
                                "e.g. expected_results/reference/<profile>): nothing lost, exact metrics equal")
        p.add_argument("--imagenet", default=os.environ.get("ARTIFACT_IMAGENET"), help="ILSVRC2012 validation dir")
        p.add_argument("--checkpoints", default=os.environ.get("ARTIFACT_CHECKPOINTS"), help="TF-Slim checkpoints dir")
        p.add_argument("--nmt", default=os.environ.get("ARTIFACT_NMT"), help="NMT data and checkpoint dir")
        p.add_argument("--eval-samples", type=_count, default=os.environ.get("ARTIFACT_EVAL_SAMPLES"),
                       metavar="N", help="score on the first N evaluation images/sentences (quick run)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished cells are saved; re-run the same command to continue", file=sys.stderr)
        return 130
