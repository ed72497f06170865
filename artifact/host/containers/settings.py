"""The `docker:` section of invoke.yaml: which engine, image and base image each role uses."""
import os
from dataclasses import dataclass, field

from artifact.host.containers import TARGETS, ContainerError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DEFAULT_IMAGES = {"jetson": "tocompress/jetson:latest", "server": "tocompress/server:latest"}
DEFAULT_BASES = {"jetson": "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3",
                 "server": "tensorflow/tensorflow:2.21.0-gpu"}
# an engine given as one of these means: DOCKER_HOST, else the local socket
FROM_ENVIRONMENT = ("", "env", "environment", "DOCKER_HOST", None)


@dataclass
class DockerSettings:
    engines: dict = field(default_factory=dict)
    images: dict = field(default_factory=lambda: dict(DEFAULT_IMAGES))
    bases: dict = field(default_factory=lambda: dict(DEFAULT_BASES))
    source: str = "unknown"  # org.opencontainers.image.source
    profile_roles: dict = field(default_factory=dict)  # reproduce-all --in-docker: profile -> role

    @classmethod
    def from_config(cls, config) -> "DockerSettings":
        """From invoke's `c.config.docker` (or any mapping); missing keys keep their defaults."""
        section = dict(config or {})
        known = {"engines", "images", "bases", "source", "profile_roles"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ContainerError(f"invoke.yaml: unknown key docker.{unknown[0]}; known: {', '.join(sorted(known))}")
        settings = cls()
        for key in ("engines", "images", "bases", "profile_roles"):
            value = section.get(key) or {}
            if not hasattr(value, "items"):
                raise ContainerError(f"invoke.yaml: docker.{key} must be a mapping (role: value)")
            getattr(settings, key).update({str(k): v for k, v in dict(value).items()})
        if section.get("source"):
            settings.source = str(section["source"])
        return settings

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

    def role_for_profile(self, profile: str) -> str:
        role = str(self.profile_roles.get(profile, "jetson"))
        if role not in TARGETS:
            raise ContainerError(f"invoke.yaml: docker.profile_roles.{profile} is {role!r}; "
                                 f"use one of {', '.join(TARGETS)}")
        return role


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise ContainerError(f"unknown target {target!r}: use --target {' or --target '.join(TARGETS)}")
    return target
