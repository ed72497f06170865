"""The environment a record was measured in: read from the machine, never assumed."""
import os
import platform
import socket
import subprocess


def _read(path):
    # type: (str) -> Optional[str]
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _run(args):
    # type: (list) -> Optional[str]
    try:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=5,
                             check=True)
        return out.stdout.decode(errors="replace").strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model():
    # type: () -> Optional[str]
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith(("model name", "hardware", "cpu model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def git_commit():
    # type: () -> Optional[str]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = _run(["git", "-C", here, "rev-parse", "HEAD"])
    if commit and _run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"]):
        commit += "-dirty"
    return commit or os.environ.get("ARTIFACT_GIT_COMMIT")


def jetson_state():
    # type: () -> Dict[str, Optional[str]]
    """L4T release, power mode, clocks and temperatures on a Jetson; empty elsewhere."""
    release = _read("/etc/nv_tegra_release")
    if release is None:
        return {}
    state = {"l4t_release": release.splitlines()[0], "nvpmodel": _run(["nvpmodel", "-q"]),
             "jetson_clocks": _run(["jetson_clocks", "--show"])}
    for name in ("gpu", "emc"):
        state[name + "_freq_hz"] = _read("/sys/devices/gpu.0/devfreq/17000000.gp10b/cur_freq") if name == "gpu" \
            else _read("/sys/kernel/debug/clk/emc/clk_rate")
    zones = "/sys/class/thermal"
    if os.path.isdir(zones):
        for zone in sorted(os.listdir(zones)):
            kind = _read(os.path.join(zones, zone, "type"))
            temp = _read(os.path.join(zones, zone, "temp"))
            if kind and temp:
                state["temp_" + kind] = temp
    return state


def collect_environment():
    # type: () -> Dict[str, Optional[str]]
    import tensorflow as tf

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
        "cpu_model": cpu_model(),
        "cpu_count": str(os.cpu_count()),
        "cpu_governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "cpu_freq_khz": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"),
        "tensorflow": tf.__version__,
        "cuda": build.get("cuda_version"),
        "cudnn": build.get("cudnn_version"),
        "gpus": ", ".join(gpus) or None,
        "gpu_driver": _run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"]),
        "git_commit": git_commit(),
        "container_image": os.environ.get("ARTIFACT_IMAGE") or ("docker" if os.path.exists("/.dockerenv") else None),
    }
    env.update(jetson_state())
    return env
