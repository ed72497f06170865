"""The advisor's numbers from a run's records (artifact/host/advise/from_records.py): the summaries it uses are
the judge's, re-derived from the raw windows (artifact.host.judge.rederive), never a record's stored notes, and an
energy the judge would not judge (not above zero beyond its noise) is no number to rank on."""
import json
import math
import os
import statistics

import pytest

from artifact.cli import main
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.records import load_records
from artifact.host.advise.from_records import configs_by_model

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")
QUANTIZED = "mini_vgg__quantize__bits-8"
STORED = ("paired_ratio", "paired_ratio_ci95_relative", "ci95_relative")


def _configs(records):
    return {c.evidence[0]: c for c in configs_by_model(records)["mini_vgg"]}


def _halved(drop_notes):
    """The smoke reference's records with the 8-bit cell's timing windows x 0.5 (its baseline's paired windows
    kept), the stored summaries left as they were (stale) or removed."""
    records = load_records(os.path.join(SMOKE, "records"))
    timing = records[QUANTIZED].measurements["inference_time_s"]
    timing.samples = [x * 0.5 for x in timing.samples]
    for key in STORED if drop_notes else ():
        timing.notes.pop(key)
    return records


def _paired_latency_ms(records):
    """What the windows say: the baseline's median times the median of the window-by-window ratios, in ms."""
    timing = records[QUANTIZED].measurements["inference_time_s"]
    ratios = [a / b for a, b in zip(timing.samples, timing.notes["paired_reference_s"])]
    return records["mini_vgg__baseline__fp32"].value("inference_time_s") * statistics.median(ratios) * 1e3


def test_the_reference_latency_is_the_paired_one_to_begin_with():
    records = load_records(os.path.join(SMOKE, "records"))
    assert _configs(records)[QUANTIZED].get("latency_ms") == pytest.approx(_paired_latency_ms(records), rel=1e-9)


@pytest.mark.parametrize("drop_notes", [False, True], ids=["stale-notes", "no-notes"])
def test_halved_windows_halve_the_advisors_latency_whatever_the_stored_notes_say(drop_notes):
    before = _configs(load_records(os.path.join(SMOKE, "records")))[QUANTIZED]
    records = _halved(drop_notes)
    after = _configs(records)[QUANTIZED]
    assert after.get("latency_ms") == pytest.approx(_paired_latency_ms(records), rel=1e-9)
    assert after.get("latency_ms") == pytest.approx(before.get("latency_ms") / 2, rel=1e-9)
    # the interval is the paired ratio's, re-derived: halving every ratio halves its half-width in ms too
    assert after.intervals["latency_ms"] == pytest.approx(before.intervals["latency_ms"] / 2, rel=1e-9)


@pytest.mark.parametrize("key", ["mini_vgg__prune__threshold-0.05", QUANTIZED])
def test_an_energy_within_its_noise_of_idle_is_no_number(key):
    """The smoke reference's pruned and 8-bit cells drew no more than idle in 3-5 of their windows: their mean
    energy is not above twice its standard error, and the judge SKIPs them (verdicts._value); so does the advisor."""
    configs = _configs(load_records(os.path.join(SMOKE, "records")))
    assert configs[key].get("energy_mj") is None and "energy_mj" not in configs[key].intervals
    assert configs["mini_vgg__baseline__fp32"].get("energy_mj") > 0   # the baseline's is above its noise


def test_a_negative_energy_is_no_number():
    records = load_records(os.path.join(SMOKE, "records"))
    energy = records["mini_vgg__baseline__fp32"].measurements["energy_j"]
    energy.samples = [-x for x in energy.samples]
    assert _configs(records)["mini_vgg__baseline__fp32"].get("energy_mj") is None


def test_advise_on_energy_never_ranks_a_non_physical_energy(capsys):
    assert main(["advise", "--results", SMOKE, "--objective", "energy", "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    assert answer["recommended"]["evidence"] == ["mini_vgg__baseline__fp32"]
    assert "energy_mj" in answer["unknown_objectives"]   # not a number for every configuration


def test_advise_json_prints_no_bare_nan(capsys, monkeypatch):
    from artifact.host.advise import from_records
    from artifact.host.advise.pareto import Config

    nan = Config("m", "baseline", {"size_mb": math.nan, "latency_ms": 1.0, "energy_mj": math.inf}, ["m__baseline"],
                 {"latency_ms": math.inf})
    monkeypatch.setattr(from_records, "configs_by_model", lambda records: {"m": [nan]})
    assert main(["advise", "--results", SMOKE, "--json"]) == 0

    def refuse(constant):
        raise AssertionError(f"bare {constant} in advise --json")

    (answer,) = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert answer["front"][0]["values"]["size_mb"] is None and answer["front"][0]["intervals"]["latency_ms"] is None
