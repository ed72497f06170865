"""The `docker:` section of invoke.yaml: which engine, image and base image each role uses."""
import os
from dataclasses import dataclass, field

from artifact.host.containers import TARGETS, ContainerError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_IMAGES = {"jetson": "tocompress/jetson:latest", "server": "tocompress/server:latest"}
DEFAULT_BASES = {"jetson": "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3",
                 "server": "tensorflow/tensorflow:2.21.0-gpu"}
# reproduce-all --in-docker: the role whose image runs each step (the server retrains, the board measures);
# check and report run on the host
DEFAULT_STEP_ROLES = {"retrain": "server", "run": "jetson"}
# an engine given as one of these means: DOCKER_HOST, else the local socket
FROM_ENVIRONMENT = ("", "env", "environment", "DOCKER_HOST", None)


@dataclass
class DockerSettings:
    engines: dict = field(default_factory=dict)
    images: dict = field(default_factory=lambda: dict(DEFAULT_IMAGES))
    bases: dict = field(default_factory=lambda: dict(DEFAULT_BASES))
    source: str = "unknown"  # org.opencontainers.image.source
    step_roles: dict = field(default_factory=lambda: dict(DEFAULT_STEP_ROLES))  # reproduce-all --in-docker

    @classmethod
    def from_config(cls, config) -> "DockerSettings":
        """From invoke's `c.config.docker` (or any mapping); missing keys keep their defaults."""
        section = dict(config or {})
        known = {"engines", "images", "bases", "source", "step_roles"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ContainerError(f"invoke.yaml: unknown key docker.{unknown[0]}; known: {', '.join(sorted(known))}")
        settings = cls()
        for key in ("engines", "images", "bases", "step_roles"):
            value = section.get(key) or {}
            if not hasattr(value, "items"):
                shape = "step: role" if key == "step_roles" else "role: value"
                raise ContainerError(f"invoke.yaml: docker.{key} must be a mapping ({shape})")
            getattr(settings, key).update({str(k): v for k, v in dict(value).items()})
        unknown_steps = sorted(set(settings.step_roles) - set(DEFAULT_STEP_ROLES))
        if unknown_steps:
            raise ContainerError(f"invoke.yaml: docker.step_roles.{unknown_steps[0]} is not a step; "
                                 f"steps: {', '.join(DEFAULT_STEP_ROLES)}")
        if section.get("source"):
            settings.source = str(section["source"])
        return settings

    @classmethod
    def from_project(cls, project_dir=None) -> "DockerSettings":
        """The `docker:` section of the project's invoke.yaml read as invoke reads it (its Config), for code that
        runs outside an invoke task (`python -m artifact fleet`)."""
        from invoke import Config

        from artifact.core.paths import PROJECT_ROOT

        config = Config(project_location=project_dir or PROJECT_ROOT)  # type: ignore[arg-type]  # a str works
        config.load_project()
        return cls.from_config(config.get("docker"))

    def engine_url(self, role: str, environ=None) -> str:
        """The role's engine: invoke.yaml's docker.engines.<role>; "env"/empty means DOCKER_HOST,
        else the local socket."""
        check_target(role)
        environ = os.environ if environ is None else environ
        url = self.engines.get(role)
        if url in FROM_ENVIRONMENT:
            url = environ.get("DOCKER_HOST") or DEFAULT_SOCKET
        return str(url)

    def image(self, role: str) -> str:
        check_target(role)
        return str(self.images.get(role) or DEFAULT_IMAGES[role])

    def base(self, role: str) -> str:
        check_target(role)
        return str(self.bases.get(role) or DEFAULT_BASES[role])

    def role_for_step(self, step: str) -> str:
        if step not in DEFAULT_STEP_ROLES:
            raise ContainerError(f"invoke.yaml: docker.step_roles has no step {step!r}; "
                                 f"steps: {', '.join(DEFAULT_STEP_ROLES)}")
        role = str(self.step_roles.get(step) or DEFAULT_STEP_ROLES[step])
        if role not in TARGETS:
            raise ContainerError(f"invoke.yaml: docker.step_roles.{step} is {role!r}; use one of {', '.join(TARGETS)}")
        return role


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise ContainerError(f"unknown target {target!r}: use --target {' or --target '.join(TARGETS)}")
    return target
