"""The environment a record was measured in: read from the machine, never assumed.

Software (Python, TensorFlow, CUDA/cuDNN of its build, git commit, container) is read here; the
board (L4T release, nvpmodel, jetson_clocks, CPU/GPU/EMC clocks, temperatures, CPU model and
governor, GPU and driver) by `artifact.device.measure.board_state.read_board_state`, under the same root
as the power sensors (`ARTIFACT_SYSFS_ROOT`, an emulated tree in tests).
"""
import os
import platform
import socket
import subprocess
from typing import Dict, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.evidence import describe_platform
from artifact.core.inputs import sysfs_root  # noqa: F401 (re-exported: the device side reads it from here)
from artifact.core.paths import PROJECT_ROOT


def _run(args):
    # type: (list) -> Optional[str]
    try:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=5,
                             check=True)
        return out.stdout.decode(errors="replace").strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def git_commit():
    # type: () -> Optional[str]
    here = PROJECT_ROOT
    commit = _run(["git", "-C", here, "rev-parse", "HEAD"])
    if commit and _run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"]):
        commit += "-dirty"
    return commit or os.environ.get("ARTIFACT_GIT_COMMIT")


def collect_environment(root=None):
    # type: (Optional[str]) -> Dict[str, Optional[str]]
    from artifact.device.compat import tf
    from artifact.device.measure.board_state import read_board_state

    build = {}
    try:
        build = dict(tf.sysconfig.get_build_info())
    except AttributeError:  # pragma: no cover
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    env = {
        "host": socket.gethostname(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": str(os.cpu_count()),
        "tensorflow": tf.__version__,
        "cuda": build.get("cuda_version"),
        "cudnn": build.get("cudnn_version"),
        "tf_gpus": ", ".join(gpus) or None,
        "git_commit": git_commit(),
        "container_image": os.environ.get("ARTIFACT_IMAGE") or ("docker" if os.path.exists("/.dockerenv") else None),
    }
    env.update(read_board_state(sysfs_root() if root is None else root))
    # what the run stands on, in one sentence (artifact.core.evidence): an emulated tree is never a Jetson
    env["platform"] = describe_platform(env)
    return env
