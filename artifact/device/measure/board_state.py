"""Board state and throttling: read them, never assume (device side, Python 3.6+).

``read_board_state(root)`` returns a flat dict of strings for every record's ``environment``;
``BoardMonitor`` samples clocks and temperatures from a daemon thread during a run and says whether
the board throttled. Every path is joined under ``root`` (an emulated tree in tests, see
``artifact.device.emulation.board``); external commands run only when ``run_commands`` (default: ``root`` is "/").
A value that cannot be read becomes "unreadable (<path or command>: <why>)"; nothing raises.
Paths in messages are shown as on the board ("/sys/..."), whatever the root.

Sources (relative to ``root``):
  Jetson if           etc/nv_tegra_release exists, or proc/device-tree/compatible has "nvidia,tegra"
  l4t_release         first line of etc/nv_tegra_release, "# R32 (release), REVISION: 7.1, GCID: ...":
                      l4t_release "R32 (release), REVISION: 7.1", l4t_version "32.7.1",
                      l4t_release_line the whole line
  jetson_model        proc/device-tree/model (NULs stripped)
  nvpmodel            `nvpmodel -q` (run_commands), else var/lib/nvpmodel/status "pmode:0003"; the name
                      from etc/nvpmodel.conf "< POWER_MODEL ID=3 NAME=MAXP_CORE_ARM >": "3 (MAXP_CORE_ARM)";
                      nvpmodel_source says which
  cpu_*               sys/devices/system/cpu/cpufreq/policy<N>/ when any exist (online: affected_cpus not
                      empty), else sys/devices/system/cpu/cpu<N>/cpufreq/ (online: cpu<N>/online != 0);
                      scaling_cur_freq, scaling_min_freq, scaling_max_freq, cpuinfo_max_freq, scaling_governor
  gpu_*               the devfreq node whose name has gp10b (TX2), gv11b (Xavier), ga10b (Orin) or gpu, under
                      sys/devices/gpu.0/devfreq, sys/devices/platform/[*/]*/devfreq, sys/devices/*/devfreq,
                      sys/class/devfreq: cur_freq, min_freq, max_freq (Hz)
  emc_freq_hz         debugfs, root only: sys/kernel/debug/bpmp/debug/clk/emc/rate, then
                      sys/kernel/debug/clk/emc/clk_rate, sys/kernel/debug/clock/emc/rate
  jetson_clocks       inferred: "pinned (min = max on CPU, GPU, EMC)" when every online CPU policy has
                      scaling_min == scaling_max == cpuinfo_max, GPU devfreq min == max and the EMC rate is
                      locked (bpmp .../emc/mrq_rate_locked 1) at bpmp .../emc/max_rate; EMC unreadable (no
                      root) gives "pinned (min = max on CPU, GPU; EMC not checked: ...)"; min == max below
                      cpuinfo_max (an nvpmodel cap) gives "pinned below the hardware maximum (...)";
                      otherwise "not pinned (<what differs>)" or "unknown (<what could not be read>)"
  temp_<zone type>    sys/class/thermal/thermal_zone<N>/temp (milli-C) as "45.5" (C); trip_<zone type> the
                      lowest passive/hot trip_point_<K>_temp above 0 C, as "96.0 (passive)"
  cpu_throttle_count  x86: sum of sys/devices/system/cpu/cpu<N>/thermal_throttle/core_throttle_count over
                      CPUs plus package_throttle_count once per topology/physical_package_id
  gpu, gpu_driver     x86, run_commands only: `nvidia-smi --query-gpu=name,driver_version --format=csv,noheader`
"""
# typing.Dict/List/Optional and no `X | None`: this module must import on Python 3.6 (TX2).
# ruff: noqa: UP006, UP035, UP045
import glob
import os
import platform
import re
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from artifact.device.measure.helper_threads import place_helper_thread, thread_cpu_s

EMULATED_MARKER = "EMULATED_SENSORS"   # as measure.power and emulation.sensors
CPU_DIR = "sys/devices/system/cpu"
THERMAL_DIR = "sys/class/thermal"
GPU_DEVFREQ_GLOBS = ("sys/devices/gpu.0/devfreq/*", "sys/devices/platform/*/devfreq/*",
                     "sys/devices/platform/*/*/devfreq/*", "sys/devices/*/devfreq/*", "sys/class/devfreq/*")
GPU_NAMES = ("gp10b", "gv11b", "ga10b", "gpu")
EMC_RATE_FILES = ("sys/kernel/debug/bpmp/debug/clk/emc/rate", "sys/kernel/debug/clk/emc/clk_rate",
                  "sys/kernel/debug/clock/emc/rate")
EMC_BPMP = "sys/kernel/debug/bpmp/debug/clk/emc"
PINNED_TOLERANCE = 0.02      # a pinned clock read more than 2% below its pinned value counts as a drop
COMMAND_TIMEOUT_S = 10.0
MAX_ERRORS_KEPT = 20
_L4T = re.compile(r"R(\d+)\s*\(release\),\s*REVISION:\s*([0-9][0-9.]*)")
_POWER_MODEL = re.compile(r"<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=([^\s>]+)")


def _unreadable(what: str) -> str:
    return "unreadable ({})".format(what)


def _number(path: str) -> int:
    digits = re.findall(r"\d+", os.path.basename(path))
    return int(digits[-1]) if digits else -1


class _Tree:
    """Reads files under ``root``; errors come back as "unreadable (/board/path: why)" strings."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def show(self, path: str) -> str:
        """``path`` as it is on the board: "/sys/..." whatever the root."""
        rel = os.path.relpath(path, self.root)
        return path if rel.startswith("..") else "/" + rel.replace(os.sep, "/")

    def glob(self, pattern: str) -> List[str]:
        return sorted(glob.glob(self.path(pattern)), key=lambda p: (os.path.dirname(p), _number(p), p))

    def read(self, path: str, limit: int = 65536) -> Tuple[Optional[str], str]:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(limit)
        except OSError as exc:
            return None, _unreadable("{}: {}".format(self.show(path), exc.strerror or type(exc).__name__))
        except Exception as exc:  # noqa: BLE001 - never let a read crash the caller
            return None, _unreadable("{}: {}".format(self.show(path), exc))
        return raw.decode("utf-8", "replace").replace("\x00", " ").strip(), ""

    def read_int(self, path: str) -> Tuple[Optional[int], str]:
        text, err = self.read(path, 128)
        if text is None:
            return None, err
        try:
            return int(text.split()[0]), ""
        except (ValueError, IndexError):
            try:
                return int(float(text.split()[0])), ""
            except (ValueError, IndexError, OverflowError):
                return None, _unreadable("{}: garbage {!r}".format(self.show(path), text[:32]))


def _command(args: List[str], shown: str) -> Tuple[Optional[str], str]:
    """(stdout, "") or (None, "unreadable (<shown>: why)")."""
    try:
        # Python 3.6: no capture_output= / text= (added in 3.7)
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # noqa: UP022
                              universal_newlines=True, timeout=COMMAND_TIMEOUT_S, check=False)  # noqa: UP021
    except FileNotFoundError:
        return None, _unreadable("{}: command not found".format(shown))
    except subprocess.TimeoutExpired:
        return None, _unreadable("{}: no answer within {:.0f} s".format(shown, COMMAND_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001
        return None, _unreadable("{}: {}".format(shown, exc))
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or [""]
        return None, _unreadable("{}: exit {} {}".format(shown, proc.returncode, last[0][:120]).strip())
    return proc.stdout, ""


def _is_emulated(tree: _Tree) -> str:
    text, _ = tree.read(tree.path(EMULATED_MARKER), 512)
    return "no" if text is None else "yes ({})".format(text or "emulated tree, not hardware")


def _is_jetson(tree: _Tree) -> bool:
    if os.path.lexists(tree.path("etc/nv_tegra_release")):
        return True
    text, _ = tree.read(tree.path("proc/device-tree/compatible"), 4096)
    return text is not None and "nvidia,tegra" in text


# ---------------------------------------------------------------- CPU, GPU, EMC, thermal readers

def _cpu_policies(tree: _Tree) -> Tuple[List[Tuple[str, str]], str]:
    """[(label, cpufreq folder)] of the online CPU policies, and why there are none ("" if some)."""
    found, offline = [], []
    policies = tree.glob(CPU_DIR + "/cpufreq/policy[0-9]*")
    if policies:
        for folder in policies:
            affected, _ = tree.read(os.path.join(folder, "affected_cpus"), 1024)
            if affected is not None and not affected.split():
                offline.append(os.path.basename(folder))
            else:
                found.append((os.path.basename(folder), folder))
    else:
        for cpu in tree.glob(CPU_DIR + "/cpu[0-9]*"):
            online, _ = tree.read(os.path.join(cpu, "online"), 16)
            if online == "0":
                offline.append(os.path.basename(cpu))
            elif os.path.isdir(os.path.join(cpu, "cpufreq")):
                found.append((os.path.basename(cpu), os.path.join(cpu, "cpufreq")))
    if found:
        return found, ""
    where = tree.show(tree.path(CPU_DIR))
    if offline:
        return found, _unreadable("every cpufreq policy under {} is offline".format(where))
    return found, _unreadable("no cpufreq policy under {}/cpufreq or {}/cpu*/cpufreq".format(where, where))


def _read_policy(tree: _Tree, label: str, folder: str) -> Dict[str, Any]:
    info = {"label": label, "folder": folder}   # type: Dict[str, Any]
    for key, name in (("cur", "scaling_cur_freq"), ("min", "scaling_min_freq"), ("max", "scaling_max_freq"),
                      ("hwmax", "cpuinfo_max_freq")):
        info[key], info[key + "_err"] = tree.read_int(os.path.join(folder, name))
    governor, err = tree.read(os.path.join(folder, "scaling_governor"), 128)
    info["governor"] = governor if governor else (err or _unreadable(tree.show(folder) + "/scaling_governor: empty"))
    return info


def _gpu_devfreq(tree: _Tree) -> Optional[str]:
    """The GPU devfreq node (first match with a cur_freq file, symlinks followed once), or None."""
    seen = set()
    for pattern in GPU_DEVFREQ_GLOBS:
        for node in tree.glob(pattern):
            name = os.path.basename(node).lower()
            real = os.path.realpath(node)
            if real in seen or not any(key in name for key in GPU_NAMES):
                continue
            seen.add(real)
            if os.path.lexists(os.path.join(node, "cur_freq")):
                return node
    return None


def _emc(tree: _Tree) -> Tuple[str, Optional[bool], str]:
    """(emc_freq_hz value, EMC pinned True/False/None=unknown, what differs or why unknown)."""
    rate, errors = None, []
    for rel in EMC_RATE_FILES:
        rate, err = tree.read_int(tree.path(rel))
        if rate is not None:
            break
        errors.append(tree.show(tree.path(rel)))
    if rate is None:
        text = _unreadable("needs root for debugfs: " + ", ".join(errors))
        return text, None, "EMC rate " + text
    max_rate, err_max = tree.read_int(tree.path(EMC_BPMP + "/max_rate"))
    locked, err_lock = tree.read_int(tree.path(EMC_BPMP + "/mrq_rate_locked"))
    if max_rate is None or locked is None:
        return str(rate), None, "EMC max/lock " + (err_max or err_lock)
    if locked == 1 and rate == max_rate:
        return str(rate), True, ""
    why = "EMC rate {} Hz, max_rate {} Hz, mrq_rate_locked {}".format(rate, max_rate, locked)
    return str(rate), False, why


def _lowest_trip(tree: _Tree, zone: str) -> Optional[Tuple[float, str]]:
    """(C, type) of the lowest passive/hot trip point above 0 C (x86 zones carry 0 = disabled)."""
    best = None
    for type_file in glob.glob(os.path.join(zone, "trip_point_*_type")):
        kind, _ = tree.read(type_file, 64)
        if kind not in ("passive", "hot"):
            continue
        milli, _ = tree.read_int(type_file[:-len("type")] + "temp")
        if milli is not None and milli > 0 and (best is None or milli / 1000.0 < best[0]):
            best = (milli / 1000.0, kind)
    return best


def _thermal_zones(tree: _Tree) -> List[Dict[str, Any]]:
    """[{name (zone type, made unique), temp (path), trip (C, type) or None}] in zone order."""
    zones, seen = [], set()
    for folder in tree.glob(THERMAL_DIR + "/thermal_zone[0-9]*"):
        kind, _ = tree.read(os.path.join(folder, "type"), 256)
        name = re.sub(r"\s+", "_", kind) if kind else os.path.basename(folder)
        if name in seen:
            name = "{}_{}".format(name, os.path.basename(folder))
        seen.add(name)
        try:
            trip = _lowest_trip(tree, folder)
        except Exception:  # noqa: BLE001
            trip = None
        zones.append({"name": name, "temp": os.path.join(folder, "temp"), "trip": trip})
    return zones


def _read_temp(tree: _Tree, path: str) -> Tuple[Optional[float], str]:
    milli, err = tree.read_int(path)
    return (None, err) if milli is None else (milli / 1000.0, "")


def _throttle_total(tree: _Tree) -> Tuple[Optional[int], str, bool]:
    """(count, error, present): core_throttle_count over CPUs + package_throttle_count per package."""
    folders = tree.glob(CPU_DIR + "/cpu[0-9]*/thermal_throttle")
    if not folders:
        return None, "", False
    total, read_any, packages, errors = 0, False, set(), []
    for folder in folders:
        core, err = tree.read_int(os.path.join(folder, "core_throttle_count"))
        if core is None:
            errors.append(err)
        else:
            total, read_any = total + core, True
        package_file = os.path.join(folder, "package_throttle_count")
        if not os.path.lexists(package_file):
            continue
        package_id, _ = tree.read_int(os.path.join(os.path.dirname(folder), "topology", "physical_package_id"))
        key = folder if package_id is None else package_id
        if key in packages:
            continue
        packages.add(key)
        count, err = tree.read_int(package_file)
        if count is None:
            errors.append(err)
        else:
            total, read_any = total + count, True
    if not read_any:
        return None, errors[0] if errors else _unreadable(tree.show(folders[0])), True
    return total, "", True


# ---------------------------------------------------------------- read_board_state

def _per_label(items: List[Tuple[str, str]]) -> str:
    return ",".join("{}={}".format(label, value) for label, value in items)


def _governor(policies: List[Dict[str, Any]]) -> str:
    values = [str(p["governor"]) for p in policies]
    if len(set(values)) == 1:
        return values[0]
    return _per_label([(str(p["label"]), str(p["governor"])) for p in policies])


def _value(number: Optional[int], err: str) -> str:
    return str(number) if number is not None else err


def _shorten(parts: List[str], keep: int = 4) -> str:
    return "; ".join(parts[:keep] + (["and {} more".format(len(parts) - keep)] if len(parts) > keep else []))


def _jetson_clocks(policies: List[Dict[str, Any]], cpu_err: str, gpu: Optional[Dict[str, Any]],
                   emc_pinned: Optional[bool], emc_why: str) -> str:
    differs, unknown, capped = [], [], []   # type: List[str], List[str], List[str]
    cpu_differs, cpu_capped = {}, {}         # type: Dict[str, List[str]], Dict[str, List[str]]
    if not policies:
        unknown.append(cpu_err)
    for pol in policies:
        lo, hi, hw = pol["min"], pol["max"], pol["hwmax"]
        if lo is None or hi is None or hw is None:
            unknown.append(str(pol["min_err"] or pol["max_err"] or pol["hwmax_err"]))
        elif lo != hi:
            text = "scaling_min_freq {} != scaling_max_freq {} kHz".format(lo, hi)
            cpu_differs.setdefault(text, []).append(str(pol["label"]))
        elif hi != hw:
            text = "min = max = {} < cpuinfo_max_freq {} kHz".format(hi, hw)
            cpu_capped.setdefault(text, []).append(str(pol["label"]))
    differs += ["{} {}".format(",".join(labels), text) for text, labels in cpu_differs.items()]
    capped += ["{} {}".format(",".join(labels), text) for text, labels in cpu_capped.items()]
    if gpu is None:
        unknown.append("no GPU devfreq node")
    elif gpu["min"] is None or gpu["max"] is None:
        unknown.append(str(gpu["min_err"] or gpu["max_err"]))
    elif gpu["min"] != gpu["max"]:
        differs.append("GPU min_freq {} != max_freq {} Hz".format(gpu["min"], gpu["max"]))
    if emc_pinned is False:
        differs.append(emc_why)
    if differs:
        return "not pinned ({})".format(_shorten(differs + capped + unknown))
    if unknown:
        return "unknown ({})".format(_shorten(unknown))
    if capped:
        return "pinned below the hardware maximum ({})".format(_shorten(capped))
    if emc_pinned:
        return "pinned (min = max on CPU, GPU, EMC)"
    return "pinned (min = max on CPU, GPU; EMC not checked: {})".format(emc_why)


def _l4t(tree: _Tree, state: Dict[str, Optional[str]]) -> None:
    text, err = tree.read(tree.path("etc/nv_tegra_release"))
    if text is None:
        state["l4t_release"] = state["l4t_version"] = err
        return
    line = text.splitlines()[0].lstrip("#").strip() if text else ""
    state["l4t_release_line"] = line
    match = _L4T.search(line)
    if match is None:
        state["l4t_release"] = line or _unreadable(tree.show(tree.path("etc/nv_tegra_release")) + ": empty")
        state["l4t_version"] = _unreadable("no 'R<major> (release), REVISION: <x.y>' in {!r}".format(line[:80]))
        return
    state["l4t_release"] = match.group(0).strip()
    state["l4t_version"] = "{}.{}".format(match.group(1), match.group(2).rstrip("."))


def _nvpmodel_names(tree: _Tree) -> Tuple[Dict[int, str], str]:
    text, err = tree.read(tree.path("etc/nvpmodel.conf"), 1 << 20)
    if text is None:
        return {}, err
    return {int(m.group(1)): m.group(2) for m in _POWER_MODEL.finditer(text)}, ""


def _nvpmodel(tree: _Tree, run_commands: bool) -> Tuple[str, str]:
    """(nvpmodel value "0 (MAXN)", source)."""
    names, names_err = _nvpmodel_names(tree)
    conf = tree.show(tree.path("etc/nvpmodel.conf"))

    def label(mode: int, name: Optional[str] = None) -> str:
        name = name or names.get(mode)
        if name:
            return "{} ({})".format(mode, name)
        return "{} (name unknown: {})".format(mode, names_err or "no ID={} in {}".format(mode, conf))

    failures = []
    if run_commands:
        out, err = _command(["nvpmodel", "-q"], "nvpmodel -q")
        if out is not None:
            name_match = re.search(r"NV Power Mode:\s*(\S+)", out)
            ids = [line.strip() for line in out.splitlines() if line.strip().isdigit()]
            name = name_match.group(1) if name_match else None
            if ids:
                return label(int(ids[-1]), name), "nvpmodel -q"
            if name:
                by_name = [mode for mode, known in names.items() if known == name]
                return (label(by_name[0], name) if by_name else "? ({})".format(name)), "nvpmodel -q"
            failures.append(_unreadable("nvpmodel -q: no mode in its output"))
        else:
            failures.append(err)
    status = tree.path("var/lib/nvpmodel/status")
    text, err = tree.read(status, 4096)
    if text is None:
        failures.append(err)
        return _unreadable("; ".join(f[len("unreadable ("):-1] for f in failures)), ""
    match = re.search(r"pmode:\s*(\d+)", text)
    if match is None:
        failures.append(_unreadable("{}: no pmode in {!r}".format(tree.show(status), text[:40])))
        return _unreadable("; ".join(f[len("unreadable ("):-1] for f in failures)), ""
    return label(int(match.group(1))), tree.show(status)


def _gpu_state(tree: _Tree) -> Optional[Dict[str, Any]]:
    node = _gpu_devfreq(tree)
    if node is None:
        return None
    info = {"node": node}   # type: Dict[str, Any]
    for key in ("cur", "min", "max"):
        info[key], info[key + "_err"] = tree.read_int(os.path.join(node, key + "_freq"))
    return info


def _temperatures(tree: _Tree, state: Dict[str, Optional[str]]) -> None:
    zones = _thermal_zones(tree)
    if not zones:
        state["temperatures"] = _unreadable("no thermal_zone* under " + tree.show(tree.path(THERMAL_DIR)))
    for zone in zones:
        celsius, err = _read_temp(tree, str(zone["temp"]))
        state["temp_" + str(zone["name"])] = "{:.1f}".format(celsius) if celsius is not None else err
        if zone["trip"] is not None:
            trip_c, kind = zone["trip"]
            state["trip_" + str(zone["name"])] = "{:.1f} ({})".format(trip_c, kind)


def _jetson_state(tree: _Tree, state: Dict[str, Optional[str]], run_commands: bool) -> None:
    state["board"] = "jetson"
    _l4t(tree, state)
    model, err = tree.read(tree.path("proc/device-tree/model"), 512)
    state["jetson_model"] = model if model else (err or _unreadable("/proc/device-tree/model: empty"))
    state["nvpmodel"], source = _nvpmodel(tree, run_commands)
    if source:
        state["nvpmodel_source"] = source
    online, err = tree.read(tree.path(CPU_DIR + "/online"), 256)
    state["cpu_online"] = online if online is not None else err
    found, cpu_err = _cpu_policies(tree)
    policies = [_read_policy(tree, label, folder) for label, folder in found]
    gpu = _gpu_state(tree)
    state["emc_freq_hz"], emc_pinned, emc_why = _emc(tree)
    state["jetson_clocks"] = _jetson_clocks(policies, cpu_err, gpu, emc_pinned, emc_why)
    if policies:
        state["cpu_freq_khz"] = _per_label([(str(p["label"]), _value(p["cur"], str(p["cur_err"])))
                                            for p in policies])
        state["cpu_freq_range_khz"] = _per_label([
            (str(p["label"]), "{}-{}".format(p["min"], p["max"]) if p["min"] is not None and p["max"] is not None
             else str(p["min_err"] or p["max_err"])) for p in policies])
        state["cpu_governor"] = _governor(policies)
    else:
        state["cpu_freq_khz"] = state["cpu_governor"] = cpu_err
    if gpu is None:
        where = ", ".join("/" + g for g in GPU_DEVFREQ_GLOBS)
        state["gpu_freq_hz"] = _unreadable("no GPU devfreq node ({}) under {}".format("/".join(GPU_NAMES), where))
    else:
        state["gpu_devfreq"] = tree.show(str(gpu["node"]))
        state["gpu_freq_hz"] = _value(gpu["cur"], str(gpu["cur_err"]))
        state["gpu_freq_range_hz"] = ("{}-{}".format(gpu["min"], gpu["max"])
                                      if gpu["min"] is not None and gpu["max"] is not None
                                      else str(gpu["min_err"] or gpu["max_err"]))


def _cpu_model(tree: _Tree) -> str:
    path = tree.path("proc/cpuinfo")
    text, err = tree.read(path, 1 << 20)
    if text is None:
        return err
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return _unreadable("no 'model name' in " + tree.show(path))


def _nvidia_smi(state: Dict[str, Optional[str]]) -> None:
    out, err = _command(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"], "nvidia-smi")
    if out is None:
        state["gpu"] = state["gpu_driver"] = err
        return
    rows = [[part.strip() for part in line.split(",")] for line in out.splitlines() if line.strip()]
    if not rows:
        state["gpu"] = state["gpu_driver"] = _unreadable("nvidia-smi: no GPU listed")
        return
    state["gpu"] = "; ".join(row[0] for row in rows)
    drivers = [row[1] for row in rows if len(row) > 1]
    state["gpu_driver"] = "; ".join(sorted(set(drivers))) if drivers else _unreadable("nvidia-smi: no driver_version")


def _other_state(tree: _Tree, state: Dict[str, Optional[str]], run_commands: bool) -> None:
    machine = platform.machine() or "unknown"
    state["board"] = "x86" if machine.lower() in ("x86_64", "amd64", "i386", "i686") else machine
    state["cpu_model"] = _cpu_model(tree)
    found, cpu_err = _cpu_policies(tree)
    if found:
        policies = [_read_policy(tree, label, folder) for label, folder in found]
        first = policies[0]
        state["cpu_governor"] = _governor(policies)
        state["cpu_freq_khz"] = "{}={}".format(first["label"], _value(first["cur"], str(first["cur_err"])))
        state["cpu_freq_range_khz"] = ("{}-{}".format(first["min"], first["max"])
                                       if first["min"] is not None and first["max"] is not None
                                       else str(first["min_err"] or first["max_err"]))
    else:
        state["cpu_governor"] = state["cpu_freq_khz"] = cpu_err
    count, err, present = _throttle_total(tree)
    if present:
        state["cpu_throttle_count"] = str(count) if count is not None else err
    if run_commands:
        _nvidia_smi(state)


def read_board_state(root: str = "/", run_commands: Optional[bool] = None) -> Dict[str, Optional[str]]:
    """Flat dict of strings describing the board now (see the module docstring for keys and sources).

    ``run_commands`` (default: ``root`` is "/") allows ``nvpmodel -q`` and ``nvidia-smi``. Never raises:
    whatever fails becomes "unreadable (...)" under its key, or under "board_state_error".
    """
    tree = _Tree(root)
    if run_commands is None:
        run_commands = os.path.abspath(root) == "/"
    state = {}   # type: Dict[str, Optional[str]]
    try:
        state["board"] = "unknown"
        state["emulated"] = _is_emulated(tree)
        if _is_jetson(tree):
            _jetson_state(tree, state, run_commands)
        else:
            _other_state(tree, state, run_commands)
        _temperatures(tree, state)
    except Exception as exc:  # noqa: BLE001 - the record must still be written
        state["board_state_error"] = "{}: {}".format(type(exc).__name__, exc)
    return {key: (None if value is None else str(value)) for key, value in state.items()}


# ---------------------------------------------------------------- BoardMonitor

class BoardMonitor:
    """Samples CPU/GPU clocks, temperatures (and x86 throttle counters) from a daemon thread.

    ``start()`` resolves the files and takes the first sample; ``stop()`` takes the last one and
    returns a JSON-safe summary dict (also kept as ``.summary``):
      samples, interval_s, duration_s, emulated
      cpu_freq_khz   {policy label: {"min", "max" seen, "pinned": kHz when scaling_min == scaling_max else None}}
      gpu_freq_hz    {"min", "max" seen, "pinned", "limit_max" (devfreq max_freq)} or {} without a GPU node
      temp_max_c     {zone: max C seen}; trips {zone: [C, type]} (lowest passive/hot trip)
      throttle_count_delta  x86 core+package throttle counters, stop minus start (absent without counters)
      throttling     readable strings, one per event (also ``throttling_flags(summary)``)
      errors         what could not be read (deduplicated, with counts), notes
    A frequency is flagged only when that clock is pinned (min == max) and read more than 2% below the
    pinned value: with a dynamic governor low clocks are normal. A zone is flagged when its maximum
    reaches its lowest passive/hot trip point. Usable as a context manager.
    """

    def __init__(self, root: str = "/", interval_s: float = 0.5) -> None:
        self.root = root
        self.interval_s = float(interval_s)
        self.samples = 0
        self.summary = None   # type: Optional[Dict[str, Any]]
        self._tree = _Tree(root)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread = None   # type: Optional[threading.Thread]
        self._cpus = []       # type: List[Dict[str, Any]]
        self._gpu = None      # type: Optional[Dict[str, Any]]
        self._zones = []      # type: List[Dict[str, Any]]
        self._throttle_start = None   # type: Optional[int]
        self._throttle_end = None     # type: Optional[int]
        self._errors = {}     # type: Dict[str, int]
        self._notes = []      # type: List[str]
        self._t0 = 0.0
        self._t1 = 0.0
        self._cpu_s = None    # type: Optional[float]  # CPU time of the monitor's thread
        self._placement = ""

    def _error(self, message: str) -> None:
        with self._lock:
            if message in self._errors or len(self._errors) < MAX_ERRORS_KEPT:
                self._errors[message] = self._errors.get(message, 0) + 1

    def _resolve(self) -> None:
        tree = self._tree
        found, cpu_err = _cpu_policies(tree)
        for label, folder in found:
            lo, err_lo = tree.read_int(os.path.join(folder, "scaling_min_freq"))
            hi, err_hi = tree.read_int(os.path.join(folder, "scaling_max_freq"))
            if lo is None or hi is None:
                self._error(err_lo or err_hi)
            self._cpus.append({"label": label, "path": os.path.join(folder, "scaling_cur_freq"),
                               "pinned": lo if lo is not None and lo == hi else None, "min": None, "max": None})
        node = _gpu_devfreq(tree)
        if node is not None:
            lo, err_lo = tree.read_int(os.path.join(node, "min_freq"))
            hi, err_hi = tree.read_int(os.path.join(node, "max_freq"))
            if lo is None or hi is None:
                self._error(err_lo or err_hi)
            self._gpu = {"path": os.path.join(node, "cur_freq"), "pinned": lo if lo is not None and lo == hi else None,
                         "limit_max": hi, "min": None, "max": None}
        for zone in _thermal_zones(tree):
            self._zones.append({"name": zone["name"], "path": zone["temp"], "trip": zone["trip"], "max": None})
        count, err, present = _throttle_total(tree)
        self._throttle_start = count
        if present and count is None:
            self._error(err)
        if not (self._cpus or self._gpu or self._zones or present):
            self._error("nothing to monitor under {}: {}; no GPU devfreq node; no thermal zone; no throttle "
                        "counter".format(self.root, cpu_err[len("unreadable ("):-1]))

    def _sample(self) -> None:
        tree = self._tree
        reads = []   # type: List[Tuple[Dict[str, Any], float]]
        for channel in self._cpus + ([self._gpu] if self._gpu else []):
            number, err = tree.read_int(str(channel["path"]))
            if number is None:
                self._error(err)
            else:
                reads.append((channel, float(number)))
        for zone in self._zones:
            celsius, err = _read_temp(tree, str(zone["path"]))
            if celsius is None:
                self._error(err)
            else:
                reads.append((zone, celsius))
        with self._lock:
            for channel, value in reads:
                if "min" in channel and (channel["min"] is None or value < channel["min"]):
                    channel["min"] = value
                if channel["max"] is None or value > channel["max"]:
                    channel["max"] = value
            self.samples += 1

    def _safe_sample(self) -> None:
        try:
            self._sample()
        except Exception as exc:  # noqa: BLE001 - the monitor must never take the run down
            self._error("sample failed: {}: {}".format(type(exc).__name__, exc))

    def _run(self) -> None:
        self._placement = place_helper_thread(idle=False)   # 2 reads a second: normal priority costs nothing
        start = thread_cpu_s()
        try:
            while not self._stop_event.wait(self.interval_s):
                self._safe_sample()
        finally:
            end = thread_cpu_s()
            self._cpu_s = end - start if end is not None and start is not None else None

    def start(self) -> "BoardMonitor":
        if self._thread is not None:
            return self
        self.summary = None
        try:
            self._resolve()
        except Exception as exc:  # noqa: BLE001
            self._error("cannot resolve board files under {}: {}: {}".format(self.root, type(exc).__name__, exc))
        self._t0 = time.perf_counter()
        self._safe_sample()
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._run, name="board-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> Dict[str, Any]:
        """Stop sampling and return the summary (the same dict on later calls)."""
        if self.summary is not None:
            return self.summary
        if self._thread is None:
            self._notes.append("monitor was never started")
        else:
            self._stop_event.set()
            self._thread.join(timeout=max(5.0, 4 * self.interval_s))
            if self._thread.is_alive():
                self._error("sampler thread still in a read {:.1f} s after stop".format(max(5.0, 4 * self.interval_s)))
            self._safe_sample()
            try:
                count, err, present = _throttle_total(self._tree)
                self._throttle_end = count
                if present and count is None:
                    self._error(err)
            except Exception as exc:  # noqa: BLE001
                self._error("throttle counters: {}".format(exc))
        self._t1 = time.perf_counter()
        try:
            self.summary = self._summarise()
        except Exception as exc:  # noqa: BLE001
            self.summary = {"samples": self.samples, "interval_s": self.interval_s, "throttling": [],
                            "errors": ["summary failed: {}: {}".format(type(exc).__name__, exc)]}
        return self.summary

    @staticmethod
    def _freq(value: Optional[float]) -> Optional[int]:
        return None if value is None else int(value)

    def _summarise(self) -> Dict[str, Any]:
        with self._lock:
            throttling = []   # type: List[str]
            if self._throttle_start is not None and self._throttle_end is not None:
                delta = self._throttle_end - self._throttle_start
                if delta > 0:
                    throttling.append("cpu throttle count rose by {} during the run".format(delta))
            cpus = {}
            for cpu in self._cpus:
                pinned, low = cpu["pinned"], cpu["min"]
                cpus[str(cpu["label"])] = {"min": self._freq(low), "max": self._freq(cpu["max"]), "pinned": pinned}
                if pinned is not None and low is not None and low < pinned * (1.0 - PINNED_TOLERANCE):
                    throttling.append("{} frequency fell to {} kHz while clocks were pinned at {} kHz".format(
                        cpu["label"], int(low), pinned))
            gpu = {}   # type: Dict[str, Any]
            if self._gpu is not None:
                pinned, low = self._gpu["pinned"], self._gpu["min"]
                gpu = {"min": self._freq(low), "max": self._freq(self._gpu["max"]), "pinned": pinned,
                       "limit_max": self._gpu["limit_max"]}
                if pinned is not None and low is not None and low < pinned * (1.0 - PINNED_TOLERANCE):
                    throttling.append("GPU frequency fell to {} Hz (max {} Hz) while clocks were pinned".format(
                        int(low), self._gpu["limit_max"]))
            temps, trips = {}, {}
            for zone in self._zones:
                hottest, trip = zone["max"], zone["trip"]
                temps[str(zone["name"])] = None if hottest is None else round(hottest, 1)
                if trip is not None:
                    trips[str(zone["name"])] = [trip[0], trip[1]]
                    if hottest is not None and hottest >= trip[0]:
                        throttling.append("thermal zone {} reached {:.1f} C, at or above its {} trip point "
                                          "{:.1f} C".format(zone["name"], hottest, trip[1], trip[0]))
            summary = {"samples": self.samples, "interval_s": self.interval_s,
                       "duration_s": round(max(0.0, self._t1 - self._t0), 3) if self._t0 else 0.0,
                       "emulated": _is_emulated(self._tree), "cpu_freq_khz": cpus, "gpu_freq_hz": gpu,
                       "temp_max_c": temps, "trips": trips, "throttling": throttling,
                       "errors": ["{} ({} times)".format(msg, n) if n > 1 else msg for msg, n in self._errors.items()],
                       "notes": list(self._notes), "monitor_thread": self._placement,
                       "monitor_cpu_s": self._cpu_s}   # type: Dict[str, Any]
            if self._throttle_start is not None and self._throttle_end is not None:
                summary["throttle_count_delta"] = self._throttle_end - self._throttle_start
            return summary

    def __enter__(self) -> "BoardMonitor":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def throttling_flags(summary: object) -> List[str]:
    """The ``throttling`` strings of a BoardMonitor summary ([] for anything else)."""
    if not isinstance(summary, dict):
        return []
    flags = summary.get("throttling") or []
    return [str(flag) for flag in flags] if isinstance(flags, list) else []
