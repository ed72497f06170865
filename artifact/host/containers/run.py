"""Run a container of an image with what a run needs: the caller's uid:gid, results and data sets
as volumes, host networking, GPU access, and for the Jetson the host's sensors and board files.

A remote engine (ssh://user@board, tcp://) runs on another machine, where this machine's paths do not
exist and this machine's uid means nothing: the results directory is copied into the container's
/results volume before it starts (`put_archive`: a run resumes where an earlier one stopped) and
copied back after it ends, even when it failed or was interrupted (`get_archive`), so the files land
here, written by the caller; the container runs as the image's own user (uid 1000, which exists in
it); `--datasets` then names a directory on the board.
"""
import io
import os
import sys
import tarfile

import docker.errors
import docker.types

from artifact.host.containers import ContainerError
from artifact.host.containers.engine import has_nvidia_runtime

RESULTS, DATASETS, HOST_ROOT = "/results", "/datasets", "/host"
# ARTIFACT_SYSFS_ROOT given on the host (an emulated sensor tree): mounted here in the container
EMULATED_ROOT = "/sysfs-root"
# inputs given as host paths: translated when under --datasets, else left out (with a warning)
PATH_VARIABLES = ("ARTIFACT_IMAGENET", "ARTIFACT_CHECKPOINTS", "ARTIFACT_NMT")
# board files the artifact reads under ARTIFACT_SYSFS_ROOT (artifact/device/measure/board_state.py);
# mounted only on an L4T engine (its kernel says "tegra"): a bind mount of a missing file would
# make Docker create a directory in its place on the board
TEGRA_FILES = ("/etc/nv_tegra_release", "/etc/nvpmodel.conf", "/var/lib/nvpmodel")
JTOP_SOCKET = "/run/jtop.sock"


def is_local(engine_url: str) -> bool:
    return engine_url.startswith(("unix://", "npipe://"))


def container_options(info: dict, target: str, image: str, results: str, datasets: str = "", cpu: bool = False,
                      engine_url: str = "unix:///var/run/docker.sock", environ=None, uid=None, gid=None,
                      warn=None) -> dict:
    """The keyword arguments of `client.containers.run` (decided from the engine's `info()`)."""
    environ = os.environ if environ is None else environ
    warn = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    local = is_local(engine_url)
    # a remote engine gets no bind mount of a path of this machine: results travel by copy (run_container)
    volumes = {os.path.abspath(results): {"bind": RESULTS, "mode": "rw"}} if local else {}
    env = {"ARTIFACT_IMAGE": image}
    if datasets:   # on a remote engine, a directory on the board
        volumes[os.path.abspath(datasets) if local else datasets] = {"bind": DATASETS, "mode": "ro"}
    for key, value in sorted(environ.items()):
        if not key.startswith("ARTIFACT_") or key in ("ARTIFACT_IMAGE", "ARTIFACT_SYSFS_ROOT"):
            continue
        if key in PATH_VARIABLES and value:
            inside = path_in_container(value, datasets)
            if inside is None:
                warn(f"{key}={value} is not under --datasets: left out of the container")
                continue
            value = inside
        env[key] = value
    options = {"network_mode": "host", "volumes": volumes, "environment": env, "detach": True, "init": True}
    if local:   # the results on this machine then belong to the caller; remotely, the image's own user
        options["user"] = f"{uid}:{gid}"
    nvidia = has_nvidia_runtime(info) and not cpu
    if target == "jetson":
        # the host's sysfs, board files and device tree seen under /host: ARTIFACT_SYSFS_ROOT=/host
        volumes["/sys"] = {"bind": HOST_ROOT + "/sys", "mode": "ro"}
        volumes["/proc/cpuinfo"] = {"bind": HOST_ROOT + "/proc/cpuinfo", "mode": "ro"}  # every Linux engine has it
        tegra = "tegra" in str(info.get("KernelVersion", ""))
        if tegra:
            for path in TEGRA_FILES:
                volumes[path] = {"bind": HOST_ROOT + path, "mode": "ro"}
            volumes["/sys/firmware/devicetree/base"] = {"bind": HOST_ROOT + "/proc/device-tree", "mode": "ro"}
        if is_local(engine_url) and os.path.exists(JTOP_SOCKET):
            volumes[JTOP_SOCKET] = {"bind": JTOP_SOCKET, "mode": "rw"}
        env["ARTIFACT_SYSFS_ROOT"] = HOST_ROOT
        if environ.get("ARTIFACT_SYSFS_ROOT"):
            if is_local(engine_url):
                volumes[os.path.abspath(environ["ARTIFACT_SYSFS_ROOT"])] = {"bind": EMULATED_ROOT, "mode": "ro"}
                env["ARTIFACT_SYSFS_ROOT"] = EMULATED_ROOT
            else:
                warn("ARTIFACT_SYSFS_ROOT names a path on this machine, not on the remote engine: ignored")
        options["group_add"] = ["video"]  # the Jetson GPU device nodes belong to group video
        if nvidia:
            options["runtime"] = "nvidia"
            env.setdefault("NVIDIA_DRIVER_CAPABILITIES", "compute,utility")
    elif nvidia:
        options["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
    return options


def path_in_container(path: str, datasets: str):
    """Where host `path` appears in a container that mounts `datasets` at /datasets (None: not under it)."""
    if not datasets:
        return None
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(datasets))
    if rel == os.curdir:
        return DATASETS
    if rel.startswith(os.pardir):
        return None
    return DATASETS + "/" + rel.replace(os.sep, "/")


def run_container(client, target: str, image: str, command=None, results: str = "results", datasets: str = "",
                  cpu: bool = False, engine_url: str = "", out=None, environ=None) -> int:
    """Run the image, stream its output, remove the container; returns its exit status."""
    out = out or sys.stdout
    engine_url = engine_url or "unix://"
    local = is_local(engine_url)
    if datasets and local and not os.path.isdir(datasets):
        raise ContainerError(f"--datasets {datasets}: no such directory")
    os.makedirs(results, exist_ok=True)
    info = client.info()
    options = container_options(info, target, image, results, datasets, cpu, engine_url, environ=environ)
    if not local:
        return _run_remote(client, target, image, command, options, results, engine_url, out)
    try:
        container = client.containers.run(image, command, **options)
    except docker.errors.ImageNotFound:
        raise ContainerError(f"no image {image} on the engine: run `invoke docker.build --target {target}` "
                             f"(or set docker.images.{target} in invoke.yaml)") from None
    except docker.errors.APIError as error:
        raise ContainerError(f"cannot start {image}: {_why(error)}") from None
    try:
        return _stream_until_done(container, out)
    finally:
        _remove(container)


def _why(error) -> str:
    return " ".join(str(error.explanation or error).split())[:300]


def _stream_until_done(container, out) -> int:
    """Stream a started container's output to `out` until it ends: its exit status (130 when interrupted)."""
    try:
        for chunk in container.logs(stream=True, follow=True):
            out.write(chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk)
            out.flush()
        return int(container.wait().get("StatusCode", 1))
    except KeyboardInterrupt:
        container.stop(timeout=10)
        return 130


def _remove(container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.APIError:
        pass


def _run_remote(client, target: str, image: str, command, options: dict, results: str, engine_url: str, out) -> int:
    """The run on a remote engine: create, copy the results directory in, start, stream, wait; copy the results
    back whatever happened; remove."""
    options = {key: value for key, value in options.items() if key != "detach"}
    try:
        container = client.containers.create(image, command, **options)
    except docker.errors.ImageNotFound:
        raise ContainerError(f"no image {image} on the engine {engine_url}: run `invoke docker.build --target "
                             f"{target}` (it builds on that engine), or set docker.images.{target}") from None
    except docker.errors.APIError as error:
        raise ContainerError(f"cannot create {image} on {engine_url}: {_why(error)}") from None
    status = 1
    try:
        if not container.put_archive(RESULTS, results_archive(results)):
            raise ContainerError(f"could not copy {results} into {RESULTS} of the container on {engine_url}")
        container.start()
        status = _stream_until_done(container, out)
    except KeyboardInterrupt:   # before the stream began (starting, copying in)
        container.stop(timeout=10)
        status = 130
    finally:
        try:
            stream, _ = container.get_archive(RESULTS)   # a tar whose names start with "results/"
            count = extract_results(stream, results)
            out.write(f"copied {count} files of {RESULTS} back from {engine_url} into {results}\n")
        except (docker.errors.APIError, tarfile.TarError, ContainerError) as error:
            out.write(f"warning: could not copy {RESULTS} back from {engine_url}: {error}\n")
            status = status or 1
        _remove(container)
    return status


def results_archive(results: str) -> bytes:
    """A tar of the results directory's contents (names relative to it), owned by the image's user (uid 1000)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in sorted(os.listdir(results)):
            archive.add(os.path.join(results, name), arcname=name, filter=_owned_by_image_user)
    return buffer.getvalue()


def _owned_by_image_user(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 1000
    info.uname = info.gname = ""
    return info


def extract_results(chunks, results: str) -> int:
    """Unpack the tar stream `get_archive` of /results into `results` (as the caller, so the files are the caller's);
    members are checked first: nothing outside `results`, no links, no devices. Returns the files written."""
    buffer = io.BytesIO(b"".join(chunks))
    root = os.path.realpath(results)
    count = 0
    with tarfile.open(fileobj=buffer, mode="r") as archive:
        # (member, path under `results`): the leading "results/" (or "./") stripped, the top entry itself dropped
        members = [(m, m.name.split("/", 1)[1]) for m in archive.getmembers() if "/" in m.name]
        members = [(m, name) for m, name in members if name]
        for member, name in members:   # all checked before anything is written
            target = os.path.realpath(os.path.join(root, name))
            if not target.startswith(root + os.sep) or not (member.isfile() or member.isdir()):
                raise ContainerError(f"refusing {member.name!r} from the container: not a plain file under {RESULTS}")
        for member, name in members:
            target = os.path.join(root, name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            source = archive.extractfile(member)
            tmp = target + ".tmp-copy"
            with open(tmp, "wb") as handle:
                handle.write(source.read() if source else b"")
            os.replace(tmp, target)
            count += 1
    return count
