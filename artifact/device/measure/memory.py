"""Memory of an inference process: peak RSS (reset per phase where the kernel allows), the system's
MemAvailable / NvMapMemUsed (the Jetson's shared CPU-GPU view) and TensorFlow's GPU allocator peak."""
import resource
import threading
from typing import Any, Dict, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)


def status_kib(field):
    # type: (str) -> Optional[int]
    """A field of /proc/self/status in KiB (VmRSS, VmHWM, RssFile ...), None when unreadable or absent."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def reset_peak():
    # type: () -> bool
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def current_rss_bytes():
    kib = status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes():
    kib = status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


MEMINFO_FIELDS = ("MemAvailable", "NvMapMemUsed")  # NvMapMemUsed: Jetson only (CPU-GPU shared buffers)


def read_meminfo(path="/proc/meminfo"):
    # type: (str) -> Dict[str, int]
    """The fields of /proc/meminfo in bytes ({} if unreadable); lines look like `MemAvailable:  123 kB`."""
    values = {}
    try:
        with open(path) as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    values[name.strip()] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    except (OSError, UnicodeDecodeError):
        return {}
    return values


class MeminfoWatcher(object):
    """Samples MemAvailable (min) and NvMapMemUsed (max) in a thread during one phase.

    The system-wide view that RSS misses on a Jetson: CPU and GPU share DRAM, and CUDA buffers are
    nvmap allocations (tegrastats' and jtop's NvMapMemUsed), not process RSS. System-wide means other
    processes move these numbers too: the deltas are recorded as a second view, never the footprint.
    """

    def __init__(self, path="/proc/meminfo", interval_s=0.01):
        self.path, self.interval_s = path, interval_s
        self.before = {}  # type: Dict[str, int]
        self.extreme = {}  # type: Dict[str, int]
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        values = read_meminfo(self.path)
        self.samples += 1
        for name in MEMINFO_FIELDS:
            if name in values:
                pick = min if name == "MemAvailable" else max
                self.extreme[name] = pick(self.extreme.get(name, values[name]), values[name])
        return values

    def _run(self):
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self):
        self.before = {k: v for k, v in self._sample().items() if k in MEMINFO_FIELDS}
        self.extreme = dict(self.before)
        self._thread = threading.Thread(target=self._run, name="meminfo-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        # type: () -> Dict[str, Any]
        """{"mem_available_drop_bytes", "nvmap_growth_bytes" (Jetson), "meminfo_samples"}; a field the
        kernel does not expose is absent, with `meminfo_missing` naming it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        out = {"meminfo_samples": self.samples}  # type: Dict[str, Any]
        if "MemAvailable" in self.before:
            out["mem_available_drop_bytes"] = self.before["MemAvailable"] - self.extreme["MemAvailable"]
        if "NvMapMemUsed" in self.before:
            out["nvmap_growth_bytes"] = self.extreme["NvMapMemUsed"] - self.before["NvMapMemUsed"]
        missing = [name for name in MEMINFO_FIELDS if name not in self.before]
        if missing:
            out["meminfo_missing"] = ", ".join(missing) + " not in " + self.path
        return out


def gpu_allocator():
    # type: () -> Tuple[Optional[str], str]
    """The first GPU TensorFlow sees, as 'GPU:0', or (None, why not)."""
    from artifact.device.compat import tf

    if not tf.config.list_physical_devices("GPU"):
        return None, "no GPU visible to TensorFlow"
    if not hasattr(tf.config.experimental, "reset_memory_stats"):  # TF < 2.6
        return None, "TensorFlow {} has no reset_memory_stats".format(tf.__version__)
    return "GPU:0", ""


def reset_gpu_peak(device):
    # type: (Optional[str]) -> None
    if device is not None:
        from artifact.device.compat import tf

        tf.config.experimental.reset_memory_stats(device)


def gpu_peak_bytes(device):
    # type: (Optional[str]) -> Optional[int]
    """Peak bytes TF's allocator had in use on `device` since the last reset (not the reserved pool)."""
    if device is None:
        return None
    from artifact.device.compat import tf

    return int(tf.config.experimental.get_memory_info(device)["peak"])
