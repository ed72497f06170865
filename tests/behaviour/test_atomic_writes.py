"""One atomic writer (artifact.core.atomic.write_atomic) for every file of a results directory, and one owner of
their paths (artifact.core.results).

A write that fails or is killed midway leaves the old file, or none, never a part of it or an empty file; its
temporary file starts with ".tmp-" in the target's own directory (what the leftover cleaner sweeps). The
report's files go through the writer (a plain open() for writing inside the results directory is refused
during the test), and no module but core/results.py joins a results file's name by hand.
"""
import ast
import builtins
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from artifact.core.atomic import TMP_PREFIX, write_atomic
from artifact.core.errors import ConfigError
from artifact.core.jsonfile import read_json, write_json_atomic
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.results import ResultsDir

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(TMP_PREFIX)]


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    target = str(tmp_path / "sub" / "report.md")
    write_atomic(target, "old\n")
    write_atomic(target, "névé\n")
    write_atomic(str(tmp_path / "fig.png"), b"\x89PNG")
    write_atomic(str(tmp_path / "made.bin"), lambda handle: handle.write(b"abc"), binary=True)
    assert (tmp_path / "sub" / "report.md").read_text(encoding="utf-8") == "névé\n"
    assert (tmp_path / "fig.png").read_bytes() == b"\x89PNG" and (tmp_path / "made.bin").read_bytes() == b"abc"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "sub") == []


@pytest.mark.parametrize("before", ["old content\n", None])
def test_a_write_that_fails_midway_leaves_the_old_file_or_none(tmp_path, before):
    target = tmp_path / "index.html"
    if before is not None:
        target.write_text(before)

    def half_then_fail(handle):
        handle.write("<html>half")
        handle.flush()
        raise KeyboardInterrupt  # an interrupt, not only an error, must leave the old file

    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), half_then_fail)
    if before is None:
        assert not target.exists()
    else:
        assert target.read_text() == before
    assert leftovers(tmp_path) == []


KILLED_WRITER = """
import sys, time
from artifact.core.atomic import write_atomic

def slow(handle):
    handle.write("partial")
    handle.flush()
    print("WRITING", flush=True)
    time.sleep(60)

write_atomic(sys.argv[1], slow)
"""


@pytest.mark.parametrize("before", ["old content\n", None])
def test_a_write_killed_midway_leaves_the_old_file_or_none_never_an_empty_one(tmp_path, before):
    target = tmp_path / "run.json"
    if before is not None:
        target.write_text(before)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        assert proc.stdout.readline().strip() == "WRITING"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    if before is None:
        assert not target.exists()
    else:
        assert target.read_text() == before and target.stat().st_size > 0
    left = leftovers(tmp_path)  # the killed write's temporary file, in the target's folder, for the cleaner
    assert len(left) == 1 and (tmp_path / left[0]).read_text() == "partial"


def test_a_folder_that_cannot_be_made_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "results").write_text("a file where the results directory should be")
    with pytest.raises(ConfigError, match="verdicts.json: cannot write it"):
        write_json_atomic(str(tmp_path / "results" / "verdicts.json"), {"a": 1})


def test_json_and_text_files_of_a_results_directory_go_through_the_writer(tmp_path):
    results = ResultsDir(str(tmp_path))
    results.write_text_atomic(results.results_csv, "cell,metric\n")
    write_json_atomic(results.run_json, {"x": float("nan")})
    assert read_json(results.run_json, "run") == {"x": None}
    assert (tmp_path / "results.csv").read_text() == "cell,metric\n" and leftovers(tmp_path) == []


def test_the_report_writes_every_file_through_the_atomic_writer(tmp_path, monkeypatch):
    from artifact.host.report.render import render_report

    work = tmp_path / "smoke"
    shutil.copytree(SMOKE, work)
    real_open = builtins.open

    def refusing_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and os.path.abspath(str(file)).startswith(str(work)):
            raise AssertionError(f"{file} opened for writing without the atomic writer")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing_open)
    started = time.time()
    summary = render_report(str(work))
    results = ResultsDir(str(work))
    for path in (results.report_html, results.report_md, results.summary_json):
        assert os.path.getsize(path) > 0 and os.path.getmtime(path) >= started - 1
    assert summary["figures"] and all(os.path.getsize(results.figure_file(stem)) > 1000 for stem in summary["figures"])
    assert leftovers(results.report) == [] and leftovers(results.figures) == []


# names of files and folders of a results directory (artifact.core.results owns their paths)
RESULT_NAMES = {"records", "models", "retrained", "logs", "report", "run.json", "inputs.json", "verdicts.json",
                "results.csv", "index.html", "report.md", "summary.json", "summary.md", "figures", "explore",
                "explore.db", ".lock"}
NOT_RESULTS = {("artifact/core/packages.py", "models")}  # the device's source folder models/, not a results one


def test_no_module_joins_a_results_files_path_by_hand():
    hand_made = []
    files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "artifact"))
             for f in fs if f.endswith(".py")]
    for path in files + [os.path.join(ROOT, "tasks.py")]:
        relative = os.path.relpath(path, ROOT)
        if relative == os.path.join("artifact", "core", "results.py"):
            continue
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "join":
                for arg in node.args:
                    if (isinstance(arg, ast.Constant) and arg.value in RESULT_NAMES
                            and (relative, arg.value) not in NOT_RESULTS):
                        hand_made.append(f"{relative}:{node.lineno} {arg.value}")
    assert hand_made == [], "use artifact.core.results.ResultsDir's paths"
