"""Host side of the container images (docker/jetson, docker/server), driven by the docker SDK.

Used by the `docker.*` invoke tasks and by `invoke reproduce-all --in-docker`; never imported on
the device (Python 3.10+ only, like the rest of the host code).

    settings  the `docker:` section of invoke.yaml: one engine, image and base image per role
    engine    connect to a role's engine; a missing/unreachable engine is one clear line
    images    build an image (SDK classic builder, or `docker buildx` for foreign platforms),
              download a wheelhouse for offline builds
    run       run a container with the mounts, user, GPU access and environment a run needs

Every user-fixable failure is a `ContainerError` (an `ArtifactError`): one line saying what to do.
"""
from artifact.core.errors import ArtifactError

TARGETS = ("jetson", "server")


class ContainerError(ArtifactError):
    """A Docker engine, build or container failed in a way the user can fix (one line)."""
