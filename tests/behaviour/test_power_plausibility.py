"""No power or energy verdict from bad sensor data: a stuck, stale (renamed-over), negative or unresolvable rail
gives SKIPPED with its reason, whatever the cell's length (below and above 1 s), on emulated trees written in place
and by renames. One cell is measured as the worker measures it: idle power, then the sampler around the timing
windows, then `meters._power_from_trace` (sleeps stand in for the inferences)."""
import time

import pytest

from artifact.core.metrics import in_group
from artifact.core.paths import PROJECT_ROOT
from artifact.core.records import Record
from artifact.device.emulation import sensors as emu
from artifact.device.measure.power import PowerSampler, discover_power_sensor, idle_power
from artifact.device.run import meters

POWER = in_group("power")


class _Measurer:
    def __init__(self, sensor):
        self.sensor = sensor


class _Timing:
    def __init__(self, windows):
        self.windows, self.per_window = windows, 10


def _pulses(low=5.0, high=7.0, every_s=0.02):
    """A rail that moves under load: `low` and `high` alternating every `every_s` seconds."""
    return lambda t: high if int(t / every_s) % 2 else low


def measure_cell(tmp_path, waveform, cell_s, by_rename=False, idle_w=None, windows=5, update_hz=200.0, lead_s=0.03):
    tree = emu.make_tx2_r32_tree(str(tmp_path / "sysfs"))
    sensor, reason = discover_power_sensor(tree.root)
    assert sensor is not None, reason
    record = Record({"key": "cell", "model": "m", "technique": "baseline", "setting": {}, "metrics": list(POWER)}, {})
    with emu.WaveformWriter(tree, waveform, update_hz=update_hz, by_rename=by_rename) as writer:
        try:
            idle, _ = idle_power(sensor, seconds=0.1, rate_hz=500.0)
        except ValueError as exc:  # as the worker's meter: no idle power, no energy, power skipped with why
            for metric in POWER:
                record.skip(metric, "idle power could not be measured: {}".format(exc))
            return record
        sampler = PowerSampler(sensor, 500.0)
        sampler.start()
        time.sleep(max(0.03, lead_s - (time.perf_counter() - writer.t_start)))   # lead_s after the first write
        spans = []
        for _ in range(windows):
            start = time.perf_counter()
            time.sleep(cell_s / windows)
            spans.append((start, time.perf_counter()))
        time.sleep(0.03)
        trace = sampler.stop()
    meters._power_from_trace(_Measurer(sensor), record, trace, _Timing(spans), idle if idle_w is None else idle_w,
                             list(POWER), [])
    sensor.close()
    return record


CELLS = [0.3, 1.5]  # below and above a second: the old stuck check needed a second of one value


@pytest.mark.parametrize("cell_s", CELLS)
def test_a_moving_rail_gives_power_and_energy(tmp_path, cell_s):
    """The control: the checks below must not skip a healthy rail."""
    record = measure_cell(tmp_path, _pulses(), cell_s, idle_w=4.0)
    assert sorted(record.measurements) == sorted(POWER), record.skipped
    assert 5.0 <= record.value("power_mean_w") <= 7.0


@pytest.mark.parametrize("cell_s", CELLS)
@pytest.mark.parametrize("by_rename", [False, True])
def test_a_constant_rail_is_never_a_power_sample(tmp_path, cell_s, by_rename):
    record = measure_cell(tmp_path, lambda t: 3.0, cell_s, by_rename)
    assert not record.measurements and sorted(record.skipped) == sorted(POWER)
    reason = record.skipped["energy_j"]
    if by_rename:
        assert "replaced" in reason
    else:
        assert ("not resolvable" if cell_s < 1.0 else "stuck") in reason


@pytest.mark.parametrize("cell_s", CELLS)
def test_a_file_renamed_over_under_the_sampler_is_noticed(tmp_path, cell_s):
    """A writer that replaces its files: the sampler's open descriptor would read the old file for ever."""
    record = measure_cell(tmp_path, _pulses(), cell_s, by_rename=True)
    assert not record.measurements and sorted(record.skipped) == sorted(POWER)
    assert all("replaced while sampling" in why for why in record.skipped.values())


def test_a_cell_shorter_than_the_sensors_update_period_is_not_resolvable(tmp_path):
    """A 1 Hz sensor under a 0.3 s cell that spans one update: two readings, each a different value (not stuck),
    and still no measurement of the model (it was judged: nothing but an all-equal reading was refused)."""
    record = measure_cell(tmp_path, lambda t: 7.0 if round(t) % 2 else 5.0, 0.3, idle_w=4.0, update_hz=1.0,
                          lead_s=0.85)   # the cell runs from 0.85 s to 1.15 s: the update at 1 s inside it
    assert not record.measurements and sorted(record.skipped) == sorted(POWER), record.skipped
    assert "not resolvable" in record.skipped["energy_j"]


@pytest.mark.parametrize("cell_s", CELLS)
@pytest.mark.parametrize("by_rename", [False, True])
def test_a_negative_rail_is_never_a_power_sample(tmp_path, cell_s, by_rename):
    record = measure_cell(tmp_path, lambda t: -3.0 if int(t / 0.02) % 2 else -4.0, cell_s, by_rename, idle_w=0.0)
    assert not record.measurements and sorted(record.skipped) == sorted(POWER), record.skipped


@pytest.mark.parametrize("cell_s", CELLS)
@pytest.mark.parametrize("by_rename", [False, True])
def test_energy_below_idle_is_not_physical_and_not_judged(tmp_path, cell_s, by_rename):
    """A model that drew no more than idle (within the sensor's noise) has no energy to judge: -0.0027 J PASSed.
    Renamed-over files are refused before that (the sampler read a stale file), so nothing of the cell is judged."""
    record = measure_cell(tmp_path, _pulses(), cell_s, by_rename, idle_w=8.0)
    assert "energy_j" not in record.measurements
    if by_rename:
        assert not record.measurements and "replaced while sampling" in record.skipped["energy_j"]
    else:
        assert "not physical" in record.skipped["energy_j"]
        assert "power_mean_w" in record.measurements   # the power itself was physical


def test_a_record_with_energy_below_idle_is_skipped_by_the_judge(tmp_path):
    """Records written before the meter refused them (the smoke reference has one): never a PASS from -0.0003 J."""
    import json
    import os
    import shutil

    from artifact.cli import main

    root = PROJECT_ROOT
    shutil.copytree(os.path.join(root, "expected_results", "reference", "smoke"), str(tmp_path / "smoke"))
    assert main(["check", "--profile", "smoke", "--results", str(tmp_path / "smoke")]) in (0, 1)
    verdicts = json.loads((tmp_path / "smoke" / "verdicts.json").read_text())["verdicts"]
    judged = {v["claim_id"]: v for v in verdicts}
    vgg = judged["IV-F/prune/energy-vgg"]
    assert vgg["outcome"] == "SKIPPED" and "not physical" in vgg["explanation"], vgg


def _smoke(tmp_path):
    import os
    import shutil

    root = PROJECT_ROOT
    shutil.copytree(os.path.join(root, "expected_results", "reference", "smoke"), str(tmp_path / "smoke"))
    return tmp_path / "smoke"


def test_check_refuses_a_record_measured_on_another_rail_set(tmp_path, capsys):
    """A run resumed after the rails changed mixed 'VDD_IN' and a sum of rails, and PASSed at 203.5%."""
    import json

    from artifact.cli import main

    smoke = _smoke(tmp_path)
    path = smoke / "records" / "mini_vgg__quantize__bits-8.json"
    data = json.loads(path.read_text())
    for metric in POWER:
        data["measurements"][metric]["notes"]["sensor"]["rails"] = "VDD_CPU_GPU_CV,VDD_SOC"
    path.write_text(json.dumps(data))
    assert main(["check", "--profile", "smoke", "--results", str(smoke)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "VDD_CPU_GPU_CV,VDD_SOC" in lines[0], lines
    assert not (smoke / "results.csv").exists()


def test_run_refuses_to_measure_power_on_another_rail_set(tmp_path, capsys, monkeypatch):
    import json
    import os

    from artifact.cli import main

    smoke = _smoke(tmp_path)
    info = json.loads((smoke / "run.json").read_text())
    info["power_rails"] = "jetson-ina3221-r32:VDD_IN"   # what its records were measured on
    (smoke / "run.json").write_text(json.dumps(info))
    os.remove(smoke / "records" / "mini_vgg__quantize__bits-8.json")
    tree = emu.make_orin_hwmon_tree(str(tmp_path / "orin"))   # the sensor now: another backend
    monkeypatch.setenv("ARTIFACT_SYSFS_ROOT", tree.root)
    monkeypatch.setenv("ARTIFACT_ALLOW_BUSY", "1")
    before = sorted(os.listdir(smoke / "records"))
    assert main(["run", "--profile", "smoke", "--results", str(smoke)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "run.json" in lines[0] and "jetson-ina3221-hwmon:VDD_IN" in lines[0], lines
    assert sorted(os.listdir(smoke / "records")) == before


@pytest.mark.slow
def test_a_rail_that_appears_after_the_runs_pin_skips_the_workers_power(tmp_path, capsys, monkeypatch):
    """`run` pinned a sum of rails; a VDD_IN appears before its worker finds the sensor: the worker's power and
    energy are SKIPPED naming both rail sets, never measured on the new set (a verdict mixing the two)."""
    import glob
    import json
    import os
    import pathlib

    from artifact.cli import main
    from artifact.device.run import parent

    smoke = _smoke(tmp_path)
    info = json.loads((smoke / "run.json").read_text())
    info.pop("power_rails", None)   # a run not pinned yet: this run's parent pins what it finds
    (smoke / "run.json").write_text(json.dumps(info))
    key = "mini_vgg__quantize__bits-8"
    os.remove(smoke / "records" / (key + ".json"))
    tree = emu.make_tx2_r32_tree(str(tmp_path / "tx2"))
    label = [f for f in glob.glob(os.path.dirname(tree.path("VDD_IN", "mW")) + "/rail_name_*")
             if pathlib.Path(f).read_text().strip() == "VDD_IN"][0]
    emu.write_value(label, "VDD_MUX")   # no VDD_IN yet: the parent pins the sum of the rails it finds
    pin = parent._pin_power_rails

    def pin_then_a_rail_appears(cells, results):
        pin(cells, results)
        emu.write_value(label, "VDD_IN")

    monkeypatch.setattr(parent, "_pin_power_rails", pin_then_a_rail_appears)
    monkeypatch.setenv("ARTIFACT_SYSFS_ROOT", tree.root)
    monkeypatch.setenv("ARTIFACT_ALLOW_BUSY", "1")
    with emu.WaveformWriter(tree, _pulses(), update_hz=200.0):   # a healthy, moving rail: only the set is wrong
        assert main(["run", "--profile", "smoke", "--results", str(smoke)]) == 0, capsys.readouterr().err
    pinned = json.loads((smoke / "run.json").read_text())["power_rails"]
    assert "VDD_MUX" in pinned
    record = json.loads((smoke / "records" / (key + ".json")).read_text())
    power = [m for m in POWER if m in record["cell"]["metrics"]]
    assert power
    for metric in power:
        assert metric not in record["measurements"], (metric, record["measurements"].get(metric))
        reason = record["skipped"][metric]
        assert pinned in reason and "jetson-ina3221-r32:VDD_IN" in reason, reason
