"""How a worker drives its machine: `python -m artifact ...` in a subprocess here, or in a container on a Docker
engine. Every call has a timeout; a machine that does not answer in time raises BoardLost.

Arguments name the attempt directory as RESULTS (`--results RESULTS`): the engine puts the attempt's own
path there (a subprocess) or /results (a container, its attempt copied in and back, as
artifact.host.containers.run does for a remote engine).

An emulated board on a Docker engine (the fleet file's `emulated = true`: CI's engines, no sensors there) runs
its command under `python -m artifact.device.emulation KIND DIR --serial EMULATED-<name> -- ...` in the
container: the board's tree and sensors are played beside the run, in a process of their own, and every record
is flagged EMULATED; its serial is that tree's, not the engine machine's.

Fencing: each try is marked with its attempt id (a subprocess's environment, ARTIFACT_FLEET_ATTEMPT; a
container's labels, artifact.fleet.board / artifact.fleet.attempt). Before a machine takes work, what a
stale try of it left running is removed: a lost worker's cell may still be running when the cell has
already moved to another board, and must neither keep the board busy nor write anything later.
"""
import os
import signal
import subprocess
import sys

from artifact.core.results import FleetDir
from artifact.host.fleet import BoardLost

RESULTS = "RESULTS"
EMULATED_TREE = "/tmp/emulated-board"   # in the container of an emulated board (its own /tmp: written by its user)
ATTEMPT_ENV, BOARD_ENV = "ARTIFACT_FLEET_ATTEMPT", "ARTIFACT_FLEET_BOARD"
LABEL_BOARD, LABEL_ATTEMPT = "artifact.fleet.board", "artifact.fleet.attempt"


def engine_for(machine, fleet: FleetDir, call_s: float, artifact_cmd=None, client_factory=None, images=None):
    """`images`: role -> image name (invoke.yaml's docker.images, read by the driver); None reads invoke.yaml here."""
    if machine.is_local:
        return LocalEngine(machine, fleet.running(machine.name), artifact_cmd)
    return DockerEngine(machine, call_s, client_factory, images=images)


class LocalEngine:
    """A subprocess here, in a session of its own (killed whole on timeout or fencing)."""

    def __init__(self, machine, running: str, artifact_cmd=None):
        """`running`: this machine's folder of running-attempt markers (FleetDir.running), what fencing reads."""
        self.machine = machine
        self.artifact_cmd = list(artifact_cmd or [sys.executable, "-m", "artifact"])
        self.running = running

    def run(self, args: list, attempt_dir: str, attempt: str, timeout: float, log_path: str) -> int:
        env = dict(os.environ, **{ATTEMPT_ENV: attempt, BOARD_ENV: self.machine.name})
        if self.machine.sysfs:
            env["ARTIFACT_SYSFS_ROOT"] = self.machine.sysfs
        command = self.artifact_cmd + [attempt_dir if a == RESULTS else a.replace(RESULTS + "/", attempt_dir + "/")
                                       for a in args]
        os.makedirs(self.running, exist_ok=True)
        marker = os.path.join(self.running, attempt)
        with open(log_path, "a") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            with open(marker, "w") as handle:
                handle.write(str(proc.pid))
            try:
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                raise BoardLost(f"{self.machine.name}: no answer from its cell in {timeout:g} s (killed)") from None
            finally:
                _unlink(marker)

    def fence(self) -> list:
        """Kill what stale attempts of this machine left running (only a process whose environment names that
        attempt: a reused pid is left alone); returns the attempts fenced."""
        fenced: list = []
        if not os.path.isdir(self.running):
            return fenced
        for attempt in sorted(os.listdir(self.running)):
            marker = os.path.join(self.running, attempt)
            try:
                with open(marker) as handle:
                    pid = int(handle.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _has_attempt(pid, attempt):
                _kill_group(pid)
                fenced.append(attempt)
            _unlink(marker)
        return fenced


def _has_attempt(pid: int, attempt: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return f"{ATTEMPT_ENV}={attempt}".encode() in handle.read().split(b"\0")
    except OSError:
        return False


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def ping_engine(url: str, timeout: float, client_factory=None) -> str:
    """"" when the Docker engine at `url` answers a ping within `timeout` s, else why not (one phrase)."""
    try:
        client = _client(url, timeout, client_factory)
        client.ping()
        return ""
    except Exception as error:   # docker.errors, requests' timeouts, OSError, paramiko: all "does not answer"
        return " ".join(str(error).split())[:160] or type(error).__name__


def _client(url: str, timeout: float, client_factory=None):
    if client_factory is None:
        import docker

        client_factory = docker.DockerClient  # type: ignore[attr-defined]
    kwargs = {"base_url": url, "timeout": max(1, int(timeout))}
    if url.startswith("ssh://"):
        kwargs["use_ssh_client"] = True
    return client_factory(**kwargs)


class DockerEngine:
    """A container of the board's (jetson) or the server's image on the machine's Docker engine."""

    def __init__(self, machine, call_s: float, client_factory=None, image=None, images=None):
        """The image: `image`, else `images`[role], else invoke.yaml's docker.images.<role> (jetson or server)."""
        from artifact.host.containers.settings import DockerSettings

        self.machine = machine
        self.call_s = call_s
        self.client_factory = client_factory
        self.target = "server" if machine.kind == "server" else "jetson"
        if images is None and not image:
            images = DockerSettings.from_project().images
        self.image = image or DockerSettings(images=dict(images or {})).image(self.target)

    def client(self):
        try:
            return _client(self.machine.engine, self.call_s, self.client_factory)
        except Exception as error:
            raise BoardLost(f"{self.machine.name}: engine {self.machine.engine} does not answer: {error}") from None

    def run(self, args: list, attempt_dir: str, attempt: str, timeout: float, log_path: str) -> int:
        from artifact.host.containers.run import (
            RESULTS as INSIDE,
        )
        from artifact.host.containers.run import (
            container_options,
            extract_results,
            is_local,
            results_archive,
        )

        client = self.client()
        command = ["python3", "-m", "artifact"] + [INSIDE if a == RESULTS else a.replace(RESULTS + "/", INSIDE + "/")
                                                   for a in args]
        if self.machine.emulated:
            command = ["python3", "-m", "artifact.device.emulation", self.machine.kind, EMULATED_TREE,
                       "--serial", self.emulated_serial, "--"] + command
        with open(log_path, "a") as log:
            try:
                options = container_options(client.info(), self.target, self.image, attempt_dir,
                                            engine_url=self.machine.engine, warn=lambda text: log.write(text + "\n"))
                options["labels"] = {LABEL_BOARD: self.machine.name, LABEL_ATTEMPT: attempt}
                local = is_local(self.machine.engine)
                options.pop("detach", None)   # a create() option no more: the container starts below
                container = client.containers.create(self.image, command, **options)
            except Exception as error:
                raise BoardLost(f"{self.machine.name}: cannot create a container: {_short(error)}") from None
            try:
                if not local and not container.put_archive(INSIDE, results_archive(attempt_dir)):
                    raise BoardLost(f"{self.machine.name}: could not copy the attempt into the container")
                container.start()
                status = int(container.wait(timeout=timeout).get("StatusCode", 1))
                log.write(_logs(container))
                if not local:
                    stream, _ = container.get_archive(INSIDE)
                    extract_results(stream, attempt_dir)
                return status
            except BoardLost:
                raise
            except Exception as error:   # a read timeout, a dropped ssh connection, an engine error
                raise BoardLost(f"{self.machine.name}: engine {self.machine.engine} stopped answering during the "
                                f"cell ({_short(error)})") from None
            finally:
                try:
                    container.remove(force=True)
                except Exception:  # noqa: S110 (a lost engine: fencing removes it before the board works again)
                    pass

    @property
    def emulated_serial(self) -> str:
        return "EMULATED-" + self.machine.name

    def serial(self) -> str:
        """The board's serial number from its device tree, read by a short container of its image (an emulated
        board's: the one its emulated tree is given)."""
        if self.machine.emulated:
            return self.emulated_serial
        try:
            out = self.client().containers.run(
                self.image, ["cat", "/host/proc/device-tree/serial-number"], remove=True,
                volumes={"/sys/firmware/devicetree/base": {"bind": "/host/proc/device-tree", "mode": "ro"}},
                labels={LABEL_BOARD: self.machine.name, LABEL_ATTEMPT: "serial"})
            return (out.decode("ascii", "replace") if isinstance(out, bytes) else str(out)).replace("\0", "").strip()
        except Exception as error:
            return f"unknown ({_short(error)[:80]})"

    def fence(self) -> list:
        """Remove every container of this board left by an earlier attempt (its labels say whose)."""
        client = self.client()
        fenced = []
        try:
            stale = client.containers.list(all=True, filters={"label": f"{LABEL_BOARD}={self.machine.name}"})
            for container in stale:
                fenced.append(container.labels.get(LABEL_ATTEMPT, "?"))
                container.remove(force=True)
        except Exception as error:
            raise BoardLost(f"{self.machine.name}: cannot list or remove its stale containers: "
                            f"{_short(error)}") from None
        return fenced


def _logs(container) -> str:
    try:
        data = container.logs()
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    except Exception:
        return ""


def _short(error) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__
