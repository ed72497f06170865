"""Build the images (docker SDK classic builder; `docker buildx` only for foreign platforms) and
download the wheelhouses offline builds install from."""
import datetime
import os
import subprocess
import sys
from collections import deque

import docker.errors

from artifact import __version__
from artifact.core.paths import PROJECT_ROOT
from artifact.core.tomlfile import load_toml
from artifact.host.containers import ContainerError
from artifact.host.containers.bases import base_entry
from artifact.host.containers.engine import engine_arch
from artifact.host.containers.settings import check_target

REPO_ROOT = PROJECT_ROOT
DOCKER_DIR = os.path.join(REPO_ROOT, "docker")
SDIST_ONLY = os.path.join(DOCKER_DIR, "sdist-only.txt")
TAIL_LINES = 20
# requirements file of a jetson base that docker/bases.toml does not list (the L4T R32 one)
DEFAULT_JETSON_REQUIREMENTS = "requirements-l4t-r32.txt"
# the wheelhouse of the server image: the project's pins plus its build requirements
SERVER_BUILD_REQUIREMENTS = ("setuptools>=68", "wheel")


def dockerfile(target: str) -> str:
    """The Dockerfile's path relative to the build context (the repository root)."""
    return f"docker/{check_target(target)}/Dockerfile"


def wheelhouse_dir(target: str, root: str = REPO_ROOT) -> str:
    return os.path.join(root, "docker", "wheelhouse", check_target(target))


def git_revision(root: str = REPO_ROOT) -> str:
    """HEAD's commit read from .git (no git process), "unknown" outside a checkout."""
    git = os.path.join(root, ".git")
    try:
        with open(os.path.join(git, "HEAD")) as handle:
            head = handle.read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if os.path.exists(os.path.join(git, ref)):
            with open(os.path.join(git, ref)) as handle:
                return handle.read().strip()
        with open(os.path.join(git, "packed-refs")) as handle:
            for line in handle:
                if line.rstrip().endswith(" " + ref):
                    return line.split()[0]
    except OSError:
        pass
    return "unknown"


def oci_labels(target: str, source: str, revision=None, created=None) -> dict:
    return {
        "org.opencontainers.image.title": f"tocompress-artifact {target}",
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.revision": revision or git_revision(),
        "org.opencontainers.image.version": __version__,
        "org.opencontainers.image.created": created or datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def build_args(target: str, base: str, labels: dict) -> dict:
    """BASE_IMAGE, the OCI label values, and for jetson the base's REQUIREMENTS/APT_PACKAGES."""
    args = {"BASE_IMAGE": base, "VERSION": labels["org.opencontainers.image.version"],
            "REVISION": labels["org.opencontainers.image.revision"],
            "CREATED": labels["org.opencontainers.image.created"],
            "SOURCE": labels["org.opencontainers.image.source"]}
    if target == "jetson":
        entry = base_entry(target, base)
        args["REQUIREMENTS"] = entry.get("requirements") or DEFAULT_JETSON_REQUIREMENTS
        args["APT_PACKAGES"] = entry.get("apt_packages", "")
    return args


def build_image(client, target: str, base: str, tag: str, source: str = "unknown", platform: str = "",
                engine_url: str = "", out=None, revision=None, created=None) -> str:
    """Build docker/<target>/Dockerfile on the engine, streaming its log; returns the image id."""
    out = out or sys.stdout
    labels = oci_labels(target, source, revision, created)
    args = build_args(target, base, labels)
    if platform and needs_buildx(client, base, platform):
        return buildx_build(target, tag, platform, args, labels, engine_url, out)
    # The OCI labels reach the image through the Dockerfiles' LABEL lines (from these build args),
    # not the API's `labels=`: the classic builder adds one committed step per API label, and on a
    # vfs-backed engine each such step copies the whole multi-GB root filesystem (about 1 min each).
    kwargs = {"path": REPO_ROOT, "dockerfile": dockerfile(target), "buildargs": args,
              "tag": tag, "rm": True, "forcerm": True, "decode": True, "network_mode": "host"}
    if platform:
        kwargs.update(_platform_kwarg(client, base, platform))
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    image_id, error = None, None
    try:
        for chunk in client.api.build(**kwargs):
            text = chunk.get("stream") or chunk.get("status") or ""
            for line in text.splitlines():
                if line.strip():
                    tail.append(line)
                    print(f"[{target}] {line}", file=out, flush=True)
            if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if "error" in chunk:
                error = " ".join(str(chunk["error"]).split())
                tail.append(error)
    except docker.errors.APIError as api_error:
        error = " ".join(str(api_error.explanation or api_error).split())
    if error:
        print(f"[{target}] build failed; last {len(tail)} lines:", file=out)
        for line in tail:
            print(f"[{target}]   {line}", file=out)
        raise ContainerError(f"building the {target} image from {base} failed: {error[:300]} "
                             f"(full log above; fix the step, or pick another --base from docker/bases.toml)")
    return image_id or tag


def needs_buildx(client, base: str, platform: str) -> bool:
    """True when the classic builder cannot make `platform`: the engine is another architecture and
    the base is not on the engine. With the base on the engine and QEMU binfmt registered, the
    classic builder builds e.g. arm64 images on an amd64 engine (RUN steps run emulated). The
    base's recorded architecture is not trusted: `docker import` records the engine's own."""
    wanted = platform.split("/")[1] if "/" in platform else platform
    if wanted == engine_arch(client):
        return False
    try:
        client.images.get(base)
    except docker.errors.ImageNotFound:
        return True
    return False


def _platform_kwarg(client, base: str, platform: str) -> dict:
    """Pass `platform` to the classic builder only when the local base records that platform
    (else the engine would try to pull the base for it)."""
    wanted = platform.split("/")[1] if "/" in platform else platform
    try:
        recorded = client.images.get(base).attrs.get("Architecture")
    except docker.errors.ImageNotFound:
        recorded = None
    return {"platform": platform} if recorded in (None, wanted) else {}


def buildx_build(target, tag, platform, args, labels, engine_url, out) -> str:
    env = dict(os.environ, DOCKER_HOST=engine_url) if engine_url else dict(os.environ)
    try:
        ok = subprocess.run(["docker", "buildx", "version"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        ok = False
    if not ok:
        raise ContainerError(f"--platform {platform} needs a {platform} base image on the engine or `docker buildx`: "
                             f"install the buildx plugin and QEMU binfmt (docker run --privileged --rm "
                             f"tonistiigi/binfmt --install arm64), or build on the device itself")
    command = ["docker", "buildx", "build", "--platform", platform, "--load", "-f", dockerfile(target), "-t", tag]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    for key, value in labels.items():
        command += ["--label", f"{key}={value}"]
    print(f"[{target}] {' '.join(command)} {REPO_ROOT}", file=out, flush=True)
    if subprocess.run(command + [REPO_ROOT], env=env).returncode != 0:
        raise ContainerError(f"docker buildx build of the {target} image failed (log above)")
    return tag


# -- wheelhouses --------------------------------------------------------------------------------

def project_requirements(pyproject: str = os.path.join(REPO_ROOT, "pyproject.toml")) -> list:
    data = load_toml(pyproject, "pyproject", ContainerError)
    return list(data["project"]["dependencies"]) + list(SERVER_BUILD_REQUIREMENTS)


def wheelhouse_commands(target: str, platform: str, python_version: str, requirements: str = "",
                        python: str = sys.executable, dest: str = "") -> list:
    """The pip commands that fill docker/wheelhouse/<target>/ for an offline build."""
    dest = dest or wheelhouse_dir(target)
    tags: tuple[str, ...] | None = PLATFORM_TAGS.get(platform)
    if tags is None:
        raise ContainerError(f"unknown --platform {platform}: use one of {', '.join(PLATFORM_TAGS)}")
    if python_version == "3.6":  # L4T R32 is Ubuntu 18.04: glibc 2.27, no manylinux_2_28 wheels
        tags = tuple(t for t in tags if "_2_28_" not in t)
    common = [python, "-m", "pip", "download", "--only-binary=:all:", "--python-version", python_version,
              "--dest", dest, "--find-links", dest]
    for tag in tags:
        common += ["--platform", tag]
    commands = [[python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", dest, "-r", SDIST_ONLY]]
    if target == "server":
        commands.append(common + project_requirements())
    else:
        path = os.path.join(DOCKER_DIR, "jetson", requirements or DEFAULT_JETSON_REQUIREMENTS)
        if not os.path.exists(path):
            raise ContainerError(f"no {path}: pick --requirements from docker/jetson/requirements-*.txt")
        commands.append(common + ["-r", path])
        nodeps = path[:-len(".txt")] + "-nodeps.txt"
        if os.path.exists(nodeps):
            commands.append(common + ["--no-deps", "-r", nodeps])
    return commands


PLATFORM_TAGS = {
    "linux/arm64": ("manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_27_aarch64",
                    "manylinux_2_28_aarch64", "any"),
    "linux/amd64": ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_27_x86_64",
                    "manylinux_2_28_x86_64", "any"),
}
