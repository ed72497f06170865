"""EMULATED power-sensor sysfs trees for tests and dry runs: not hardware, never a measurement.

Each ``make_*_tree(root)`` writes a fake sysfs tree under ``root`` (pass ``tree.root`` as
``discover_power_sensor(sysfs_root=...)``) with a marker file ``EMULATED_SENSORS`` at its top, so a
sensor discovered there reports ``emulated: yes`` in ``describe()``. Layouts follow the reference
notes: TX2 L4T R32 (``ina3221x/<bus-addr>/iio:device<N>``), TX2 L4T R28 (``.../iio_device``),
Orin L4T R34+ hwmon (``ina3221/<bus-addr>/hwmon/hwmon<N>``, mV x mA), and Intel RAPL powercap.

``WaveformWriter(tree, waveform, update_hz)`` rewrites the value files in place from a thread (one
``pwrite`` each, as sysfs keeps one inode per attribute: a reader holding the file open sees it) so
that the total rail (VDD_IN, or package-0 + dram for RAPL) plays ``waveform(seconds since start) ->
watts``; sub-rails get fixed smaller fractions. For RAPL it accumulates ``energy_uj`` and wraps at
``max_energy_range_uj``.
"""
# typing.List/Optional and no `X | None`: this module must import on Python 3.6 (TX2).
# ruff: noqa: UP006, UP035, UP045
import bisect
import os
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

MARKER = "EMULATED_SENSORS"  # same name as artifact.device.measure.power.EMULATED_MARKER

# label -> fraction of the total; the total rail is 1.0, sub-rails are inside it
TX2_RAILS = [("VDD_SYS_GPU", 0.30), ("VDD_SYS_SOC", 0.15), ("VDD_4V0_WIFI", 0.02),   # 0x40
             ("VDD_IN", 1.0), ("VDD_SYS_CPU", 0.20), ("VDD_SYS_DDR", 0.10)]         # 0x41
ORIN_RAILS = [("VDD_IN", 1.0), ("VDD_CPU_GPU_CV", 0.45), ("VDD_SOC", 0.20)]
# package + dram = total; core is inside the package and must not be added by the reader
RAPL_ZONES = [("intel-rapl:0", "package-0", 0.85), ("intel-rapl:0:0", "core", 0.50),
              ("intel-rapl:0:1", "dram", 0.15)]


class EmulatedTree:
    """An emulated sysfs tree: ``root`` (the sysfs_root), ``kind`` and per-rail value files.

    ``rails`` maps label -> (fraction of the total, {"mW"|"mV"|"mA"|"uJ": path}).
    """

    def __init__(self, root: str, kind: str, rails: Dict[str, Tuple[float, Dict[str, str]]],
                 volts: float = 0.0, max_energy_range_uj: int = 0) -> None:
        self.root, self.kind, self.rails = root, kind, rails
        self.volts = volts
        self.max_energy_range_uj = max_energy_range_uj

    def path(self, label: str, unit: str) -> str:
        """Value file of one rail, e.g. ``tree.path("VDD_IN", "mW")``."""
        return self.rails[label][1][unit]


def write_value(path: str, value: object) -> None:
    """Write a sysfs value file in place, as the kernel regenerates one: the same inode, so a reader that
    keeps the file open and ``pread``s it (the power sampler) sees every new value. One ``pwrite`` of the
    whole text from offset 0, padded with spaces before the newline to at least the old length, so a
    reader never sees the tail of a longer old value after a shorter new one (readers strip whitespace)."""
    data = f"{value}".encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        old = os.fstat(fd).st_size
        data += b" " * max(0, old - len(data) - 1) + b"\n"
        os.pwrite(fd, data, 0)
    finally:
        os.close(fd)


def replace_value(path: str, value: object) -> None:
    """Write a value file as some user-space writers do: a new file renamed over the old one (a new inode). A
    reader holding the old file open sees the old value for ever; the sampler must notice (inode) and reopen."""
    tmp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
    with open(tmp, "w") as handle:
        handle.write(f"{value}\n")
    os.replace(tmp, path)


def _mkdir(*parts: str) -> str:
    path = os.path.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


def _marker(root: str, kind: str) -> None:
    os.makedirs(root, exist_ok=True)
    write_value(os.path.join(root, MARKER), f"EMULATED {kind} sensor tree for tests; not hardware")


def _order(defaults: List[Tuple[str, float]], rail_order: Optional[Sequence[str]]) -> List[Tuple[str, float]]:
    if rail_order is None:
        return list(defaults)
    fractions = dict(defaults)
    if sorted(rail_order) != sorted(fractions):
        raise ValueError(f"rail_order must be a permutation of {sorted(fractions)}")
    return [(label, fractions[label]) for label in rail_order]


def _iio_tree(root: str, kind: str, folders: List[str], rail_order, watts: float, volts: float) -> EmulatedTree:
    _marker(root, kind)
    rails = {}
    for index, (label, frac) in enumerate(_order(TX2_RAILS, rail_order)):
        folder = _mkdir(root, folders[index // 3])
        chan = index % 3
        write_value(os.path.join(folder, f"rail_name_{chan}"), label)
        write_value(os.path.join(folder, f"in_voltage{chan}_input"), round(volts * 1000))
        files = {"mW": os.path.join(folder, f"in_power{chan}_input"),
                 "mA": os.path.join(folder, f"in_current{chan}_input")}
        rails[label] = (frac, files)
        write_value(os.path.join(folder, "running_mode"), 1)
    tree = EmulatedTree(root, kind, rails, volts=volts)
    _write_rails(tree, watts)
    return tree


def make_tx2_r32_tree(root: str, rail_order: Optional[Sequence[str]] = None, watts: float = 5.0) -> EmulatedTree:
    """TX2 under L4T R32: ``sys/bus/i2c/drivers/ina3221x/0-004{0,1}/iio:device{0,1}/`` (mW).

    ``rail_order`` lists the six labels in channel order (0x40 ch0-2, then 0x41 ch0-2).
    """
    base = "sys/bus/i2c/drivers/ina3221x"
    return _iio_tree(root, "tx2-r32", [base + "/0-0040/iio:device0", base + "/0-0041/iio:device1"],
                     rail_order, watts, 19.0)


def make_tx2_r28_tree(root: str, rail_order: Optional[Sequence[str]] = None, watts: float = 5.0) -> EmulatedTree:
    """TX2 under L4T R28: ``sys/devices/3160000.i2c/i2c-0/0-004{0,1}/iio_device/`` (mW)."""
    base = "sys/devices/3160000.i2c/i2c-0"
    return _iio_tree(root, "tx2-r28", [base + "/0-0040/iio_device", base + "/0-0041/iio_device"],
                     rail_order, watts, 19.0)


def make_orin_hwmon_tree(root: str, rail_order: Optional[Sequence[str]] = None, watts: float = 5.0) -> EmulatedTree:
    """Orin under L4T R34+: ``sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/``, channels 1-3, mV x mA."""
    _marker(root, "orin-hwmon")
    folder = _mkdir(root, "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3")
    for name, value in (("name", "ina3221"), ("update_interval", 7), ("samples", 1),
                        ("in7_input", 0), ("curr4_input", 0)):
        write_value(os.path.join(folder, name), value)
    rails = {}
    for chan, (label, frac) in enumerate(_order(ORIN_RAILS, rail_order), start=1):
        write_value(os.path.join(folder, f"in{chan}_label"), label)
        rails[label] = (frac, {"mV": os.path.join(folder, f"in{chan}_input"),
                               "mA": os.path.join(folder, f"curr{chan}_input")})
    tree = EmulatedTree(root, "orin-hwmon", rails, volts=5.0)
    _write_rails(tree, watts)
    return tree


def make_rapl_tree(root: str, max_energy_range_uj: int = 262143328850,
                   initial_uj: Optional[Dict[str, int]] = None) -> EmulatedTree:
    """Intel RAPL: ``sys/class/powercap/intel-rapl:0`` (package-0), ``:0:0`` (core), ``:0:1`` (dram)."""
    _marker(root, "rapl")
    write_value(os.path.join(_mkdir(root, "sys/class/powercap/intel-rapl"), "enabled"), 1)
    rails = {}
    for zone, label, frac in RAPL_ZONES:
        folder = _mkdir(root, "sys/class/powercap", zone)
        write_value(os.path.join(folder, "name"), label)
        write_value(os.path.join(folder, "max_energy_range_uj"), max_energy_range_uj)
        write_value(os.path.join(folder, "energy_uj"), (initial_uj or {}).get(label, 0))
        rails[label] = (frac, {"uJ": os.path.join(folder, "energy_uj")})
    return EmulatedTree(root, "rapl", rails, max_energy_range_uj=max_energy_range_uj)


def _write_rails(tree: EmulatedTree, watts: float, labels: Optional[Sequence[str]] = None,
                 write: Callable[[str, object], None] = write_value) -> None:
    """Write every (or the given) INA3221 rail of ``tree`` for a total of ``watts``."""
    for label in labels if labels is not None else list(tree.rails):
        frac, files = tree.rails[label]
        milliwatts = watts * frac * 1000.0
        if "mW" in files:
            write(files["mW"], round(milliwatts))
        else:
            write(files["mV"], round(tree.volts * 1000))
        write(files["mA"], round(milliwatts / tree.volts))


class WaveformWriter:
    """Thread that makes an emulated tree play ``waveform(seconds since start) -> total watts``.

    ``t_start`` is the ``time.perf_counter()`` of the first write; ``wraps`` lists the perf_counter
    times at which a RAPL counter wrapped. Sub-rails are refreshed every ``subrail_every`` updates.
    ``log`` holds (time the write was done, total watts) or, for RAPL, (time, total joules written),
    so ``energy_written()`` gives the energy the files really carried even when the writer thread
    was late (a loaded machine); ``max_gap_s`` is the longest time between two writes.
    """

    def __init__(self, tree: EmulatedTree, waveform: Callable[[float], float], update_hz: float = 1000.0,
                 subrail_every: int = 10, by_rename: bool = False) -> None:
        self.tree, self.waveform = tree, waveform
        self.write = replace_value if by_rename else write_value  # INA3221 trees: in place, or renamed over
        self.period = 1.0 / update_hz
        self.subrail_every = subrail_every
        self.t_start = 0.0
        self.updates = 0
        self.wraps: List[Tuple[str, float]] = []
        self._last = 0.0
        self._energy: Dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._total = [label for label, (frac, _) in tree.rails.items() if frac == 1.0]
        self.log: List[Tuple[float, float]] = []
        self._joules = 0.0

    def _update(self, now: float) -> None:
        tree = self.tree
        if tree.kind == "rapl":
            watts = float(self.waveform((self._last + now) / 2.0 - self.t_start))  # midpoint rule
            self._joules += watts * (now - self._last)
            for label, (frac, files) in tree.rails.items():
                energy = self._energy[label] + watts * frac * (now - self._last) * 1e6
                if energy >= tree.max_energy_range_uj:
                    energy -= tree.max_energy_range_uj
                    self.wraps.append((label, now))
                self._energy[label] = energy
                write_value(files["uJ"], int(energy))
            self.log.append((time.perf_counter(), self._joules))
        else:
            every = self.updates % self.subrail_every == 0
            watts = float(self.waveform(now - self.t_start))
            _write_rails(tree, watts, None if every else self._total, self.write)
            self.log.append((time.perf_counter(), watts))
        self._last = now
        self.updates += 1

    def _run(self) -> None:
        deadline = self.t_start
        while not self._stop.is_set():
            deadline += self.period
            delay = deadline - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -self.period:   # fell behind: restart the grid from now instead of bursting
                deadline = time.perf_counter()
            self._update(time.perf_counter())

    def start(self) -> "WaveformWriter":
        """Write the value for t=0 synchronously, then keep updating from a daemon thread."""
        if self.tree.kind == "rapl":
            for label, (_, files) in self.tree.rails.items():
                with open(files["uJ"]) as handle:
                    self._energy[label] = float(handle.read())
        self.t_start = self._last = time.perf_counter()
        self._update(self.t_start)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="emulated-waveform", daemon=True)
        self._thread.start()
        return self

    @property
    def max_gap_s(self) -> float:
        return max((b[0] - a[0] for a, b in zip(self.log, self.log[1:])), default=0.0)

    def energy_written(self, t0: float, t1: float) -> float:
        """Joules the emulated total carried over [t0, t1] (perf_counter), from the write log."""
        times = [entry[0] for entry in self.log]
        if self.tree.kind == "rapl":   # cumulative energy, linear between writes
            def cumulative(t: float) -> float:
                k = min(max(bisect.bisect_left(times, t), 1), len(times) - 1)
                (ta, ea), (tb, eb) = self.log[k - 1], self.log[k]
                return ea + (eb - ea) * (t - ta) / (tb - ta)
            return cumulative(t1) - cumulative(t0)
        total = 0.0   # INA3221: each written value holds until the next write
        for k, (t_write, watts) in enumerate(self.log):
            t_next = times[k + 1] if k + 1 < len(times) else float("inf")
            total += watts * max(0.0, min(t_next, t1) - max(t_write, t0))
        return total

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
