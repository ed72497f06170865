"""Power sensors, a background power sampler and energy accounting (device side, Python 3.6+).

Backends; every sysfs path is joined under ``sysfs_root`` so tests can use an emulated tree:
  jetson-ina3221-r32    sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device<N>/ rail_name_<K>, in_power<K>_input (mW)
  jetson-ina3221-r28    the same files under sys/devices/*/i2c-*/<bus-addr>/iio_device/
  jetson-ina3221-hwmon  sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon<N>/ in<K>_label, in<K>_input (mV)
                        x curr<K>_input (mA), channels 1-based (L4T R34+)
  rapl                  sys/class/powercap/intel-rapl:*/energy_uj of package-N + dram (core/uncore are inside
                        the package, psys overlaps); power = d(energy)/dt, wraps at max_energy_range_uj
  nvml                  NVIDIA GPUs via pynvml (nvidia-ml-py), imported lazily, fails soft
Jetson rails are resolved by LABEL, never by channel index. The total is the input rail (VDD_IN,
POM_5V_IN or 5V_IN); sub-rails are inside it and never added. Only a board without an input rail
(AGX Xavier/Orin) gets the sum of its rails, and ``describe()["total"]`` says so.

A failed read (missing file, garbage value, counter going backwards, clock not advancing) never
becomes a zero: the sampler records it in ``PowerTrace.errors`` and drops the sample. Timestamps
are ``time.perf_counter()`` seconds, the clock of the inference timer.
"""
# typing.List/Optional and no `X | None`: this module must import on Python 3.6 (TX2).
# ruff: noqa: UP006, UP035, UP045
import bisect
import contextlib
import functools
import glob
import math
import os
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple, cast

from artifact.core.errors import ConfigError  # an ArtifactError: a mistake the user can fix
from artifact.device.measure.helper_threads import place_helper_thread, thread_cpu_s

BACKENDS = ("jetson-ina3221-r32", "jetson-ina3221-r28", "jetson-ina3221-hwmon", "rapl", "nvml")
TOTAL_RAIL_LABELS = ("VDD_IN", "POM_5V_IN", "5V_IN")
EMULATED_MARKER = "EMULATED_SENSORS"   # file at the top of a tree built by artifact.device.emulation.sensors
MAX_ERRORS_KEPT = 100                  # error messages kept per trace; all are counted
STUCK_S = 1.0                          # one unchanged reading this long while a model runs: a stuck sensor
_JETSON = {  # backend -> (folder globs, release, units)
    "jetson-ina3221-r32": (["sys/bus/i2c/drivers/ina3221x/*/iio:device*"], "L4T R32 ina3221x iio:device", "mW"),
    "jetson-ina3221-r28": (["sys/devices/*/i2c-*/*/iio_device", "sys/bus/i2c/drivers/ina3221x/*/iio_device"],
                           "L4T R28 ina3221x iio_device", "mW"),
    "jetson-ina3221-hwmon": (["sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*"], "L4T R34+ hwmon ina3221", "mV x mA")}


class SensorReadError(Exception):
    """One failed sensor read: the sampler records it and drops the sample; never fatal."""


class _SysfsValue:
    """One numeric sysfs file, kept open and re-read with ``os.pread`` (a sysfs attribute is regenerated
    on every read of the same inode, so the descriptor never goes stale; the emulated trees write their
    files in place for the same reason). A failed read closes it; the next read opens it again."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: Optional[int] = None

    def fd(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as exc:
                raise SensorReadError(f"cannot read {self.path}: {exc.strerror or exc}")
        return self._fd

    def raw(self) -> bytes:
        try:
            return os.pread(self.fd(), 64, 0)
        except OSError as exc:
            self.close()
            raise SensorReadError(f"cannot read {self.path}: {exc.strerror or exc}")

    def decode(self, raw: bytes) -> float:
        text = raw.decode("ascii", "replace").strip()
        try:
            value = float(text)
        except ValueError:
            raise SensorReadError(f"garbage value {text[:32]!r} in {self.path}")
        if not math.isfinite(value):
            raise SensorReadError(f"non-finite value {text[:32]!r} in {self.path}")
        return value

    def read(self) -> float:
        return self.decode(self.raw())

    def replaced(self) -> bool:
        """Is the file open here no longer the one at its path (a writer renamed a new file over it, or removed
        it)? A descriptor kept on the old inode would read its last value for ever."""
        if self._fd is None:
            return False
        try:
            held, now = os.fstat(self._fd), os.stat(self.path)
        except OSError:
            return True
        return (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)


def _read_once(path: str) -> float:
    value = _SysfsValue(path)
    try:
        return value.read()
    finally:
        value.close()


def _pread_all(files: List[_SysfsValue]) -> Callable[[], object]:
    """The sampler's hot path for these files: a C-level callable (one file) or a tuple of preads, no parsing."""
    if len(files) == 1:
        return functools.partial(os.pread, files[0].fd(), 64, 0)
    calls = [functools.partial(os.pread, f.fd(), 64, 0) for f in files]
    return lambda: tuple(call() for call in calls)


def _raw_values(raw: object, count: int) -> Tuple[bytes, ...]:
    """What a `_pread_all` reader of `count` files returned, as one bytes per file."""
    return (cast(bytes, raw),) if count == 1 else cast(Tuple[bytes, ...], raw)


def _read_text(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""


class PowerSensor:
    """Base: ``name``, ``rails`` (labels in the total), ``read_watts()``, ``describe()``, ``sample()``.

    Subclasses implement ``_read()`` (watts now) or override ``sample()``, which returns
    (timestamp, watts) or None when the sensor has no new data yet, and raises SensorReadError.
    ``interval_average`` sensors (energy counters) report the mean power since their previous sample.
    """

    name = "abstract"
    interval_average = False
    # the physical range of a reading of this backend, in watts: outside it a reading is a read error, not a
    # sample (a Jetson module draws at most ~60 W: AGX Orin 64GB; a CPU package a few hundred; a GPU ~1 kW)
    plausible_w = (0.0, 1000.0)

    def __init__(self) -> None:
        self.rails: List[str] = []
        self.clock: Callable[[], float] = time.perf_counter
        self.emulated = False
        self.notes: Dict[str, str] = {}
        self._files: List[_SysfsValue] = []

    def _read(self) -> float:
        raise NotImplementedError

    def raw_reader(self) -> Callable[[], object]:
        """A callable the sampler calls at its rate: it only *reads* (bytes of each file, or the value), as
        cheaply as the backend allows, and raises OSError or SensorReadError; ``decode`` turns what it
        returned into watts after the window (the default reads watts directly: NVML)."""
        return self._read

    def decode(self, now: float, raw: object) -> Optional[float]:
        """Watts from one ``raw_reader()`` result read at time ``now`` (the middle of the read), or None
        when the sensor has no new data; raises SensorReadError. Called in sample order (energy counters
        difference consecutive reads)."""
        return float(raw)  # type: ignore[arg-type]

    def sample(self) -> Optional[Tuple[float, float]]:
        """(timestamp at the middle of the read, watts), or None when there is no new data yet."""
        t_a = self.clock()
        try:
            raw = self.raw_reader()()
        except OSError as exc:
            self.close()
            raise SensorReadError(f"{self.name}: read failed: {exc.strerror or exc}")
        t_b = self.clock()
        now = (t_a + t_b) / 2.0
        watts = self.decode(now, raw)
        return None if watts is None else (now, watts)

    def read_watts(self) -> float:
        """Total power now, in watts; raises SensorReadError if no valid reading comes within 0.5 s."""
        deadline = time.perf_counter() + 0.5
        got = self.sample()
        while got is None:
            if time.perf_counter() > deadline:
                raise SensorReadError(f"{self.name}: no new reading within 0.5 s")
            time.sleep(0.005)
            got = self.sample()
        return self.plausible(got[1])

    def plausible(self, watts: float) -> float:
        """`watts`, or a SensorReadError when it lies outside what this kind of sensor can physically read."""
        low, high = self.plausible_w
        if not low <= watts <= high:
            raise SensorReadError(f"{self.name}: implausible reading {watts:.6g} W (outside [{low:g}, {high:g}] W "
                                  "for this sensor): dropped")
        return watts

    def describe(self) -> Dict[str, str]:
        """Backend, rails, paths, units, release and sensor settings, all strings, for the record."""
        info = {"backend": self.name, "rails": ",".join(self.rails), "clock": "time.perf_counter",
                "emulated": "yes (test tree, not hardware)" if self.emulated else "no"}
        info.update(self.notes)
        return info

    def reset(self) -> None:
        """Forget state kept between reads (called by PowerSampler.start)."""

    def replaced_files(self) -> List[str]:
        """The value files replaced under the open descriptors (see _SysfsValue.replaced)."""
        return [f.path for f in self._files if f.replaced()]

    def reopen_replaced(self) -> List[str]:
        """Close the descriptors of replaced files (the next read opens the file now at the path); their paths."""
        replaced = self.replaced_files()
        for handle in self._files:
            if handle.path in replaced:
                handle.close()
        return replaced

    def close(self) -> None:
        for handle in self._files:
            handle.close()


class JetsonINA3221Sensor(PowerSensor):
    """INA3221 rails of a Jetson; ``channels`` maps label -> (mW file,) or (mV file, mA file).

    Total power: the module's input rail (VDD_IN on TX2/Xavier/Orin; POM_5V_IN, 5V_IN on older
    releases) where the board has one, since every other rail is inside it; otherwise the sum of
    every rail (said in the record's sensor notes, `total`)."""

    plausible_w = (0.0, 100.0)

    def __init__(self, name: str, channels: Dict[str, Tuple[str, ...]], total: List[str],
                 notes: Dict[str, str]) -> None:
        PowerSensor.__init__(self)
        self.name, self.rails, self.notes = name, list(total), dict(notes)
        self.notes["paths"] = ";".join("{}={}".format(r, ",".join(channels[r])) for r in total)
        self.notes["all_rails"] = ",".join(sorted(channels))
        self._rail_files = [[_SysfsValue(p) for p in channels[r]] for r in total]
        self._files = [f for files in self._rail_files for f in files]

    def raw_reader(self) -> Callable[[], object]:
        return _pread_all(self._files)

    def decode(self, now: float, raw: object) -> Optional[float]:
        raws = iter(_raw_values(raw, len(self._files)))
        total = 0.0
        for files in self._rail_files:
            if len(files) == 1:
                total += files[0].decode(next(raws)) / 1e3
            else:
                total += files[0].decode(next(raws)) * files[1].decode(next(raws)) / 1e6
        if total <= 0.0:
            rails = "+".join(self.rails)
            raise SensorReadError(f"{self.name} rail {rails} reads {total:.3f} W (triggered mode or powered down?)")
        return total


class RaplSensor(PowerSensor):
    """Intel RAPL counters; a sample is the energy since the previous changed read over its duration."""

    name = "rapl"
    interval_average = True

    def __init__(self, domains: List[Tuple[str, str, float]]) -> None:
        PowerSensor.__init__(self)
        self.rails = [d[0] for d in domains]
        self._files = [_SysfsValue(d[1]) for d in domains]
        self._ranges = [d[2] for d in domains]
        self._prev: Optional[Tuple[float, List[float]]] = None
        self.wraps = 0
        self.notes = {"units": "uJ counter -> W", "release": "powercap intel-rapl",
                      "paths": ";".join("{}={}".format(*d[:2]) for d in domains),
                      "max_energy_range_uj": ",".join(f"{d[2]:.0f}" for d in domains)}

    def raw_reader(self) -> Callable[[], object]:
        return _pread_all(self._files)

    def decode(self, now: float, raw: object) -> Optional[float]:
        values = [f.decode(r) for f, r in zip(self._files, _raw_values(raw, len(self._files)))]
        if self._prev is None:
            self._prev = (now, values)
            return None
        t_prev, prev = self._prev
        if now <= t_prev:
            raise SensorReadError(f"clock stalled: {now:.9f} s after {t_prev:.9f} s")
        joules, wraps = 0.0, 0
        for label, new, old, span in zip(self.rails, values, prev, self._ranges):
            delta = new - old
            if delta < 0:
                delta += span
                if delta > span / 2.0:   # a real wrap goes from near the top to near zero
                    self._prev = (now, values)
                    raise SensorReadError(f"{label} energy counter went backwards ({old:.0f} -> {new:.0f} uJ), "
                                          f"not a wrap (max_energy_range_uj={span:.0f})")
                wraps += 1
            joules += delta / 1e6
        if values == prev:
            return None
        self.wraps += wraps
        self._prev = (now, values)
        return joules / (now - t_prev)

    def reset(self) -> None:
        self._prev = None   # a new run must not difference against a read from long ago


class NvmlSensor(PowerSensor):
    plausible_w = (0.0, 2000.0)

    """Sum of nvmlDeviceGetPowerUsage (mW) over the GPUs; a 1 s average on Ampere+ (NVML docs)."""

    name = "nvml"

    def __init__(self, nvml, handles: List[object]) -> None:
        PowerSensor.__init__(self)
        self._nvml, self._handles = nvml, handles
        self.rails = [f"gpu{i}" for i in range(len(handles))]
        self.notes = {"units": "mW", "release": "NVML nvmlDeviceGetPowerUsage"}

    def _read(self) -> float:
        try:
            watts = sum(self._nvml.nvmlDeviceGetPowerUsage(h) for h in self._handles) / 1e3
        except Exception as exc:  # noqa: BLE001 - pynvml raises many NVMLError subclasses
            raise SensorReadError(f"NVML power read failed: {exc}")
        if watts < 0:
            raise SensorReadError(f"NVML returned negative power {watts:.3f} W")
        return watts


def _discover_jetson(root: str, backend: str, rails: Optional[List[str]]):
    patterns, release, units = _JETSON[backend]
    hwmon = backend.endswith("hwmon")
    found, notes, seen = {}, {"release": release, "units": units}, set()
    for folder in sorted(f for p in patterns for f in glob.glob(os.path.join(root, p))):
        if os.path.realpath(folder) in seen:
            continue
        seen.add(os.path.realpath(folder))
        for label_file in sorted(glob.glob(os.path.join(folder, "in*_label" if hwmon else "rail_name_*"))):
            label, base = _read_text(label_file), os.path.basename(label_file)
            chan = base[2:-6] if hwmon else base[10:]
            names = (f"in{chan}_input", f"curr{chan}_input") if hwmon else (f"in_power{chan}_input",)
            files = tuple(os.path.join(folder, name) for name in names)
            if label and label != "NC" and label not in found and os.path.exists(files[-1]):
                found[label] = files
        device = os.path.basename(os.path.dirname(os.path.dirname(folder)) if hwmon else os.path.dirname(folder))
        for key in ("update_interval", "samples") if hwmon else ("running_mode",):
            notes[f"{device}:{key}"] = _read_text(os.path.join(folder, key)) or "unreadable"
    where = " or ".join("/" + p for p in patterns)
    if not found:
        return None, f"no INA3221 under {where}"
    total = [label for label in TOTAL_RAIL_LABELS if label in found][:1]
    notes["total"] = f"input rail {''.join(total)} (sub-rails are inside it)"
    if rails:
        total, notes["total"] = list(rails), "requested rails " + "+".join(rails)
    elif not total:
        total, notes["total"] = sorted(found), f"sum of all rails (no input rail {'/'.join(TOTAL_RAIL_LABELS)})"
    missing = [r for r in total if r not in found]
    if missing:
        have, want = ",".join(sorted(found)), ",".join(missing)
        return None, f"INA3221 under {where} has rails {have}, not {want}"
    return JetsonINA3221Sensor(backend, found, total, notes), ""


def _discover_rapl(root: str, rails: Optional[List[str]]):
    domains = []
    for zone in sorted(glob.glob(os.path.join(root, "sys/class/powercap/intel-rapl:*"))):
        label = _read_text(os.path.join(zone, "name"))
        if not (label in rails if rails else (label.startswith("package") or label == "dram")):
            continue
        energy = os.path.join(zone, "energy_uj")
        try:
            span = _read_once(os.path.join(zone, "max_energy_range_uj"))
            _read_once(energy)
        except SensorReadError as exc:
            return None, (f"RAPL {os.path.basename(zone)} unusable ({exc}); energy_uj is root-only since "
                          f"Linux 5.10: sudo chmod a+r {energy}")
        domains.append((label, energy, span))
    if not domains:
        return None, "no package/dram zone under /sys/class/powercap/intel-rapl:*"
    return RaplSensor(domains), ""


def _discover_nvml():
    try:
        import pynvml
    except ImportError:
        return None, "NVML not available (pynvml / nvidia-ml-py not importable)"
    try:
        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        if not handles:
            return None, "NVML not available (no GPU)"
        sensor = NvmlSensor(pynvml, handles)
        sensor.read_watts()
    except Exception as exc:  # noqa: BLE001 - NVMLError, NotSupported on Jetson, driver mismatch: fail soft
        return None, f"NVML not available ({exc})"
    return sensor, ""


def discover_power_sensor(sysfs_root: str = "/", prefer: Optional[str] = None,
                          rails: Optional[List[str]] = None) -> Tuple[Optional[PowerSensor], str]:
    """First working backend, ``prefer`` tried first: (sensor, "") or (None, what was looked for).

    ``prefer``: a name from BACKENDS, or "jetson" for the three INA3221 layouts. ``rails`` replaces
    the total (e.g. ["VDD_IN", "VDD_MUX"] for TX2 module + carrier, or RAPL zone names). NVML is not
    under sysfs, so it is tried only when ``sysfs_root`` is the real "/" or when preferred.
    """
    if prefer is not None and prefer not in BACKENDS + ("jetson",):
        raise ConfigError(f"power sensor {prefer!r} is unknown: use one of {', '.join(BACKENDS)}, jetson")
    real_root = os.path.realpath(sysfs_root) == "/"
    reasons = []
    for backend in sorted(BACKENDS, key=lambda b: 0 if prefer and b.startswith(prefer) else 1):
        if backend == "nvml" and not (real_root or prefer == "nvml"):
            sensor, reason = None, f"NVML not tried (sysfs_root {sysfs_root} is not /)"
        elif backend == "nvml":
            sensor, reason = _discover_nvml()
        elif backend == "rapl":
            sensor, reason = _discover_rapl(sysfs_root, rails)
        else:
            sensor, reason = _discover_jetson(sysfs_root, backend, rails)
        if sensor is not None:
            sensor.emulated = os.path.exists(os.path.join(sysfs_root, EMULATED_MARKER))
            return sensor, ""
        reasons.append(reason)
    return None, "no power sensor: " + "; ".join(reasons)


class PowerTrace:
    """Raw samples of one sampler run and rate statistics.

    ``distinct_readings`` counts samples that differ from the previous one (fresh sensor updates);
    ``effective_update_hz`` is that per second; ``max_gap_s`` is the longest time between samples
    (energy across a gap is interpolated, so a long gap at a power step costs accuracy). With
    ``interval_average`` each sample is the mean power since the previous sample (energy counters),
    so energy is summed exactly over those intervals instead of by trapezoid.
    """

    def __init__(self, timestamps: List[float], watts: List[float], target_rate_hz: float,
                 errors: Optional[List[str]] = None, error_count: Optional[int] = None,
                 sensor: Optional[Dict[str, str]] = None, reads: int = 0, unchanged_reads: int = 0,
                 interval_average: bool = False, sampler_cpu_s: Optional[float] = None) -> None:
        self.sampler_cpu_s = sampler_cpu_s   # CPU time of the sampler thread (None where unmeasurable)
        self.timestamps, self.watts, self.target_rate_hz = list(timestamps), list(watts), float(target_rate_hz)
        self.errors, self.sensor = list(errors or []), dict(sensor or {})
        self.error_count = len(self.errors) if error_count is None else error_count
        self.reads, self.unchanged_reads, self.interval_average = reads, unchanged_reads, interval_average
        n = len(self.watts)
        self.distinct_readings = sum(1 for i in range(n) if i == 0 or self.watts[i] != self.watts[i - 1])
        span = self.timestamps[-1] - self.timestamps[0] if n >= 2 else 0.0
        self.achieved_rate_hz = (n - 1) / span if span > 0 else 0.0
        self.effective_update_hz = self.distinct_readings / span if span > 0 else 0.0
        self.max_gap_s = max((b - a for a, b in zip(self.timestamps, self.timestamps[1:])), default=0.0)
        self.sampler_cpu_fraction = sampler_cpu_s / span if sampler_cpu_s is not None and span > 0 else None
        self.replaced: List[str] = []  # value files renamed over while sampling: the trace read stale values

    def to_dict(self) -> Dict:
        """JSON-safe summary including the raw samples."""
        keys = ("sensor", "target_rate_hz", "achieved_rate_hz", "effective_update_hz", "distinct_readings",
                "max_gap_s", "reads", "unchanged_reads", "error_count", "errors", "interval_average",
                "sampler_cpu_s", "sampler_cpu_fraction", "timestamps", "watts")
        data: Dict = {"clock": "time.perf_counter", "n_samples": len(self.watts)}
        data.update((key, getattr(self, key)) for key in keys)
        return data

    @classmethod
    def from_dict(cls, data: Dict) -> "PowerTrace":
        return cls(data["timestamps"], data["watts"], data["target_rate_hz"], data.get("errors"),
                   data.get("error_count"), data.get("sensor"), data.get("reads", 0),
                   data.get("unchanged_reads", 0), data.get("interval_average", False), data.get("sampler_cpu_s"))


class PowerSampler:
    """Polls a sensor at ``rate_hz`` in a daemon thread; ``stop()`` returns the PowerTrace.

    Also ``with PowerSampler(sensor) as s: ...`` (then ``s.trace``). The thread only reads: per tick it
    takes two clock readings around the sensor's ``raw_reader()`` (an ``os.pread`` of each value file,
    kept open) and appends them; decoding, plausibility and the error list are worked out in ``stop()``,
    after the window, so the time the sampler takes from the inference it measures is the read and the
    wake-up alone (benchmarks/measurement.py measures both). ``idle_priority``: the thread runs as
    SCHED_IDLE, only on a core nothing else wants, so it cannot delay the inference it measures (the
    meter's default: profile setting ``sampler_idle_priority``); otherwise at normal priority, pinned to
    a spare CPU where there is one (``helper_threads.place_helper_thread``; ``sampler_thread`` in the
    trace's sensor notes says which). Threads share the GIL, so a busy Python main thread lowers the
    achieved rate; the trace reports what was achieved.
    """

    def __init__(self, sensor: PowerSensor, rate_hz: float = 1000.0, idle_priority: bool = False) -> None:
        if not (isinstance(rate_hz, (int, float)) and 0 < rate_hz <= 100000):
            raise ConfigError(f"power sampler rate_hz={rate_hz!r} is invalid: use a number in (0, 100000], "
                              "e.g. 1000")
        self.sensor, self.rate_hz, self.idle_priority = sensor, float(rate_hz), idle_priority
        self.trace: Optional[PowerTrace] = None
        self._thread: Optional[threading.Thread] = None
        self._times: List[float] = []     # t_a + t_b of each read (halved in stop())
        self._raws: List[object] = []     # what raw_reader returned, or the read's exception
        self._stopping = threading.Event()
        self._cpu_s: Optional[float] = None
        self._placement = ""

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("PowerSampler.start() called twice")
        self._times, self._raws = [], []
        self._stopping.clear()
        self.sensor.reset()
        self.sensor.reopen_replaced()  # a file renamed over since the last run: read the new one
        self._thread = threading.Thread(target=self._run, name="power-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._placement = place_helper_thread(self.idle_priority)
        cpu_start = thread_cpu_s()
        try:
            self._poll()
        finally:
            end = thread_cpu_s()
            self._cpu_s = end - cpu_start if end is not None and cpu_start is not None else None

    def _poll(self) -> None:
        clock, sleep, stopping = self.sensor.clock, time.sleep, self._stopping.is_set
        times, raws = self._times, self._raws
        add_time, add_raw = times.append, raws.append
        period, deadline = 1.0 / self.rate_hz, clock()
        read = None
        while not stopping():
            t_a = clock()
            try:
                if read is None:
                    read = self.sensor.raw_reader()
                raw = read()
            except Exception as exc:  # noqa: BLE001 - OSError, SensorReadError, a sensor bug: kept, never fatal
                self.sensor.close()
                read, raw = None, exc
            add_time(t_a + clock())
            add_raw(raw)
            deadline += period
            delay = deadline - clock()
            if delay > 0:
                sleep(delay)
            elif delay < -period:   # fell behind: restart the grid from now instead of bursting
                deadline = clock()

    def _decode(self) -> Tuple[List[float], List[float], List[str], int, int]:
        """(timestamps, watts, first errors, error count, unchanged reads) from the raw reads, in order."""
        ts: List[float] = []
        watts: List[float] = []
        errors: List[str] = []
        count = unchanged = 0
        for stamp, raw in zip(self._times, self._raws):
            now = stamp / 2.0
            try:
                if isinstance(raw, Exception):
                    raise raw
                got = self.sensor.decode(now, raw)
                if got is not None:
                    self.sensor.plausible(got)  # an impossible number is a read error, never a sample
            except SensorReadError as exc:
                message = str(exc)
            except OSError as exc:
                message = f"{self.sensor.name}: read failed: {exc.strerror or exc}"
            except Exception as exc:  # noqa: BLE001 - a sensor bug must not kill the measurement run
                message = f"unexpected {type(exc).__name__}: {exc}"
            else:
                if got is None:
                    unchanged += 1
                    continue
                if ts and now <= ts[-1]:
                    message = f"clock stalled: sample at {now:.9f} s not after {ts[-1]:.9f} s"
                else:
                    ts.append(now)
                    watts.append(got)
                    continue
            count += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(message)
        return ts, watts, errors, count, unchanged

    def stop(self) -> PowerTrace:
        if self._thread is None:
            raise RuntimeError("PowerSampler.stop() called before start()")
        self._stopping.set()
        self._thread.join()
        self._thread = None
        replaced = self.sensor.replaced_files()  # renamed over while sampling: what followed was a stale value
        self.sensor.reset()   # decoding replays the reads from the sensor's first state
        ts, watts, errors, count, unchanged = self._decode()
        if count > len(errors):
            errors.append(f"... {count - len(errors)} more read errors not listed")
        info = dict(self.sensor.describe(), sampler_thread=self._placement)
        self.trace = PowerTrace(ts, watts, self.rate_hz, errors, count, info, len(self._raws), unchanged,
                                self.sensor.interval_average, self._cpu_s)
        self.trace.replaced = replaced
        return self.trace

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _pieces(trace: PowerTrace, t0: float, t1: float) -> List[Tuple[float, float, float, float]]:
    """Linear pieces (x0, x1, p0, p1) of the power curve over [t0, t1]; ValueError if not covered."""
    ts, ws = trace.timestamps, trace.watts
    if not t1 > t0:
        raise ValueError(f"power window [{t0!r}, {t1!r}] s is empty or reversed")
    if len(ts) < 2:
        why = f"; {trace.error_count} read errors, first: {trace.errors[0]}" if trace.errors else ""
        raise ValueError(f"power trace has no usable samples ({len(ts)}), cannot cover [{t0:.6f}, {t1:.6f}] s{why}")
    if t0 < ts[0] or t1 > ts[-1]:
        raise ValueError(f"power trace covers [{ts[0]:.6f}, {ts[-1]:.6f}] s but the window is "
                         f"[{t0:.6f}, {t1:.6f}] s: start the sampler before the window and stop it after")
    i, j = bisect.bisect_right(ts, t0), bisect.bisect_left(ts, t1)
    if trace.interval_average:   # sample k is the mean power over (ts[k-1], ts[k]]
        return [(max(ts[k - 1], t0), min(ts[k], t1), ws[k], ws[k]) for k in range(i, j + 1)]

    def at(t: float) -> float:   # linear interpolation between the samples around t
        k = bisect.bisect_left(ts, t)
        return ws[k] if ts[k] == t else ws[k - 1] + (t - ts[k - 1]) * (ws[k] - ws[k - 1]) / (ts[k] - ts[k - 1])

    xs, ys = [t0] + ts[i:j] + [t1], [at(t0)] + ws[i:j] + [at(t1)]
    return [(xs[k], xs[k + 1], ys[k], ys[k + 1]) for k in range(len(xs) - 1)]


def energy_joules(trace: PowerTrace, t0: float, t1: float, idle_watts: float = 0.0) -> float:
    """Integral of (P - idle_watts) over [t0, t1] on the real timestamps (trapezoid, interpolated ends).

    Raises ValueError if the trace does not cover the window or has no samples.
    """
    total = sum((x1 - x0) * (p0 + p1) / 2.0 for x0, x1, p0, p1 in _pieces(trace, t0, t1))
    return total - idle_watts * (t1 - t0)


def mean_power(trace: PowerTrace, t0: float, t1: float) -> float:
    """Time-weighted mean power over [t0, t1], in watts."""
    return energy_joules(trace, t0, t1) / (t1 - t0)


def peak_power(trace: PowerTrace, t0: float, t1: float) -> float:
    """Largest power on [t0, t1] (samples and interpolated ends), in watts."""
    return max(max(piece[2:]) for piece in _pieces(trace, t0, t1))


def idle_power(sensor: PowerSensor, seconds: float = 1.0, rate_hz: float = 1000.0) -> Tuple[float, PowerTrace]:
    """Mean power with the sampler running and nothing else, and its trace (ValueError if no samples)."""
    if not (isinstance(seconds, (int, float)) and seconds > 0):
        raise ConfigError(f"idle power duration {seconds!r} s is invalid: use a positive number of seconds")
    sampler = PowerSampler(sensor, rate_hz)
    sampler.start()
    time.sleep(seconds)
    trace = sampler.stop()
    if len(trace.timestamps) < 2:
        _pieces(trace, 0.0, 1.0)  # raises ValueError naming the read errors
    return mean_power(trace, trace.timestamps[0], trace.timestamps[-1]), trace


def stuck_reading(trace: PowerTrace, t0: float, t1: float, min_s: float = STUCK_S) -> Optional[Tuple[float, float]]:
    """(reading, seconds) of the longest run of one unchanged value inside [t0, t1] if it lasts `min_s` or more.

    A rail under load moves with every conversion (a TX2's INA3221 every few ms, or every averaging
    period): a value that holds for a second while a model runs is a frozen driver or a rail that does not
    carry the load. Energy-counter sensors (RAPL) never repeat a value: they report only changes."""
    best, start = None, None
    for i, (t, w) in enumerate(zip(trace.timestamps, trace.watts)):
        if not t0 <= t <= t1:
            start = None
            continue
        if start is None or w != trace.watts[start]:
            start = i
        length = t - trace.timestamps[start]
        if length >= min_s and (best is None or length > best[1]):
            best = (w, length)
    return best


def _declared_period_s(trace: PowerTrace) -> float:
    """The longest update interval the sensor declares (hwmon ``update_interval``, ms), in seconds; 0 if none."""
    declared = []
    for key, value in trace.sensor.items():
        if key.endswith(":update_interval"):
            try:
                declared.append(float(value) / 1e3)
            except ValueError:
                continue
    return max([0.0] + [d for d in declared if math.isfinite(d) and d > 0])


def update_period_s(trace: PowerTrace) -> float:
    """How long the sensor may hold one value while the power moves: its declared update interval (hwmon
    ``update_interval``, ms) where it says one, never less than STUCK_S (an INA3221 averaging many samples)."""
    return max(STUCK_S, _declared_period_s(trace))


RESOLVE_PERIODS = 2.0   # a cell must last this many of the sensor's measured update periods to be resolved
RESOLVE_READINGS = 3    # and hold this many distinct readings (fresh updates; the samples around it included)


def measured_update_period_s(trace: PowerTrace) -> float:
    """How often the sensor's reading really changed over the whole trace: its span over the number of changes
    (infinite when it never changed), never less than a declared hwmon ``update_interval``. A 1 Hz sensor read at
    500 Hz has a period of about 1 s however fast it is sampled (``effective_update_hz`` counts the first reading
    as a change, so it reads a short trace's rate high)."""
    ts = trace.timestamps
    changes = trace.distinct_readings - 1
    span = ts[-1] - ts[0] if len(ts) >= 2 else 0.0
    measured = span / changes if changes > 0 and span > 0 else float("inf")
    return max(measured, _declared_period_s(trace))


def unjudgeable(trace: PowerTrace, t0: float, t1: float) -> Optional[str]:
    """Why the trace cannot give this cell's power, whatever the cell's length, or None.

    A value file renamed over while sampling was read stale. Over [t0, t1] (the cell's timing windows) a
    reading that never changes is no measurement: when [t0, t1] is shorter than the sensor's update period
    it is not resolvable (the sensor had no time to show the model), when longer the sensor is stuck; and
    within a longer cell one value held for the update period or more is stuck too (`stuck_reading`). A cell
    shorter than RESOLVE_PERIODS of the sensor's measured update period (`measured_update_period_s`), or with
    fewer than RESOLVE_READINGS distinct readings (those around it included), is not resolvable either: a 1 Hz
    sensor shows a 0.3 s cell as one or two values, whatever they are. Energy counters (``interval_average``)
    report changes only, so they are judged by the other checks."""
    if trace.replaced:
        return ("power sensor file replaced while sampling ({}): the readings after it were the old file's stale "
                "value".format(", ".join(trace.replaced[:2])))
    if trace.interval_average or t1 <= t0:
        return None
    period = update_period_s(trace)
    ts, ws = trace.timestamps, trace.watts
    i, j = max(0, bisect.bisect_left(ts, t0) - 1), min(len(ts), bisect.bisect_right(ts, t1) + 1)
    inside = ws[i:j]
    if inside and len(set(inside)) == 1:
        if t1 - t0 < period:
            return ("power not resolvable: the reading held at {:.3f} W over the cell's {:.0f} ms, shorter than "
                    "the sensor's update period ({:.1f} s): one constant reading is not a measurement of this "
                    "model".format(inside[0], (t1 - t0) * 1e3, period))
        return ("power sensor stuck: the same reading ({:.3f} W) for the cell's {:.1f} s while the model ran (a "
                "frozen driver, or a rail that does not carry the load)".format(inside[0], t1 - t0))
    stuck = stuck_reading(trace, t0, t1, period)
    if stuck is not None:
        return ("power sensor stuck: the same reading ({:.3f} W) for {:.1f} s while the model ran (a frozen "
                "driver, or a rail that does not carry the load)".format(*stuck))
    # readings as the trace counts them: each sample that differs from the one before (a fresh update)
    distinct = sum(1 for k, w in enumerate(inside) if k == 0 or w != inside[k - 1])
    measured = measured_update_period_s(trace)
    if distinct < RESOLVE_READINGS or t1 - t0 < RESOLVE_PERIODS * measured:
        return ("power not resolvable: {} distinct reading(s) over the cell's {:.0f} ms, the sensor updating about "
                "every {:.0f} ms (a cell needs {} readings and {:g} update periods): the readings are not a "
                "measurement of this model".format(distinct, (t1 - t0) * 1e3, measured * 1e3, RESOLVE_READINGS,
                                                   RESOLVE_PERIODS))
    return None


def trace_flags(trace: PowerTrace, windows: List[Tuple[float, float]]) -> List[str]:
    """Quality problems of a trace for the given inference windows: shown next to the numbers, not fatal."""
    flags = []
    if trace.sensor.get("emulated", "no") != "no":
        flags.append("EMULATED power sensor tree (a test waveform, not hardware)")
    if trace.error_count:
        first = trace.errors[0] if trace.errors else "?"
        flags.append(f"{trace.error_count} power-sensor read errors during the run, samples dropped (first: {first})")
    if trace.achieved_rate_hz < 0.5 * trace.target_rate_hz:
        flags.append(f"sampler achieved {trace.achieved_rate_hz:.0f} samples/s of the {trace.target_rate_hz:.0f} "
                     "targeted (a busy CPU or slow sensor reads)")
    durations = sorted(b - a for a, b in windows)
    if durations:
        window_s = durations[len(durations) // 2]
        per_window = trace.effective_update_hz * window_s
        if per_window < 2.0:
            flags.append(f"the sensor changed value {trace.effective_update_hz:.1f} times/s: about {per_window:.1f} "
                         f"distinct readings per {window_s * 1e3:.0f} ms window, so power within a window is "
                         "interpolated between readings (INA3221 averaging or update interval)")
        if trace.max_gap_s > window_s:
            flags.append(f"longest gap between power samples ({trace.max_gap_s * 1e3:.0f} ms) exceeds a window "
                         f"({window_s * 1e3:.0f} ms)")
    return flags
