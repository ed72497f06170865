"""What a reviewer meets first: progress with an ETA, the commands from anywhere in the checkout, a busy machine
refused before anything costly with advice that works when pasted, typos answered with the nearest task,
`figures` after `make quick`, the summary page after every reproduce-all, doctor's ready line, every missing
checkpoint named at once."""
import importlib.util
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")


# ---- progress
def test_progress_off_a_terminal_is_one_line_per_cell_with_what_is_left_and_an_eta():
    from artifact.core.progress import CellProgress

    now = [0.0]
    out = io.StringIO()
    watch = CellProgress(3, stream=out, tty=False, clock=lambda: now[0])
    watch.phase("mini_vgg__quantize__bits-8: time and power")   # quiet off a terminal
    assert out.getvalue() == ""
    now[0] = 10.0
    watch.done("mini_vgg__quantize__bits-8", 9.6)
    now[0] = 30.0
    watch.done("mini_vgg__prune__threshold-0.05", 20.0)
    assert out.getvalue().splitlines() == [
        "[1/3 cells] mini_vgg__quantize__bits-8 done in 10 s; 2 left, about 20 s left",
        "[2/3 cells] mini_vgg__prune__threshold-0.05 done in 20 s; 1 left, about 15 s left"]


def test_progress_on_a_terminal_redraws_the_current_cell_and_phase():
    from artifact.core.progress import CellProgress, duration

    out = io.StringIO()
    watch = CellProgress(19, stream=out, tty=True, clock=lambda: 0.0)
    watch.phase("resnet_v1_50__quantize__bits-8: memory")
    assert out.getvalue() == "\r\033[K[0/19 cells] resnet_v1_50__quantize__bits-8: memory; ETA after the first cell"
    assert (duration(45), duration(130), duration(4000)) == ("45 s", "2 min 10 s", "1 h 06 min")


def test_progress_through_a_pipe_redraws_when_invoke_says_its_terminal_is_one(monkeypatch):
    """Under make/invoke the child's stderr is invoke's pipe: ARTIFACT_PROGRESS_TTY=1 (invoke's own stderr is a
    terminal) brings the redrawn cell and phase back; without it the pipe gets only the line per cell."""
    code = ("import sys; from artifact.core.progress import CellProgress; "
            "w = CellProgress(2); w.phase('mini_vgg__quantize__bits-8: memory'); "
            "w.done('mini_vgg__quantize__bits-8', 1)")
    for flag, redrawn in (("1", True), (None, False)):
        env = {k: v for k, v in os.environ.items() if k != "ARTIFACT_PROGRESS_TTY"}
        env.update(PYTHONPATH=ROOT, **({"ARTIFACT_PROGRESS_TTY": flag} if flag else {}))
        err = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).stderr.decode()  # \r kept
        assert ("\r\033[K[0/2 cells] mini_vgg__quantize__bits-8: memory" in err) == redrawn, err
        assert "[1/2 cells] mini_vgg__quantize__bits-8 done in" in err


@pytest.mark.parametrize("terminal", [True, False])
def test_invoke_tells_its_children_whether_its_stderr_is_a_terminal(terminal, monkeypatch, tmp_path):
    class Stderr(io.StringIO):
        def isatty(self):
            return terminal

    tasks = _tasks_module()
    monkeypatch.delenv("ARTIFACT_PROGRESS_TTY", raising=False)
    monkeypatch.setattr(sys, "stderr", Stderr())
    context = _recording_context()
    tasks.run(context, profile="smoke", results=str(tmp_path / "smoke"))
    tasks.reproduce_all(context, profile="smoke", results=str(tmp_path / "smoke"), allow_busy=True)
    assert len(context.options) == 3   # run; retrain and reproduce (no verdicts: no summary)
    for options in context.options:
        assert options.get("env", {}).get("ARTIFACT_PROGRESS_TTY") == ("1" if terminal else None), options


# ---- invoke as a reviewer meets it: a copy of the checkout's tasks.py, run from a subdirectory
def _checkout(tmp_path, with_results=True):
    checkout = tmp_path / "checkout"
    (checkout / "docs" / "deep").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "tasks.py"), checkout / "tasks.py")
    if with_results:
        shutil.copytree(SMOKE, checkout / "results" / "smoke")
    return checkout


def _invoke(cwd, *args, env=None, timeout=300):
    env = dict(os.environ, PYTHONPATH=ROOT, **(env or {}))
    return subprocess.run([sys.executable, "-m", "invoke"] + list(args), cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_figures_from_a_subdirectory_renders_every_profile_with_results_in_the_checkouts_root(tmp_path):
    checkout = _checkout(tmp_path)
    done = _invoke(checkout / "docs" / "deep", "figures")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "working in the checkout's root {}".format(checkout) in done.stderr
    assert "figures: rendering smoke (results/smoke)" in done.stdout
    assert (checkout / "results" / "smoke" / "report" / "index.html").is_file()
    assert not (checkout / "docs" / "deep" / "results").exists()


def test_figures_with_nothing_judged_says_what_to_run(tmp_path):
    checkout = _checkout(tmp_path, with_results=False)
    done = _invoke(checkout, "figures")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "figures: nothing judged yet under results/: run `make quick` or `make reproduce` first")


def test_a_mistyped_task_or_option_gets_the_nearest_one(tmp_path):
    checkout = _checkout(tmp_path, with_results=False)
    assert "No idea what 'reproduce-al' is! Did you mean 'reproduce-all'?" in _invoke(checkout, "reproduce-al").stderr
    assert "Did you mean '--quick'?" in _invoke(checkout, "reproduce-all", "--qick").stderr
    assert "`invoke --list` lists the tasks" in _invoke(checkout, "zzzzzz").stderr


def test_reproduce_all_refuses_a_busy_machine_within_seconds_before_retraining(load, tmp_path):
    checkout = _checkout(tmp_path, with_results=False)
    env = {k: v for k, v in os.environ.items() if k != "ARTIFACT_ALLOW_BUSY"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "invoke", "reproduce-all", "--quick"], cwd=str(checkout / "docs"),
                          env=dict(env, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=120)
    assert time.monotonic() - start < 5
    assert done.returncode == 2 and "retrain" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: busy machine: other processes used")
    assert not (checkout / "results").exists()
    make, invoke = _ways_in(last)
    assert make == "ARTIFACT_ALLOW_BUSY=1 make -C .. quick"   # called from docs/: make in the checkout's root
    _the_make_way_runs_the_quick_look(make, cwd=checkout / "docs", root=checkout)
    _the_invoke_way_goes_on_with_the_quick_look(invoke, cwd=checkout / "docs", tmp_path=tmp_path)


def _ways_in(refusal):
    """The commands a busy-machine refusal offers, as text to paste."""
    return refusal.split("timings flagged 'busy machine': ", 1)[1].split(" or ")


def _the_make_way_runs_the_quick_look(way, cwd, root):
    """`ARTIFACT_ALLOW_BUSY=1 make [-C DIR] quick`: the variable is the one both checks read, DIR is the checkout
    and the target exists in the Makefile and runs `invoke reproduce-all --quick`."""
    import shlex

    words = shlex.split(way)
    assert words[0] == "ARTIFACT_ALLOW_BUSY=1" and words[1] == "make", way
    where = words[words.index("-C") + 1] if "-C" in words else "."
    assert os.path.realpath(os.path.join(str(cwd), where)) == os.path.realpath(str(root))
    with open(os.path.join(ROOT, "Makefile")) as handle:
        recipe = handle.read().split("\n{}:".format(words[-1]), 1)[1].split("\n\n")[0]
    assert "invoke reproduce-all --quick\n" in recipe + "\n"


def _the_invoke_way_goes_on_with_the_quick_look(way, cwd, tmp_path):
    """The invoke command as pasted where the refusal was printed: its program runs, invoke's own parser accepts
    each option it names for reproduce-all, and those options retrain, run (--allow-busy) and summarise quick."""
    import shlex

    from invoke.parser import Parser

    words = shlex.split(way)
    program = os.path.join(str(cwd), words[0])
    assert os.access(program, os.X_OK), way
    tasks = _tasks_module()
    (parsed,) = Parser(contexts=tasks.ns.to_contexts()).parse_argv(words[1:])   # ParseError on an unknown option
    assert parsed.name == "reproduce-all"
    options = {name.replace("-", "_"): arg.value for name, arg in parsed.args.items() if arg.got_value}
    assert options == {"quick": True, "allow_busy": True}, way
    results = tmp_path / "pasted"
    results.mkdir()
    shutil.copy(os.path.join(SMOKE, "verdicts.json"), results / "verdicts.json")
    context = _recording_context()
    tasks.reproduce_all(context, results=str(results), **options)
    steps = [c.split(" -m artifact ")[1].split()[:3] for c in context.commands]
    assert steps == [["retrain", "--profile", "quick"], ["reproduce", "--profile", "quick"],
                     ["summary", "--results", str(results)]], context.commands
    assert "--allow-busy" in context.commands[1]


def test_make_quick_on_a_busy_machine_refuses_within_seconds_before_building_the_environment(load, tmp_path):
    """A fresh clone (no .venv): `make quick` watches with the system python3's standard library (-S) before the
    set-up, refuses in one line naming the way in that exists yet, exit 2, nothing built. Once set up (a stand-in
    .venv whose invoke records its arguments), the refusal also names that invoke; ARTIFACT_ALLOW_BUSY=1 goes on."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, name), clone / name)
    os.symlink(os.path.join(ROOT, "artifact"), str(clone / "artifact"))
    env = {k: v for k, v in os.environ.items() if k not in ("ARTIFACT_ALLOW_BUSY", "MAKEFLAGS", "MAKELEVEL")}
    env["PYTHONPATH"] = ""
    start = time.monotonic()
    done = subprocess.run(["make", "quick"], cwd=str(clone), env=env, capture_output=True, text=True, timeout=120)
    assert time.monotonic() - start < 5
    assert done.returncode == 2 and not (clone / ".venv").exists(), done.stdout + done.stderr
    refusal = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(refusal) == 1 and refusal[0].startswith("error: busy machine: other processes used"), done.stderr
    assert _ways_in(refusal[0]) == ["ARTIFACT_ALLOW_BUSY=1 make quick"]
    _the_make_way_runs_the_quick_look(_ways_in(refusal[0])[0], cwd=clone, root=clone)

    venv = clone / "fake"   # set up: a stamp newer than pyproject.toml, an invoke that records its arguments
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "invoke").write_text('#!/bin/sh\necho "$@" > invoked\n')
    (venv / "bin" / "invoke").chmod(0o755)
    (venv / ".installed").touch()
    done = subprocess.run(["make", "VENV=fake", "quick"], cwd=str(clone), env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and not (clone / "invoked").exists()
    (refusal,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    make, invoke = _ways_in(refusal)
    assert (make, invoke) == ("ARTIFACT_ALLOW_BUSY=1 make quick", "fake/bin/invoke reproduce-all --quick --allow-busy")
    _the_invoke_way_goes_on_with_the_quick_look(invoke, cwd=clone, tmp_path=tmp_path)
    done = subprocess.run(["make", "VENV=fake", "quick"], cwd=str(clone), env=dict(env, ARTIFACT_ALLOW_BUSY="1"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (clone / "invoked").read_text() == "reproduce-all --quick\n"


def test_the_invoke_way_in_is_the_command_as_typed_with_allow_busy_added(tmp_path):
    tasks = _tasks_module()
    ways = tasks._busy_ways(False, ["/x/bin/invoke", "reproduce-all", "--profile", "smoke", "--eval-samples", "5"])
    assert len(ways) == 1 and ways[0].endswith(" reproduce-all --profile smoke --eval-samples 5 --allow-busy")
    make, _ = tasks._busy_ways(False, ["/x/bin/invoke", "reproduce-all"])
    assert make == "ARTIFACT_ALLOW_BUSY=1 make reproduce"


def _tasks_module():
    spec = importlib.util.spec_from_file_location("tasks_under_test", os.path.join(ROOT, "tasks.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _recording_context():
    from invoke import Context, Result

    class Recording(Context):
        def run(self, command, **kwargs):
            self.commands.append(command)
            self.options.append(kwargs)
            return Result(command=command, exited=0)

    context = Recording()
    context.commands, context.options = [], []
    return context


def test_the_pasted_ways_in_go_on_past_the_busy_check_and_end_with_the_summary_page(load, tmp_path, monkeypatch):
    from invoke import Exit

    tasks = _tasks_module()
    results = tmp_path / "quick"
    results.mkdir()
    shutil.copy(os.path.join(SMOKE, "verdicts.json"), results / "verdicts.json")
    monkeypatch.delenv("ARTIFACT_ALLOW_BUSY", raising=False)
    refused = _recording_context()
    with pytest.raises(Exit) as stopped:
        tasks.reproduce_all(refused, quick=True, results=str(results))
    assert stopped.value.code == 2 and refused.commands == []
    for env, flag in (("1", False), (None, True)):   # ARTIFACT_ALLOW_BUSY=1 make quick; --allow-busy
        if env:
            monkeypatch.setenv("ARTIFACT_ALLOW_BUSY", env)
        else:
            monkeypatch.delenv("ARTIFACT_ALLOW_BUSY", raising=False)
        context = _recording_context()
        tasks.reproduce_all(context, quick=True, results=str(results), allow_busy=flag)
        steps = [c.split(" -m artifact ")[1].split()[0] for c in context.commands]
        assert steps == ["retrain", "reproduce", "summary"], context.commands
        assert "--allow-busy" in context.commands[1]
        assert context.commands[2].endswith("--results {} --out {}".format(results, results / "summary"))


@pytest.mark.parametrize("kinds", [["x86"], ["tx2", "nano"]])
def test_reproduce_all_with_a_fleet_ends_with_the_summary_page(kinds, tmp_path, monkeypatch):
    import artifact.host.fleet.fleetfile as fleetfile

    class Fleet:
        def kinds(self):
            return kinds

    monkeypatch.setattr(fleetfile, "load_fleet", lambda path: Fleet())
    tasks = _tasks_module()
    base = tmp_path / "fleet"
    dirs = [base] if len(kinds) == 1 else [tmp_path / "fleet-{}".format(k) for k in kinds]
    for folder in dirs:   # what check would have written
        folder.mkdir()
        shutil.copy(os.path.join(SMOKE, "verdicts.json"), folder / "verdicts.json")
    context = _recording_context()
    tasks.reproduce_all(context, profile="smoke", results=str(base), fleet="fleet.toml", allow_busy=True)
    steps = [c.split(" -m artifact ")[1].split()[0] for c in context.commands]
    assert steps == ["fleet"] + ["check", "report"] * len(kinds) + ["summary"], context.commands
    assert "--results {} ".format(",".join(str(d) for d in dirs)) in context.commands[-1]


def test_ctrl_c_in_invokes_own_code_is_one_line_exit_130_and_no_summary_page(tmp_path, monkeypatch):
    """^C while invoke itself works (the busy watch, between two steps), not in a child: one line, exit 130, and the
    summary page is not written over a half-done run."""
    from invoke import Exit

    import artifact.device.measure.busy as busy

    tasks = _tasks_module()
    results = tmp_path / "quick"
    results.mkdir()
    shutil.copy(os.path.join(SMOKE, "verdicts.json"), results / "verdicts.json")

    def interrupted(seconds):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(busy, "check_now", interrupted)
        context = _recording_context()
        with pytest.raises(Exit) as stopped:
            tasks.reproduce_all(context, quick=True, results=str(results))
        assert stopped.value.code == 130 and context.commands == []
        assert stopped.value.message.startswith("interrupted") and "\n" not in stopped.value.message

    class InterruptedBetweenSteps(type(_recording_context())):
        def run(self, command, **kwargs):
            if " reproduce " in command:
                raise KeyboardInterrupt
            return super().run(command, **kwargs)

    context = InterruptedBetweenSteps()
    context.commands, context.options = [], []
    with pytest.raises(Exit) as stopped:
        tasks.reproduce_all(context, quick=True, results=str(results), allow_busy=True)
    assert stopped.value.code == 130 and stopped.value.message.startswith("interrupted")
    assert [c.split(" -m artifact ")[1].split()[0] for c in context.commands] == ["retrain"], context.commands


# ---- doctor and the inputs
def test_doctor_ends_with_one_ready_or_not_ready_line():
    from artifact.cli import ready_line

    quiet, busy = {"busy": False}, {"busy": True}
    assert ready_line({"board": "x86"}, quiet, None, "") == (
        "ready to measure (power and energy will be SKIPPED: no power sensor)")
    assert ready_line({"board": "x86"}, quiet, object(), "4.2 W") == "ready to measure"
    assert ready_line({"board": "x86"}, busy, object(), "unreadable: EIO") == (
        "not ready to measure: the machine is busy (see machine load); the power sensor does not read "
        "(see power reading)")
    unpinned = {"l4t_release": "R32 (release), REVISION: 7.1", "jetson_clocks": "not pinned (cpu0 min < max)"}
    assert ready_line(unpinned, quiet, object(), "4.2 W").startswith("not ready to measure: the Jetson clocks")
    pinned = dict(unpinned, jetson_clocks="pinned (min = max on CPU, GPU, EMC)")
    assert ready_line(pinned, quiet, object(), "4.2 W") == "ready to measure"


def test_an_empty_checkpoints_directory_names_every_missing_model_in_one_line(tmp_path, capsys):
    from artifact.cli import main
    from artifact.core.catalog import TABLE_I

    empty = tmp_path / "slim"
    empty.mkdir()
    assert main(["run", "--profile", "paper", "--checkpoints", str(empty), "--results", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 10 of the 10 TF-Slim checkpoints this run reads are missing")
    for model in (m for m in TABLE_I if m != "nmt"):
        assert " {} (".format(model) in err[0]
    assert not (tmp_path / "out" / "records").exists()


# ---- SIGINT
def _records(results):
    return sorted(p for p in (results / "records").glob("*.json") if not p.name.startswith("."))


def test_sigint_to_invoke_alone_is_one_line_exit_130_and_keeps_every_finished_cell(tmp_path):
    """^C sent to invoke only (not to its process group): the command is interrupted, says so in one line, keeps
    its finished records, leaves no worker behind, and invoke adds no traceback."""
    checkout = _checkout(tmp_path, with_results=False)
    results = tmp_path / "out"
    with open(str(tmp_path / "stdout"), "w") as stdout:
        command = [sys.executable, "-m", "invoke", "run", "--profile", "smoke", "--results", str(results)]
        # SIGINT restored to its default: a job that a non-interactive shell starts in the background (bash -c
        # 'make test &') inherits it ignored, and Python would then never raise KeyboardInterrupt
        proc = subprocess.Popen(command, cwd=str(checkout), env=dict(os.environ, PYTHONPATH=ROOT), stdout=stdout,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        seen = []
        reader = threading.Thread(target=lambda: seen.extend(proc.stderr), daemon=True)
        reader.start()
        # the first cell's record is written: interrupt the second. (Waiting for invoke's echo of the progress line
        # instead lost the race on a loaded machine: the echo came after the run had ended, and exit was 0.)
        # A record is a file whose name does not start with "." (pathlib's "*" also matches the atomic writer's
        # ".tmp-*.json": interrupting that write left no record, a race lost only on a loaded machine)
        deadline = time.monotonic() + 300
        while not _records(results) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "".join(seen)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130, "".join(seen)
        reader.join(timeout=10)
        rest = "".join(seen)
    assert "Traceback" not in rest and "I/O operation" not in rest, rest
    assert rest.strip().splitlines()[-1] == "interrupted: finished cells are saved; re-run the same command to continue"
    records = _records(results)
    assert records and all(json.loads(r.read_text())["cell"] for r in records)
    workers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/{}/cmdline".format(pid), "rb") as handle:
                if str(results).encode() in handle.read():
                    workers.append(pid)
        except OSError:
            continue
    assert not workers


def test_python_m_artifact_below_the_checkout_root_refuses_in_one_line(tmp_path):
    import argparse

    from artifact.cli import refuse_below_the_checkout_root
    from artifact.core.errors import ConfigError

    below = os.path.join(ROOT, "artifact", "host")
    with pytest.raises(ConfigError, match=r"below the checkout's root .*: cd .* first, or give --results as an abs"):
        refuse_below_the_checkout_root(argparse.Namespace(command="check", results=None), cwd=below)
    for command, results, cwd in (("check", None, ROOT), ("check", str(tmp_path), below), ("doctor", None, below),
                                  ("check", None, str(tmp_path))):
        refuse_below_the_checkout_root(argparse.Namespace(command=command, results=results), cwd=cwd)
    done = subprocess.run([sys.executable, "-m", "artifact", "check", "--profile", "quick"], cwd=below,
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not os.path.exists(os.path.join(below, "results"))


# ---- the report's facts and order
def test_threats_say_how_this_runs_memory_was_probed_and_its_timing_target():
    from artifact.core.records import Measurement, Record
    from artifact.host.report.render import figure_order, threats

    record = Record({"key": "k", "model": "mini_vgg", "technique": "baseline", "setting": {}, "metrics": []}, {})
    record.measurements["memory_peak_bytes"] = Measurement("memory_peak_bytes", [1.0], notes={
        "process": "a fresh process (pagemap unreadable)"})
    said = " ".join(threats({"profile": "quick"}, {"k": record}))
    assert "per variant (a fresh process)" in said and "within 10% of the mean" in said
    said = " ".join(threats({"profile": "embedded"}, {}))
    assert "(no memory measured in this run)" in said and "within 5% of the mean" in said
    stems = ["advisor_fronts", "beyond_litert", "fig13_quantization", "fig05_motivation"]
    assert [s for s, _ in sorted(((s, None) for s in stems), key=figure_order)] == [
        "fig05_motivation", "fig13_quantization", "advisor_fronts", "beyond_litert"]


def test_where_the_time_went_is_a_stacked_bar_of_the_phases():
    from artifact.host.report.time_bar import time_bar_html

    rows = [{"technique": "quantize", "cells": 2, "total (s)": "3.0", "compress (s)": "1.0", "memory (s)": "—"},
            {"technique": "all", "cells": 2, "total (s)": "3.0", "compress (s)": "1.0", "memory (s)": "0.0"}]
    assert time_bar_html(rows).startswith('<img class="plot" alt="where the time went" src="data:image/png;base64,')
    assert time_bar_html([]) == "" and time_bar_html(rows[1:]) == ""


def test_retraining_reports_each_cell_as_it_is_done():
    from artifact.device.train.retrain import _Reporting

    seen = []
    outcomes = _Reporting(lambda outcome, seconds: seen.append((outcome, seconds >= 0)))
    outcomes.append("a")
    outcomes.extend(["b", "c"])
    assert outcomes == ["a", "b", "c"] and seen == [("a", True), ("b", True), ("c", True)]


def readme_problems(text: str) -> list:
    """What keeps README.md from being the page a reviewer reads in five minutes: over 200 lines, an internal issue
    number, a verdict word used before the line that defines it, no expected last lines of quick and full runs."""
    import re

    problems = []
    if len(text.splitlines()) > 200:
        problems.append(f"{len(text.splitlines())} lines (at most 200; the rest goes in docs/)")
    problems += [f"internal issue number: {m.group(0)!r}" for m in re.finditer(r"(?i)\bissues?\s*#?\d+|#\d+\b", text)]
    for word in ("PASS", "DEVIATION", "FAIL", "SKIPPED", "NOT-RUN"):
        defined = text.find(f"- **{word}**:")
        first = re.search(rf"(?<![\w-]){re.escape(word)}", text)
        if defined < 0 or first is None or first.start() < defined + 4:   # the definition's own "**" first
            problems.append(f"{word} used before its definition (or never defined)")
    for last_line in ("verdicts (quick): QUICK:", "verdicts (embedded):", "summary: "):
        if last_line not in text:
            problems.append(f"no expected last line {last_line!r}")
    return problems


def test_the_readme_is_one_page_defines_each_verdict_word_before_use_and_shows_the_last_lines():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert readme_problems(text) == []
    early_fail = text.replace("Each claim of the paper", "A FAIL is rare. Each claim of the paper", 1)
    assert readme_problems(early_fail) == ["FAIL used before its definition (or never defined)"]
    long = text + "(see issue 30)\n" + "x\n" * 200
    assert readme_problems(long)[:2] == [f"{len(long.splitlines())} lines (at most 200; the rest goes in docs/)",
                                         "internal issue number: 'issue 30'"]
