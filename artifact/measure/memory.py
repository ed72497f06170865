"""Peak resident memory of this process, reset per phase where the kernel allows it."""
import resource


def _status_kib(field):
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
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes():
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024
