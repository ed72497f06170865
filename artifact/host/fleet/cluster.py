"""The scheduler and the workers: a LocalCluster here (scheduler = "local") or the given scheduler, and one
single-threaded worker process per machine of the fleet file (artifact.host.fleet.worker).

With scheduler = "local" the workers are started here, one process each (no nanny: a worker killed stays
dead, so its board counts as lost). With a given scheduler, the lab starts them where the machines are
reachable (docs/fleet.md); either way the run starts only when a worker of every machine has joined.
"""
import os
import subprocess
import sys
import time
from typing import Any

from artifact.host.fleet import FleetError
from artifact.host.fleet.worker import command, environment

WORKERS = "workers"   # alive_resources' key of the live workers' names (no resource is named so)


class FleetCluster:
    def __init__(self, fleet, log_dir: str, python: str = sys.executable, join_timeout: float = 60.0):
        self.fleet, self.log_dir, self.python, self.join_timeout = fleet, log_dir, python, join_timeout
        self.local: Any = None
        self.client: Any = None
        self.processes: dict = {}   # machine name -> Popen (scheduler = "local" only)

    def __enter__(self) -> "FleetCluster":
        from distributed import Client, LocalCluster

        try:
            if self.fleet.scheduler == "local":
                self.local = LocalCluster(n_workers=0, processes=True, dashboard_address=None,
                                          scheduler_port=0, silence_logs=40)
                address = self.local.scheduler_address
                os.makedirs(self.log_dir, exist_ok=True)
                for machine in self.fleet.machines:
                    log = open(os.path.join(self.log_dir, machine.name + ".worker.log"), "a")  # noqa: SIM115
                    self.processes[machine.name] = subprocess.Popen(
                        command(address, machine.name, machine.resource, self.python), stdout=log,
                        stderr=subprocess.STDOUT, env=environment(), start_new_session=True)
                    log.close()
            else:
                address = self.fleet.scheduler
            self.client = Client(address, timeout=self.join_timeout)
            self.wait_for_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wait_for_workers(self) -> None:
        deadline = time.monotonic() + self.join_timeout
        while True:
            joined = set(self.alive())
            missing = [m for m in self.fleet.machines if m.name not in joined]
            if not missing:
                return
            if time.monotonic() > deadline:
                first = missing[0]
                start = " ".join(command(self.fleet.scheduler, first.name, first.resource, "python")[1:])
                raise FleetError(f"{first.where}: no worker named {first.name} joined the scheduler in "
                                 f"{self.join_timeout:g} s; start `python {start}` where the machine is reachable, "
                                 f"or remove the entry" + (f" (see {self.log_dir})" if self.processes else ""))
            time.sleep(0.2)

    def alive(self) -> dict:
        """worker name -> its address, for the workers the scheduler knows now."""
        info = self.client.scheduler_info()
        return {str(w.get("name")): address for address, w in info.get("workers", {}).items()}

    def alive_resources(self, exclude=()) -> dict:
        """resource -> how many live workers offer it (workers named in `exclude` left out: lost machines), and
        under the key WORKERS the set of their names (one scheduler round trip for both)."""
        info = self.client.scheduler_info()
        out: dict = {WORKERS: set()}
        for worker in info.get("workers", {}).values():
            if str(worker.get("name")) in exclude:
                continue
            out[WORKERS].add(str(worker.get("name")))
            for resource in (worker.get("resources") or {}):
                out[resource] = out.get(resource, 0) + 1
        return out

    def retire(self, name: str) -> None:
        """The machine's worker stops: its process here ends; a worker started elsewhere is told to close."""
        proc = self.processes.get(name)
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
            return
        address = self.alive().get(name)
        if address:
            try:
                self.client.retire_workers(workers=[address], close_workers=True)
            except Exception:  # noqa: S110 (already gone)
                pass

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.local is not None:
            self.local.close()

