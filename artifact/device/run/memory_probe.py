"""Memory footprint of one deployed variant, measured in a fresh process.

    python -m artifact.device.run.memory_probe <deployable file> <model name> <inferences>
    python -m artifact.device.run.memory_probe --serve      (what a worker runs: see `serve`)

Imports TensorFlow and builds the task's inputs first (they are not the model's footprint), then
two phases, each starting with a peak reset (VmHWM, `clear_refs`): load the deployable file, then
run `inferences` inferences on real inputs. It prints one JSON line: the footprint is the peak RSS
of the inference phase minus the RSS before loading (the loaded model while it runs, without the
loader's transient buffers), plus TensorFlow's GPU allocator peak of that phase when a GPU is used
(device memory, or nvmap buffers on a Jetson, is not in RSS); the load phase's own peak is reported
beside it, and so is the system view: the drop of MemAvailable and, on a Jetson, the growth of
NvMapMemUsed during inference (system-wide, so other processes move them too). A
fresh process per variant means no allocator reuse from the baseline or an earlier variant, so
the figures of different variants compare. Inputs (--imagenet ...) come from the ARTIFACT_*
environment variables the runner sets.
"""
import json
import os
import sys
import traceback
from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)


def probe(path, model_name, inferences, meminfo="/proc/meminfo"):
    # type: (str, str, int, str) -> Dict[str, Any]
    from artifact.core.inputs import inputs_from_env
    from artifact.device.compress.deploy import load_deployable
    from artifact.device.measure.memory import (
        MeminfoWatcher,
        current_rss_bytes,
        gpu_allocator,
        gpu_peak_bytes,
        peak_rss_bytes,
        reset_gpu_peak,
        reset_peak,
    )
    from artifact.device.measure.timing import materialise
    from artifact.device.models.tasks import task_for

    inputs = inputs_from_env()
    inputs.pop("eval_samples", None)
    task = task_for(model_name, inputs)
    samples = task.timing_inputs(inferences)
    device, no_gpu = gpu_allocator()
    reset_ok = reset_peak()
    reset_gpu_peak(device)
    before = current_rss_bytes() or 0
    model = load_deployable(path)
    fn = task.predict_fn(model)
    load_peak, load_gpu = peak_rss_bytes(), gpu_peak_bytes(device)
    reset_ok = reset_peak() and reset_ok  # without clear_refs the peak keeps the load phase: say so
    reset_gpu_peak(device)
    watcher = MeminfoWatcher(meminfo).start()
    for i in range(inferences):
        materialise(fn(samples[i % len(samples)]))
    system = watcher.stop()
    peak, gpu = peak_rss_bytes(), gpu_peak_bytes(device)
    result = {"rss_peak_delta_bytes": peak - before, "rss_before_bytes": before, "inference_peak_rss_bytes": peak,
              "load_peak_delta_bytes": load_peak - before, "peak_reset_with_clear_refs": reset_ok,
              "inferences": inferences, "footprint": "rss"}
    result.update(system)
    if device is None:
        result["tf_gpu_allocator"] = no_gpu
        result["peak_delta_bytes"] = result["rss_peak_delta_bytes"]
    else:  # device memory (or nvmap buffers on a Jetson) is not in RSS: the footprint adds the allocator peak
        result.update(tf_gpu_peak_bytes=gpu, tf_gpu_load_peak_bytes=load_gpu, footprint="rss + tf_gpu_peak")
        result["peak_delta_bytes"] = result["rss_peak_delta_bytes"] + gpu
    return result


def resident_file_pages():
    # type: () -> List[Tuple[int, int]]
    """(address, bytes) of the runs of pages this process has in its page table in its readable mappings of
    regular files (the shared libraries' code and data, from /proc/self/maps and /proc/self/pagemap's
    "present" bit).

    Why: a forked child inherits the parent's anonymous memory in its page table, but Linux does not copy the
    entries of file mappings that were never written (`vma_needs_copy`): they fault in again, from the page
    cache, when the child touches them, and count in its RSS from then on. A child forked from the probe
    server would so see TensorFlow's library pages the import had touched as growth during its load and
    inference (+11 MB on MobileNet v1, 2026-12-02), where a fresh process had them before it started.
    `touch_pages` in the child restores exactly the fresh process's set."""
    import numpy as np

    page = os.sysconf("SC_PAGE_SIZE")
    runs = []  # type: List[Tuple[int, int]]
    with open("/proc/self/maps") as maps, open("/proc/self/pagemap", "rb") as pagemap:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) < 6 or fields[1][0] != "r" or fields[4] == "0":
                continue  # anonymous or unreadable
            path = fields[5].strip()
            if not path.startswith("/") or path.startswith(("/dev/", "/proc/", "/sys/")) or \
                    path.endswith(" (deleted)"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            pagemap.seek(start // page * 8)
            present = (np.frombuffer(pagemap.read((end - start) // page * 8), dtype=np.uint64) >> np.uint64(63)) == 1
            if not present.any():
                continue
            edges = np.flatnonzero(np.diff(np.concatenate(([0], present.view(np.int8), [0]))))
            runs.extend((start + int(a) * page, int(b - a) * page) for a, b in zip(edges[::2], edges[1::2]))
    return runs



def why_not_forked(runs):
    # type: (List[Tuple[int, int]]) -> Optional[str]
    """None when `runs` account for this process's resident file pages (RssFile, /proc/self/status; the runs
    also hold written private file pages, so they may exceed it), else why a forked child could not start as
    a fresh process would: e.g. under QEMU user-mode emulation /proc/self/pagemap describes the emulator's
    addresses, not the guest's."""
    from artifact.device.measure.memory import status_kib

    found = sum(size for _, size in runs)
    rss_file = status_kib("RssFile")
    if rss_file is None:
        return "no RssFile in /proc/self/status (unreadable, or a kernel < 4.5)"
    if found < 0.8 * rss_file * 1024:
        return "/proc/self/pagemap shows {:.0f} MB of the {:.0f} MB of file pages resident (RssFile)".format(
            found / 1e6, rss_file * 1024 / 1e6)
    return None


def touch_pages(runs):
    # type: (List[Tuple[int, int]]) -> None
    """Read one byte of every page of `runs` (what `resident_file_pages` found in the server), so that they are
    in this child's page table and RSS before it measures anything, as they were in the server."""
    import ctypes

    import numpy as np

    page = os.sysconf("SC_PAGE_SIZE")
    for address, size in runs:
        np.ctypeslib.as_array((ctypes.c_uint8 * size).from_address(address))[::page].sum()


# The heavy modules `probe` uses: imported once by the server, before any fork (and before any TensorFlow
# runtime exists, so no thread pool or device context is ever forked).
PRELOAD = ("artifact.device.compat", "artifact.core.inputs", "artifact.device.compress.deploy",
           "artifact.device.measure.memory", "artifact.device.measure.timing", "artifact.device.models.tasks")


def _exit_code(status):
    # type: (int) -> int
    """os.waitstatus_to_exitcode (Python >= 3.9) for 3.6: the exit code, or minus the killing signal."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)


def serve(requests=sys.stdin, replies=sys.stdout):
    """Import TensorFlow and the probe's modules once, then for each request line (JSON: path, model,
    inferences, log) fork a child that runs `probe` exactly as a fresh process would from here on, and reply
    with its `MEMORY` line and `EXIT <code>`. The child starts with the modules imported and no TensorFlow
    runtime (no eager context, no thread pool, no allocation): what a fresh `python -m` probe has after its
    imports, without paying them again (2-6 s on the 2 CPUs per variant). Ends at the end of its input, so a
    killed worker leaves no server behind."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    try:
        resident = resident_file_pages()
        problem = why_not_forked(resident)
    except (OSError, ValueError) as exc:
        resident, problem = [], "/proc/self/pagemap unreadable: {}".format(exc)
    if problem is not None:  # the worker then runs a fresh process per probe
        replies.write("UNAVAILABLE {}\n".format(problem))
        replies.flush()
        return
    replies.write("READY\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: its stderr goes to the request's log, its result to the server's stdout
            code = 1
            try:
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(log, 2)
                touch_pages(resident)
                result = probe(request["path"], request["model"], int(request["inferences"]))
                replies.write("MEMORY " + json.dumps(result) + "\n")
                replies.flush()
                code = 0
            except BaseException:  # noqa: B036 (anything, even SystemExit, must end in os._exit)
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        replies.write("EXIT {}\n".format(_exit_code(status)))
        replies.flush()


def fresh_probe(path, model_name, inferences):
    # type: (str, str, int) -> Tuple[int, Optional[Dict[str, Any]], str]
    """The probe in a fresh `python -m` process: (exit code, its result or None, the last line of its stderr).
    What a worker does where no server can stand in for one, and what the server is compared with."""
    import subprocess

    # Python 3.6 (Jetson TX2) has neither capture_output nor text
    proc = subprocess.run([sys.executable, "-m", "artifact.device.run.memory_probe", path, model_name,  # noqa: UP022
                           str(inferences)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)  # noqa: UP021
    lines = [line for line in proc.stdout.splitlines() if line.startswith("MEMORY ")]
    result = json.loads(lines[-1][len("MEMORY "):]) if lines and proc.returncode == 0 else None
    return proc.returncode, result, (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]


class ProbeServer(object):
    """The worker's side of `serve`: one server per worker (one model), started on first use.

    `measure(path, model, inferences)` returns (exit code, the probe's result or None, the last line of its
    stderr); the result's `process` says how the probe's process was made. A server that died (killed, out of
    memory) is started again for the next probe; one that cannot stand in for a fresh process
    (`why_not_forked`) is not: the worker's probes then run as fresh processes, and say why.
    """

    SERVE = ["-m", "artifact.device.run.memory_probe", "--serve"]

    def __init__(self, log_dir, serve=None):
        # type: (str, Optional[List[str]]) -> None
        self.log_dir = log_dir
        self.serve = [sys.executable] + (serve or self.SERVE)  # what starts the server (tests give a stand-in)
        self._proc = None  # type: Any
        self.fresh_because = None  # type: Optional[str]  # why probes run in fresh processes, once known

    def _start(self):
        import subprocess

        from artifact.core.children import dies_with

        # it dies with the worker (kill -9 included), as the workers with `run`: no server left measuring beside
        self._proc = subprocess.Popen(self.serve, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, universal_newlines=True, bufsize=1,
                                      preexec_fn=dies_with(os.getpid()))
        first = self._proc.stdout.readline().strip()
        if first != "READY":
            code = self._proc.wait()
            self._proc = None
            self.fresh_because = first[len("UNAVAILABLE "):] if first.startswith("UNAVAILABLE ") else (
                "the probe server did not start (exit {})".format(code))

    def measure(self, path, model_name, inferences):
        # type: (str, str, int) -> Tuple[int, Optional[Dict[str, Any]], str]
        import tempfile

        if self.fresh_because is None and (self._proc is None or self._proc.poll() is not None):
            self._start()
        if self.fresh_because is not None:
            code, result, tail = fresh_probe(path, model_name, inferences)
            if result is not None:
                result["process"] = "a fresh process ({})".format(self.fresh_because)
            return code, result, tail
        from artifact.core.atomic import TMP_PREFIX

        # named .tmp-*: what a worker killed mid-probe leaves is swept by the one cleaner (ResultsDir.remove_leftovers)
        fd, log = tempfile.mkstemp(prefix=TMP_PREFIX + "memory-probe-", suffix=".log", dir=self.log_dir)
        os.close(fd)
        try:
            self._proc.stdin.write(json.dumps({"path": path, "model": model_name, "inferences": inferences,
                                               "log": log}) + "\n")
            self._proc.stdin.flush()
            measured, exited = None, None  # type: Optional[Dict[str, Any]], Optional[int]
            for line in self._proc.stdout:
                if line.startswith("MEMORY "):
                    measured = json.loads(line[len("MEMORY "):])
                elif line.startswith("EXIT "):
                    exited = int(line.split()[1])
                    break
            if exited is None:  # the server itself died
                exited = self._proc.wait()
                self._proc = None
            if measured is not None:
                measured["process"] = "forked from a probe server that had imported TensorFlow and nothing else"
            with open(log) as handle:
                lines = handle.read().strip().splitlines()
            return exited, measured, (lines or ["no output"])[-1][:300]
        finally:
            os.remove(log)

    def close(self):
        # type: () -> None
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        result = probe(sys.argv[1], sys.argv[2], int(sys.argv[3]))
        print("MEMORY " + json.dumps(result), flush=True)
