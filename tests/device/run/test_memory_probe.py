"""The memory probe's server: a child forked from a process that imported TensorFlow measures what a fresh
process measures (the same RSS before loading, the same footprint within its noise), faster; a failing probe
is its exit code and last line, and neither a crash nor a killed server loses the next probe."""
import os

import pytest

from artifact.device.compress.deploy import save_deployable
from artifact.device.models.tasks import task_for
from artifact.device.run.memory_probe import ProbeServer, fresh_probe

MB = 1e6


@pytest.fixture(scope="module")
def mobilenet_file(tmp_path_factory):
    """MobileNet v1 of Table I (seeded weights, 17 MB), as the run deploys it."""
    path = str(tmp_path_factory.mktemp("probe") / "mobilenet_v1.keras")
    save_deployable(task_for("mobilenet_v1", {}).train(), path, {"model": "mobilenet_v1", "technique": "baseline"})
    return path


def test_a_forked_probe_measures_what_a_fresh_process_measures(mobilenet_file, tmp_path):
    """Three of each: the footprint moves from process to process, forked or fresh (measured on an idle machine:
    fresh 50.4-58.5 MB, forked 47.4-52.3 MB on this model; in CI one pair differed by 11.8 MB, and medians of
    three by 7.7 MB), so the forked median must lie within the fresh processes' own range, 5 MB either side."""
    import statistics

    server = ProbeServer(str(tmp_path))
    try:
        runs = [server.measure(mobilenet_file, "mobilenet_v1", 3) for _ in range(3)]
    finally:
        server.close()
    fresh = [fresh_probe(mobilenet_file, "mobilenet_v1", 3)[1] for _ in range(3)]
    assert all(code == 0 and forked["process"].startswith("forked from a probe server") for code, forked, _ in runs)
    forked = [result for _, result, _ in runs]

    def median(results, key):
        return statistics.median(r[key] for r in results)

    # Without touching the library pages the server had (Linux does not copy a file mapping's page-table
    # entries on fork) the child started at 315 MB where a fresh process starts at 654 MB, and the pages
    # counted again as the model's footprint (+11 MB on this model).
    assert median(forked, "rss_before_bytes") == pytest.approx(median(fresh, "rss_before_bytes"), rel=0.03)
    delta, fresh_deltas = median(forked, "peak_delta_bytes"), [r["peak_delta_bytes"] for r in fresh]
    assert min(fresh_deltas) - 5 * MB <= delta <= max(fresh_deltas) + 5 * MB, (
        [r["peak_delta_bytes"] for r in forked], fresh_deltas)
    assert delta > 17 * MB   # the weights are in it


def test_a_failing_probe_is_its_exit_code_and_last_line_and_the_server_goes_on(mobilenet_file, tmp_path):
    server = ProbeServer(str(tmp_path))
    try:
        code, result, tail = server.measure(str(tmp_path / "missing.keras"), "mobilenet_v1", 3)
        assert code == 1 and result is None
        assert "missing.keras" in tail and "\n" not in tail
        pid = server._proc.pid
        code, result, _ = server.measure(mobilenet_file, "mobilenet_v1", 1)
        assert code == 0 and result["inferences"] == 1 and server._proc.pid == pid   # the same server
    finally:
        server.close()
    assert os.listdir(str(tmp_path)) == []   # the probes' logs are gone


def test_a_killed_server_is_started_again_and_a_closed_one_ends(mobilenet_file, tmp_path):
    server = ProbeServer(str(tmp_path))
    server.measure(mobilenet_file, "mobilenet_v1", 1)
    first = server._proc
    first.kill()
    first.wait()
    code, result, _ = server.measure(mobilenet_file, "mobilenet_v1", 1)
    assert code == 0 and result is not None and server._proc is not first
    proc = server._proc
    proc.stdin.close()   # what a killed worker leaves it: the end of its input
    assert proc.wait(timeout=60) == 0


def test_where_a_child_cannot_start_as_a_fresh_process_the_probes_run_fresh(mobilenet_file, tmp_path):
    # under QEMU user-mode emulation /proc/self/pagemap describes the emulator's addresses: the server finds
    # none of its library pages, says so, and every probe of the worker runs in a fresh process instead
    from artifact.device.run.memory_probe import why_not_forked

    assert why_not_forked([]) is not None and "RssFile" in why_not_forked([])
    server = ProbeServer(str(tmp_path), serve=["-c", "print('UNAVAILABLE pagemap shows 0 MB (a stand-in)')"])
    code, result, _ = server.measure(mobilenet_file, "mobilenet_v1", 1)
    assert code == 0 and result["process"] == "a fresh process (pagemap shows 0 MB (a stand-in))"
    assert server._proc is None   # and it is not started again for the next probe
    code, result, tail = server.measure(str(tmp_path / "missing.keras"), "mobilenet_v1", 1)
    assert code != 0 and result is None and "missing.keras" in tail
    server.close()


def test_the_server_finds_the_library_pages_it_has():
    from artifact.device.run.memory_probe import resident_file_pages, why_not_forked

    runs = resident_file_pages()
    assert why_not_forked(runs) is None    # on this kernel the pages found account for RssFile
    assert all(size > 0 and size % os.sysconf("SC_PAGE_SIZE") == 0 for _, size in runs)


# a stand-in probe server: says READY, prints its pid, and on the first request kills the worker that asked (as a
# kill -9 of the worker mid-probe would), then outlives it unless the kernel kills it with its parent
STAND_IN = ("import os, sys, time\nprint('READY', flush=True)\nsys.stdin.readline()\n"
            "os.kill(os.getppid(), 9)\ntime.sleep(60)")
WORKER = ("import sys\nfrom artifact.device.run.memory_probe import ProbeServer\n"
          "server = ProbeServer(sys.argv[1], serve=['-c', sys.argv[2]])\nserver._start()\n"
          "print(server._proc.pid, flush=True)\nserver.measure('m.keras', 'mobilenet_v1', 1)\n")


def _ends(pid, seconds):
    """Has process `pid` ended within `seconds` (gone, or a zombie waiting to be reaped)?"""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            with open("/proc/{}/stat".format(pid)) as handle:
                if handle.read().rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_a_worker_killed_mid_probe_leaves_no_server_and_its_log_is_swept(tmp_path):
    """The probe server dies with its worker (dies_with, as the workers with `run`), and the probe's log, named
    .tmp-*, is swept by the one cleaner when the results directory's lock is next taken."""
    import subprocess
    import sys

    from artifact.core.paths import PROJECT_ROOT
    from artifact.core.results import ResultsDir

    results = ResultsDir(str(tmp_path / "results"))
    os.makedirs(results.logs)
    worker = subprocess.run([sys.executable, "-c", WORKER, results.logs, STAND_IN], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, text=True, timeout=60)
    assert worker.returncode == -9
    server = int(worker.stdout.split()[0])
    try:
        assert _ends(server, 10), "the probe server outlived its worker"
    finally:
        if not _ends(server, 0):
            os.kill(server, 9)
    left = os.listdir(results.logs)
    assert len(left) == 1   # the killed probe's log
    with results.writer("test"):
        pass
    assert os.listdir(results.logs) == []
