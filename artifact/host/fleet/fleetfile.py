"""The fleet file: which scheduler, which boards (name, kind, engine) and which servers.

    scheduler = "local"                 # a LocalCluster here, or "tcp://gateway:8786" (workers started there)
    reference = "mini_vgg__baseline__fp32"   # optional: the cell each board measures first (default: the
                                        # profile's first baseline cell)
    [timeouts]                          # all optional (seconds)
    call_s = 20                         # one engine call (ping, create, copy, remove)
    cell_min_s = 600                    # a cell's limit: max(cell_min_s, cell_factor x its expected duration)
    cell_factor = 5.0
    [[board]]
    name = "tx2-a"
    kind = "tx2"                        # tx2, xavier, orin or x86
    engine = "ssh://nvidia@tx2-a"       # unix://, ssh://, tcp:// (a Docker engine) or "local" (a subprocess here)
    sysfs = "emulated/tx2-a"            # "local" only: an emulated board tree (tests, dry runs)
    emulated = true                     # a Docker engine only: the container plays an EMULATED board of its kind
                                        # (CI's emulation: no sensors on the engine's machine); records flagged
    [[server]]
    name = "gpu-1"
    engine = "unix:///var/run/docker.sock"

`load_fleet` checks every field; `check_reachable` then asks each scheduler and engine once, with a short
timeout. Either fails with one line naming the file, the entry and the fix, before any work starts.
"""
import os
import socket
from dataclasses import dataclass, field

from artifact.core.tomlfile import load_toml
from artifact.host.fleet import EMULATED_KINDS, KINDS, FleetError

ENGINE_SCHEMES = ("unix://", "ssh://", "tcp://")
DEFAULT_TIMEOUTS = {"call_s": 20.0, "cell_min_s": 600.0, "cell_factor": 5.0}
SERIAL_FILES = ("proc/device-tree/serial-number", "sys/class/dmi/id/product_serial")  # as emulation.board writes


@dataclass(frozen=True)
class Machine:
    """A board (kind set) or a server (kind "server") and the engine that runs its work."""
    name: str
    kind: str
    engine: str
    sysfs: str = ""      # engine "local": the emulated board tree ("" = this machine's own /)
    where: str = ""      # "fleet.toml: board[1] (tx2-b)", for messages
    emulated: bool = False   # a Docker engine: its container plays an emulated board (artifact.host.fleet.engines)

    @property
    def resource(self) -> str:
        return "server" if self.kind == "server" else "board-" + self.kind

    @property
    def is_local(self) -> bool:
        return self.engine == "local"


@dataclass
class Fleet:
    source: str
    scheduler: str
    boards: list = field(default_factory=list)
    servers: list = field(default_factory=list)
    timeouts: dict = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    reference: str = ""   # the cell every board measures first ("": the profile's first baseline cell)

    @property
    def machines(self) -> list:
        return self.boards + self.servers

    def machine(self, name: str) -> Machine:
        for machine in self.machines:
            if machine.name == name:
                return machine
        raise FleetError(f"{self.source}: no board or server named {name!r}")

    def kinds(self) -> list:
        return sorted({b.kind for b in self.boards}, key=KINDS.index)

    def to_dict(self) -> dict:
        """What a worker needs (plain data, as tasks carry it)."""
        return {"source": self.source, "scheduler": self.scheduler, "timeouts": dict(self.timeouts),
                "machines": [m.__dict__.copy() for m in self.machines], "reference": self.reference}

    @classmethod
    def from_dict(cls, data: dict) -> "Fleet":
        machines = [Machine(**m) for m in data["machines"]]
        return cls(data["source"], data["scheduler"], [m for m in machines if m.kind != "server"],
                   [m for m in machines if m.kind == "server"], dict(data["timeouts"]), data.get("reference", ""))


def load_fleet(path: str) -> Fleet:
    """The fleet file, every field checked (reachability is `check_reachable`'s)."""
    data = load_toml(path, "fleet", FleetError)
    known = {"scheduler", "board", "server", "timeouts", "reference"}
    for key in data:
        if key not in known:
            raise FleetError(f"{path}: unknown key {key!r}; a fleet file has {', '.join(sorted(known))}")
    scheduler = data.get("scheduler", "local")
    if not isinstance(scheduler, str) or not (scheduler == "local" or scheduler.startswith("tcp://")):
        raise FleetError(f"{path}: scheduler = {scheduler!r}; give \"local\" (a LocalCluster here) or the "
                         f"scheduler's address, like \"tcp://gateway:8786\"")
    timeouts = dict(DEFAULT_TIMEOUTS)
    given = data.get("timeouts", {})
    if not isinstance(given, dict):
        raise FleetError(f"{path}: [timeouts] must be a table (call_s, cell_min_s, cell_factor)")
    for key, value in given.items():
        if key not in DEFAULT_TIMEOUTS:
            raise FleetError(f"{path}: timeouts.{key} is not a timeout; known: {', '.join(DEFAULT_TIMEOUTS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise FleetError(f"{path}: timeouts.{key} = {value!r}; give a number of seconds above 0")
        timeouts[key] = float(value)
    boards = [_machine(path, "board", i, entry) for i, entry in enumerate(_entries(path, data, "board"))]
    servers = [_machine(path, "server", i, entry) for i, entry in enumerate(_entries(path, data, "server"))]
    if not boards:
        raise FleetError(f"{path}: no [[board]]; add one per board (name, kind, engine)")
    seen: dict = {}
    for machine in boards + servers:
        if machine.name in seen:
            raise FleetError(f"{machine.where}: the name {machine.name!r} is taken by {seen[machine.name]}; "
                             f"give each board and server a name of its own")
        seen[machine.name] = machine.where
    reference = data.get("reference", "")
    if not isinstance(reference, str):
        raise FleetError(f"{path}: reference = {reference!r}; give a cell key of the profile (like "
                         f"\"mini_vgg__baseline__fp32\"), or leave it out for the profile's first baseline cell")
    return Fleet(path, scheduler, boards, servers, timeouts, reference)


def _entries(path, data, table):
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FleetError(f"{path}: {table} must be [[{table}]] tables")
    return entries


def _machine(path, table, index, entry) -> Machine:
    name = entry.get("name")
    where = f"{path}: {table}[{index}]" + (f" ({name})" if isinstance(name, str) else "")
    fields = {"name", "kind", "engine", "sysfs", "emulated"} if table == "board" else {"name", "engine"}
    for key in entry:
        if key not in fields:
            raise FleetError(f"{where}: unknown field {key!r}; a [[{table}]] has {', '.join(sorted(fields))}")
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise FleetError(f"{where}: name = {name!r}; give a name of letters, digits, '-', '_' or '.'")
    kind = "server"
    if table == "board":
        kind = entry.get("kind")
        if kind not in KINDS:
            raise FleetError(f"{where}: kind = {kind!r} is not a board kind; use one of {', '.join(KINDS)}")
    engine = entry.get("engine")
    if not isinstance(engine, str) or not (engine == "local" or engine.startswith(ENGINE_SCHEMES)):
        raise FleetError(f"{where}: engine = {engine!r}; give \"local\" (a subprocess here) or a Docker engine "
                         f"URL: {', '.join(s + '...' for s in ENGINE_SCHEMES)}")
    sysfs = entry.get("sysfs", "")
    if sysfs:
        if engine != "local":
            raise FleetError(f"{where}: sysfs is for engine = \"local\" only (an emulated tree on this machine); "
                             f"remove it, a remote board reads its own /sys")
        if not isinstance(sysfs, str):
            raise FleetError(f"{where}: sysfs = {sysfs!r}; give the path of an emulated board tree")
        sysfs = os.path.join(os.path.dirname(os.path.abspath(path)), sysfs)
    emulated = entry.get("emulated", False)
    if emulated is not False:
        if emulated is not True:
            raise FleetError(f"{where}: emulated = {emulated!r}; give true or false")
        if engine == "local":
            raise FleetError(f"{where}: emulated is for a Docker engine; a local board's emulated tree is "
                             f"sysfs = \"DIR\" (python -m artifact.device.emulation {kind} DIR)")
        if kind not in EMULATED_KINDS:
            raise FleetError(f"{where}: emulated = true, but there is no emulated {kind} board; "
                             f"emulated kinds: {', '.join(EMULATED_KINDS)}")
    return Machine(name, kind, engine, sysfs, where, emulated)


def check_reachable(fleet: Fleet, timeout: float = 5.0, docker_factory=None) -> None:
    """Ask the scheduler and every engine once (timeout seconds each); the first that does not answer is one line."""
    if fleet.scheduler != "local":
        host, _, port = fleet.scheduler[len("tcp://"):].rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
        except (OSError, ValueError) as error:
            raise FleetError(f"{fleet.source}: scheduler {fleet.scheduler} does not answer in {timeout:g} s "
                             f"({error}); start it (`dask scheduler` there) or set scheduler = \"local\"") from None
    for machine in fleet.machines:
        if machine.is_local:
            if machine.sysfs and not os.path.isdir(machine.sysfs):
                raise FleetError(f"{machine.where}: sysfs {machine.sysfs} is not a directory; make it with "
                                 f"`python -m artifact.device.emulation {machine.kind} {machine.sysfs}`"
                                 if machine.kind in EMULATED_KINDS else
                                 f"{machine.where}: sysfs {machine.sysfs} is not a directory")
            continue
        from artifact.host.fleet.engines import ping_engine

        why = ping_engine(machine.engine, timeout, docker_factory)
        if why:
            hint = (f"check `ssh {machine.engine[len('ssh://'):]} docker info` works"
                    if machine.engine.startswith("ssh://") else "start dockerd there or fix the engine URL")
            raise FleetError(f"{machine.where}: engine {machine.engine} does not answer in {timeout:g} s ({why}); "
                             f"{hint}, or remove the entry")


def read_serial(machine: Machine) -> str:
    """The board's serial number from its own tree (engine "local"): the emulated tree's, or this machine's."""
    root = machine.sysfs or "/"
    for rel in SERIAL_FILES:
        try:
            with open(os.path.join(root, rel), "rb") as handle:
                text = handle.read().replace(b"\x00", b"").decode("ascii", "replace").strip()
        except OSError:
            continue
        if text:
            return text
    try:  # x86 machines without a readable product_serial (root only): the machine id says which one it is
        with open(os.path.join(root, "etc/machine-id")) as handle:
            return "machine-id:" + handle.read().strip()
    except OSError:
        return "unknown"
