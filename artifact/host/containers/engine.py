"""Connect to the Docker engine of a role (local socket, tcp:// or ssh://user@board)."""
import docker.errors

import docker
from artifact.host.containers import ContainerError
from artifact.host.containers.settings import DockerSettings

# the working client never times out a read: a silent `pip install` under QEMU can take minutes
NO_TIMEOUT = 24 * 3600


def connect(settings: DockerSettings, role: str, client_factory=None):
    """A DockerClient for the role's engine, checked with a ping; else one line saying what to do."""
    url = settings.engine_url(role)
    factory = client_factory or docker.DockerClient  # type: ignore[attr-defined]  # docker exports it lazily
    kwargs = {"base_url": url, "timeout": NO_TIMEOUT}
    if url.startswith("ssh://"):
        kwargs["use_ssh_client"] = True  # the ssh binary: ~/.ssh/config, agents and keys work as usual
    try:
        client = factory(**kwargs)
        client.ping()
    except (docker.errors.DockerException, OSError) as error:
        raise ContainerError(engine_hint(url, role, error)) from None
    return client


def engine_hint(url: str, role: str, error=None) -> str:
    why = " ".join(str(error).split())[:160] if error else ""
    fix = f"set docker.engines.{role} in invoke.yaml (or DOCKER_HOST when it says env)"
    if url.startswith("unix://"):
        what, todo = f"no Docker engine at {url}", f"start dockerd, or {fix}"
        if "ermission" in why:
            what, todo = f"no permission to use the Docker engine at {url}", f"join the docker group, or {fix}"
    elif url.startswith("ssh://"):
        what, todo = (f"cannot reach the Docker engine at {url}",
                      f"check `ssh {url[len('ssh://'):]} docker info` works, or {fix}")
    else:
        what, todo = f"cannot reach the Docker engine at {url}", f"start it or check the address, or {fix}"
    return f"{what} (role {role}): {todo}" + (f" [{why}]" if why else "")


def engine_arch(client) -> str:
    """The engine's architecture in OCI terms (amd64, arm64)."""
    arch = str(client.info().get("Architecture", ""))
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(arch, arch)


def has_nvidia_runtime(info: dict) -> bool:
    return "nvidia" in (info.get("Runtimes") or {})
