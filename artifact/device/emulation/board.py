"""EMULATED board trees for tests of artifact.device.measure.board_state: not hardware, never a measurement.

``make_tx2_board(root)``, ``make_orin_board(root)`` and ``make_x86_board(root)`` write the files that
``read_board_state(root)`` and ``BoardMonitor(root)`` read, with a marker file ``EMULATED_SENSORS``
at the top ("EMULATED <kind> board tree for tests; not hardware"), and return ``root``.

Layouts:
  TX2 (L4T R32)  per-CPU cpufreq: sys/devices/system/cpu/cpu0..5/cpufreq/ (no policy folders, as the
                 reader falls back to them); GPU devfreq sys/devices/gpu.0/devfreq/17000000.gp10b (and a
                 sys/class/devfreq symlink); EMC sys/kernel/debug/clk/emc/clk_rate plus the bpmp
                 max_rate / mrq_rate_locked that jetson_clocks uses; eight thermal zones
  Orin (L4T R36) policy folders sys/devices/system/cpu/cpufreq/policy0,4,8 (what the reader uses when
                 they exist) and cpu<N>/cpufreq symlinks to them as on a real kernel; GPU devfreq
                 sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b; EMC bpmp .../clk/emc/rate
  x86            proc/cpuinfo, cpu0/cpu1 cpufreq (performance), thermal_throttle counters, x86_pkg_temp

Each tree carries a serial number where the real board keeps one (``SERIAL_FILES``: the device tree's
serial-number on a Jetson, DMI's product_serial on x86), ``EMU-<KIND>-0000`` unless ``serial=`` is given: a
fleet of emulated boards tells its boards apart by it, as a lab tells real ones apart.

``set_value(root, relpath, value)`` changes one file atomically; ``throttle_tx2(root)`` and
``bump_throttle_count(root, n)`` play a throttling event during a monitored run.
"""
# typing.List/Optional and no `X | None`: this module must import on Python 3.6 (TX2).
# ruff: noqa: UP006, UP035, UP045
import os
from typing import List, Optional, Tuple

from artifact.device.emulation.sensors import MARKER, write_value

CPU_DIR = "sys/devices/system/cpu"
TX2_CPU_MAX_KHZ, TX2_CPU_MIN_KHZ = 2035200, 345600
TX2_GPU_DEVFREQ = "sys/devices/gpu.0/devfreq/17000000.gp10b"
TX2_GPU_MAX_HZ, TX2_GPU_MIN_HZ, TX2_GPU_THROTTLED_HZ = 1300500000, 114750000, 114750000
TX2_EMC_HZ = 1866000000
TX2_MODES = [(0, "MAXN"), (1, "MAXQ"), (2, "MAXP_CORE_ALL"), (3, "MAXP_CORE_ARM"), (4, "MAXP_CORE_DENVER")]
# (zone type, milli-C, lowest passive/hot trip in milli-C or None)
TX2_ZONES = [("BCPU-therm", 44500, 96500), ("MCPU-therm", 44000, 96500), ("GPU-therm", 42500, 96000),
             ("AO-therm", 47000, None), ("Tboard_tegra", 40000, None), ("Tdiode_tegra", 41250, None),
             ("PMIC-Die", 50000, None), ("thermal-fan-est", 43800, None)]
ORIN_CPU_MAX_KHZ, ORIN_CPU_MIN_KHZ = 2201600, 115200
ORIN_GPU_DEVFREQ = "sys/devices/platform/17000000.ga10b/devfreq/17000000.ga10b"
ORIN_GPU_MAX_HZ, ORIN_GPU_MIN_HZ = 1300500000, 306000000
ORIN_EMC_HZ = 3199000000
ORIN_MODES = [(0, "MAXN"), (1, "MODE_15W"), (2, "MODE_30W"), (3, "MODE_50W")]
ORIN_ZONES = [("cpu-thermal", 48000, 99000), ("gpu-thermal", 46500, 99000), ("cv0-thermal", 45000, 99000),
              ("soc0-thermal", 46000, 99000), ("tj-thermal", 48500, 99000)]  # type: List[Tuple[str, int, Optional[int]]]
X86_MODEL = "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz"
# where a board keeps its serial number, under the sysfs root (the device tree's string ends in a NUL)
SERIAL_FILES = ("proc/device-tree/serial-number", "sys/class/dmi/id/product_serial")


def set_value(root: str, relpath: str, value: object) -> None:
    """Atomically write ``value`` to ``root/relpath`` (temp file + os.replace), creating folders."""
    path = os.path.join(root, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_value(path, value)


def _marker(root: str, kind: str) -> None:
    os.makedirs(root, exist_ok=True)
    write_value(os.path.join(root, MARKER), "EMULATED {} board tree for tests; not hardware".format(kind))


def _cpufreq(root: str, folder: str, cur: int, lo: int, hi: int, hwmax: int, hwmin: int, governor: str) -> None:
    for name, value in (("scaling_cur_freq", cur), ("scaling_min_freq", lo), ("scaling_max_freq", hi),
                        ("cpuinfo_max_freq", hwmax), ("cpuinfo_min_freq", hwmin), ("scaling_governor", governor)):
        set_value(root, folder + "/" + name, value)


def _devfreq(root: str, node: str, cur: int, lo: int, hi: int, governor: str) -> None:
    for name, value in (("cur_freq", cur), ("min_freq", lo), ("max_freq", hi), ("governor", governor)):
        set_value(root, node + "/" + name, value)
    link = os.path.join(root, "sys/class/devfreq", os.path.basename(node))
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.lexists(link):
        os.symlink(os.path.relpath(os.path.join(root, node), os.path.dirname(link)), link)


def _zones(root: str, zones: List[Tuple[str, int, Optional[int]]]) -> None:
    for index, (kind, milli, trip) in enumerate(zones):
        folder = "sys/class/thermal/thermal_zone{}".format(index)
        set_value(root, folder + "/type", kind)
        set_value(root, folder + "/temp", milli)
        if trip is not None:
            set_value(root, folder + "/trip_point_0_type", "passive")
            set_value(root, folder + "/trip_point_0_temp", trip)
            set_value(root, folder + "/trip_point_1_type", "critical")
            set_value(root, folder + "/trip_point_1_temp", trip + 5000)


def _l4t(root: str, release: str, board: str, date: str) -> None:
    set_value(root, "etc/nv_tegra_release",
              "# {}, GCID: 29818004, BOARD: {}, EABI: aarch64, DATE: {}\n"
              "# KERNEL_VARIANT: oot\nTARGET_USERSPACE_LIB_DIR=nvidia\n".format(release, board, date))


def _nvpmodel(root: str, modes: List[Tuple[int, str]], mode: int) -> None:
    lines = ["< PARAM TYPE=FILE NAME=CPU_ONLINE >"]
    for ident, name in modes:
        lines += ["< POWER_MODEL ID={} NAME={} >".format(ident, name), "CPU_ONLINE CORE_0 1", ""]
    lines.append("< PM_CONFIG DEFAULT={} >".format(modes[0][0]))
    set_value(root, "etc/nvpmodel.conf", "\n".join(lines))
    set_value(root, "var/lib/nvpmodel/status", "pmode:{:04d}".format(mode))


def _emc(root: str, rate_file: str, rate: int, max_rate: int, locked: bool) -> None:
    set_value(root, rate_file, rate)
    set_value(root, "sys/kernel/debug/bpmp/debug/clk/emc/max_rate", max_rate)
    set_value(root, "sys/kernel/debug/bpmp/debug/clk/emc/mrq_rate_locked", 1 if locked else 0)


def make_tx2_board(root: str, l4t: str = "R32 (release), REVISION: 7.1", pinned: bool = True,
                   serial: str = "EMU-TX2-0000") -> str:
    """EMULATED Jetson TX2: pinned = jetson_clocks run (min = max = cur = max on CPU, GPU; EMC locked)."""
    _marker(root, "jetson-tx2")
    set_value(root, SERIAL_FILES[0], serial + "\x00")
    _l4t(root, l4t, "t186ref", "Sat Feb 19 17:05:08 UTC 2022")
    set_value(root, "proc/device-tree/model", "NVIDIA Jetson TX2\x00")
    set_value(root, "proc/device-tree/compatible", "nvidia,quill\x00nvidia,tegra186\x00")
    _nvpmodel(root, TX2_MODES, 0)
    set_value(root, CPU_DIR + "/online", "0-5")
    for cpu in range(6):
        if cpu:
            set_value(root, "{}/cpu{}/online".format(CPU_DIR, cpu), 1)
        lo, cur = (TX2_CPU_MAX_KHZ, TX2_CPU_MAX_KHZ) if pinned else (TX2_CPU_MIN_KHZ, 1267200)
        _cpufreq(root, "{}/cpu{}/cpufreq".format(CPU_DIR, cpu), cur, lo, TX2_CPU_MAX_KHZ, TX2_CPU_MAX_KHZ,
                 TX2_CPU_MIN_KHZ, "schedutil")
    lo, cur = (TX2_GPU_MAX_HZ, TX2_GPU_MAX_HZ) if pinned else (TX2_GPU_MIN_HZ, 318750000)
    _devfreq(root, TX2_GPU_DEVFREQ, cur, lo, TX2_GPU_MAX_HZ, "nvhost_podgov")
    _emc(root, "sys/kernel/debug/clk/emc/clk_rate", TX2_EMC_HZ, TX2_EMC_HZ, pinned)
    _zones(root, TX2_ZONES)
    return root


def make_orin_board(root: str, pinned: bool = True, serial: str = "EMU-ORIN-0000") -> str:
    """EMULATED Jetson AGX Orin (L4T R36.3.0): 12 CPUs in policies 0, 4, 8; GPU ga10b; EMC via bpmp."""
    _marker(root, "jetson-agx-orin")
    set_value(root, SERIAL_FILES[0], serial + "\x00")
    _l4t(root, "R36 (release), REVISION: 3.0", "generic", "Thu Jan 25 23:42:41 UTC 2024")
    set_value(root, "proc/device-tree/model", "NVIDIA Jetson AGX Orin Developer Kit\x00")
    set_value(root, "proc/device-tree/compatible", "nvidia,p3737-0000+p3701-0005\x00nvidia,tegra234\x00")
    _nvpmodel(root, ORIN_MODES, 0)
    set_value(root, CPU_DIR + "/online", "0-11")
    for first in (0, 4, 8):
        policy = "{}/cpufreq/policy{}".format(CPU_DIR, first)
        lo, cur = (ORIN_CPU_MAX_KHZ, ORIN_CPU_MAX_KHZ) if pinned else (ORIN_CPU_MIN_KHZ, 729600)
        _cpufreq(root, policy, cur, lo, ORIN_CPU_MAX_KHZ, ORIN_CPU_MAX_KHZ, ORIN_CPU_MIN_KHZ, "schedutil")
        cpus = " ".join(str(cpu) for cpu in range(first, first + 4))
        set_value(root, policy + "/affected_cpus", cpus)
        set_value(root, policy + "/related_cpus", cpus)
        for cpu in range(first, first + 4):
            link = os.path.join(root, "{}/cpu{}/cpufreq".format(CPU_DIR, cpu))
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink("../cpufreq/policy{}".format(first), link)
    lo, cur = (ORIN_GPU_MAX_HZ, ORIN_GPU_MAX_HZ) if pinned else (ORIN_GPU_MIN_HZ, 612000000)
    _devfreq(root, ORIN_GPU_DEVFREQ, cur, lo, ORIN_GPU_MAX_HZ, "nvhost_podgov")
    _emc(root, "sys/kernel/debug/bpmp/debug/clk/emc/rate", ORIN_EMC_HZ if pinned else 2133000000, ORIN_EMC_HZ,
         pinned)
    _zones(root, ORIN_ZONES)
    return root


def make_x86_board(root: str, serial: str = "EMU-X86-0000") -> str:
    """EMULATED x86 server: 2 CPUs (performance governor), throttle counters 0, one x86_pkg_temp zone."""
    _marker(root, "x86")
    set_value(root, SERIAL_FILES[1], serial)
    entries = []
    for cpu in range(2):
        entries.append("processor\t: {}\nvendor_id\t: GenuineIntel\nmodel name\t: {}\ncpu MHz\t\t: 2100.000\n"
                       .format(cpu, X86_MODEL))
        base = "{}/cpu{}".format(CPU_DIR, cpu)
        _cpufreq(root, base + "/cpufreq", 2100000, 1000000, 3700000, 3700000, 1000000, "performance")
        set_value(root, base + "/thermal_throttle/core_throttle_count", 0)
        set_value(root, base + "/thermal_throttle/package_throttle_count", 0)
        set_value(root, base + "/topology/physical_package_id", 0)
    set_value(root, "proc/cpuinfo", "\n".join(entries))
    folder = "sys/class/thermal/thermal_zone0"
    set_value(root, folder + "/type", "x86_pkg_temp")
    set_value(root, folder + "/temp", 45000)
    for trip in (0, 1):   # real x86_pkg_temp zones carry passive trips at 0 (disabled)
        set_value(root, "{}/trip_point_{}_type".format(folder, trip), "passive")
        set_value(root, "{}/trip_point_{}_temp".format(folder, trip), 0)
    return root


def throttle_tx2(root: str) -> None:
    """Play a TX2 thermal throttle: GPU cur_freq to 114750000 Hz and GPU-therm 1.5 C above its trip."""
    set_value(root, TX2_GPU_DEVFREQ + "/cur_freq", TX2_GPU_THROTTLED_HZ)
    index = [kind for kind, _, _ in TX2_ZONES].index("GPU-therm")
    trip = TX2_ZONES[index][2] or 0
    set_value(root, "sys/class/thermal/thermal_zone{}/temp".format(index), trip + 1500)


def bump_throttle_count(root: str, n: int = 1, cpu: int = 0) -> None:
    """Add ``n`` to cpu<cpu>/thermal_throttle/core_throttle_count of an emulated x86 tree."""
    rel = "{}/cpu{}/thermal_throttle/core_throttle_count".format(CPU_DIR, cpu)
    with open(os.path.join(root, rel)) as handle:
        count = int(handle.read().strip() or 0)
    set_value(root, rel, count + n)
