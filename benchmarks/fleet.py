"""Fleet benchmarks (issue 28): figures printed, never pass/fail. `invoke bench --only fleet`.

1. Scaling: the `embedded` reference run's cells (expected_results/reference/embedded: each record's
   duration_s, the sum of its phases), scaled down to --seconds in all, measured by N = 1, 2, 4, 8, 16
   simulated boards: the fleet's own driver (artifact.host.fleet.run.drive: longest first, at most one
   cell per board) on a Dask LocalCluster whose board workers sleep each cell's scaled duration.
   Makespan against max(T1/N, longest cell), the bound no schedule beats (goal: <= 1.1x).
2. An idle board worker (python -m artifact.host.fleet.worker, profiler off) on the host: CPU share and RSS
   over --idle seconds. Nothing of Dask runs on a board: its worker drives the board's engine from here.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def reference_durations(profile="embedded"):
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "expected_results", "reference", profile, "records", "*.json"))):
        with open(path) as handle:
            data = json.load(handle)
        out[data["cell"]["key"]] = float(data["duration_s"])
    return out


def sleeping_cell(task, fleet_data, settings):
    from distributed import get_worker

    time.sleep(task["expected_s"] * settings["scale"])
    return {"status": "committed", "machine": get_worker().name, "key": task["key"]}


class Simulated:
    """N board workers (threads of one process: what is measured is the schedule, not the boards)."""

    def __init__(self, boards):
        from distributed import Client, LocalCluster

        self.local = LocalCluster(n_workers=boards, threads_per_worker=1, processes=False, dashboard_address=None,
                                  resources={"board-tx2": 1}, silence_logs=40)
        self.client = Client(self.local)

    def alive_resources(self, exclude=()):
        return {"board-tx2": len(self.client.scheduler_info()["workers"])}

    def retire(self, name):
        pass

    def close(self):
        self.client.close()
        self.local.close()


def scaling(seconds, counts):
    from artifact.host.fleet.fleetfile import Fleet, Machine
    from artifact.host.fleet.plan import Task, longest_first_makespan
    from artifact.host.fleet.run import drive

    durations = reference_durations()
    scale = seconds / sum(durations.values())
    plan = [Task(f"measure|{k}|-|tx2", "measure", k.split("__")[0], k, "board-tx2", d) for k, d in durations.items()]
    longest, total = max(durations.values()), sum(durations.values())
    print(f"{len(plan)} cells of the embedded reference run: T1 = {total:.1f} s, longest {longest:.1f} s; "
          f"scaled x{scale:.4f} (T1 = {seconds:g} s here)")
    rows = []
    for n in counts:
        cluster = Simulated(n)
        names = [w["name"] for w in cluster.client.scheduler_info()["workers"].values()]   # LocalCluster's: 0..N-1
        fleet = Fleet("simulated", "local", [Machine(name, "tx2", "local") for name in names], [])
        summary = {"tasks": [], "lost": {}}
        start = time.perf_counter()
        drive(cluster, fleet, sorted(plan, key=lambda t: -t.expected_s), {"scale": scale}, summary,
              lambda *_: None, 0.002, task_fn=sleeping_cell)
        makespan = (time.perf_counter() - start) / scale
        cluster.close()
        bound = max(total / n, longest)
        rows.append((n, makespan, bound, longest_first_makespan(list(durations.values()), n),
                     len({t["machine"] for t in summary["tasks"]})))
    print(f"{'boards':>6} {'makespan s':>11} {'max(T1/N, longest) s':>21} {'ratio':>6} {'LPT ideal s':>12} "
          f"{'boards used':>11}")
    for n, makespan, bound, ideal, used in rows:
        print(f"{n:>6} {makespan:>11.1f} {bound:>21.1f} {makespan / bound:>6.2f} {ideal:>12.1f} {used:>11}")
    print("(makespan in the reference run's seconds: the measured wall time divided by the scale)")


def idle_worker(seconds):
    from distributed import LocalCluster

    from artifact.host.fleet.worker import command, environment

    cluster = LocalCluster(n_workers=0, processes=True, dashboard_address=None, silence_logs=40)
    proc = subprocess.Popen(command(cluster.scheduler_address, "idle-board", "board-tx2"), env=environment(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5.0)   # joined and settled
        tick = os.sysconf("SC_CLK_TCK")
        before, t0 = _cpu(proc.pid), time.perf_counter()
        time.sleep(seconds)
        used, wall = (_cpu(proc.pid) - before) / tick, time.perf_counter() - t0
        with open(f"/proc/{proc.pid}/status") as handle:
            rss = next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
        print(f"idle board worker (profiler off, monitor 5 s): {100.0 * used / wall:.2f}% of a core over {wall:.0f} s, "
              f"RSS {rss / 1024:.0f} MiB, on the host; on the board during timing: nothing of Dask (the board runs "
              f"only the cell's container or process)")
    finally:
        proc.terminate()
        proc.wait()
        cluster.close()


def _cpu(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=80.0,
                        help="T1 scaled to this many seconds here (shorter magnifies Dask's fixed ~15 ms a task)")
    parser.add_argument("--boards", default="1,2,4,8,16")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds to watch an idle worker")
    args = parser.parse_args()
    scaling(args.seconds, [int(n) for n in args.boards.split(",")])
    idle_worker(args.idle)


if __name__ == "__main__":
    main()
