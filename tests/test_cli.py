import json
import os
import subprocess
import sys

from artifact.core.paths import PROJECT_ROOT as ROOT


def artifact(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "artifact", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_unknown_profile_is_one_line_exit_2():
    out = artifact("run", "--profile", "nope")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: unknown profile 'nope'") and out.stderr.count("\n") == 1


def test_check_without_a_run_says_what_to_do(tmp_path):
    out = artifact("check", "--results", str(tmp_path))
    assert out.returncode == 2 and "run `invoke run`" in out.stderr and "Traceback" not in out.stderr


def test_malformed_results_file_is_one_line(tmp_path):
    (tmp_path / "run.json").write_text("{oops")
    out = artifact("check", "--results", str(tmp_path))
    assert out.returncode == 2 and "run.json: not valid JSON" in out.stderr and out.stderr.count("\n") == 1


def test_malformed_claims_file_is_one_line(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"format_version": 1, "kind": "artifact-run", "profile": "x"}))
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "bad.toml").write_text("format_version = 1\n[[claim]]\nid = 'x'\n")
    out = artifact("check", "--results", str(tmp_path), "--claims", str(claims))
    assert out.returncode == 2 and "bad.toml: claim 'x': missing field 'metric'" in out.stderr


def test_profile_needing_absent_inputs_lists_them(tmp_path):
    profile = tmp_path / "paper.toml"
    profile.write_text("format_version = 1\nname = 'paper'\nrequires = ['imagenet', 'slim_checkpoints']\n"
                       "[[group]]\ntechnique = 'baseline'\nmodels = ['vgg_16']\nmetrics = ['top1']\n")
    out = artifact("run", "--profile", str(profile), "--results", str(tmp_path / "r"))
    assert out.returncode == 2
    assert "--imagenet DIR" in out.stderr and "--checkpoints DIR" in out.stderr


def test_bad_eval_samples_is_refused_by_the_option_parser():
    out = artifact("run", "--eval-samples", "ten")
    assert out.returncode == 2 and "expected a whole number of samples, got 'ten'" in out.stderr


def test_missing_checkpoint_for_a_paper_model_names_the_files_looked_for(tmp_path):
    profile = tmp_path / "one.toml"
    profile.write_text('format_version = 1\nname = "one"\n[[group]]\ntechnique = "baseline"\n'
                       'models = ["vgg_16"]\nmetrics = ["params"]\n')
    out = artifact("run", "--profile", str(profile), "--results", str(tmp_path / "r"),
                   "--checkpoints", str(tmp_path))
    assert out.returncode == 2 and out.stderr.startswith("error: ") and out.stderr.count("\n") == 1
    assert "vgg_16.ckpt" in out.stderr and "Traceback" not in out.stderr


def test_a_command_refuses_the_options_of_another():
    out = artifact("doctor", "--gate", "--claims", "x")
    assert out.returncode == 2 and "unrecognized arguments: --gate --claims x" in out.stderr
    for argv in (["list", "--profile", "smoke"], ["summary", "--imagenet", "x"], ["report", "--allow-busy"]):
        out = artifact(*argv)
        assert out.returncode == 2 and "unrecognized arguments" in out.stderr, argv


def _options_read(function, seen=None):
    """The `args.X` a command function reads, through the cli functions it calls (getattr with a default and
    advise's constraint loop are optional reads, left out)."""
    import inspect
    import re

    from artifact import cli

    seen = set() if seen is None else seen
    source = inspect.getsource(function)
    read = set(re.findall(r"\bargs\.(\w+)", source)) - {"split"}
    called = set(re.findall(r"\b(_?\w+)\([^()]*\bargs\b", source)) | set(re.findall(r"\bcmd_\w+", source))
    for name in called - seen:
        seen.add(name)
        if callable(getattr(cli, name, None)):
            read |= _options_read(getattr(cli, name), seen)
    return read


def test_each_command_gets_exactly_the_options_it_reads():
    import argparse

    from artifact import cli

    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        given = {a.dest for a in sub._actions if a.dest != "help"}
        read = _options_read(sub.get_default("func"))
        optional = {"retrained", "against", "strict_timing", "cells"}  # read behind getattr(args, X, None) only
        assert read - optional <= given, (name, read - given)
        optional |= {c for c in given if c.startswith("max_")}  # advise's constraints, read in a loop
        assert given - {"func"} <= read | optional, (name, given - read - optional)
