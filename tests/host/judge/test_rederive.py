"""The judge re-derives every summary it uses from a record's raw samples: an edited record is refused, and a
record without stored summaries is judged on what its samples say (issue 29)."""
import json
import os
import shutil

import pytest

from artifact.core.errors import FormatError
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.records import Measurement
from artifact.host.judge.check import check
from artifact.host.judge.rederive import derive, half_width, paired_ratios

CLAIM = "II-B/quantize-8bit/time"
SUMMARIES = ("paired_ratio", "paired_ratio_ci95_relative", "ci95_relative", "ci95_half_width_s")


def _copy(tmp_path, profile="paper"):
    results = str(tmp_path / profile)
    shutil.copytree(os.path.join(ROOT, "expected_results", "reference", profile), results)
    return results


def _halve_quantized_timing(results, drop_summaries=False):
    """Every 8-bit cell's timing samples x 0.5 (the paired baseline windows kept): twice as fast as measured."""
    records, changed = os.path.join(results, "records"), []
    for name in sorted(os.listdir(records)):
        if not name.endswith("__quantize__bits-8.json"):
            continue
        path = os.path.join(records, name)
        with open(path) as handle:
            data = json.load(handle)
        timing = data["measurements"].get("inference_time_s")
        if timing is None:
            continue
        timing["samples"] = [x * 0.5 for x in timing["samples"]]
        if drop_summaries:
            for key in SUMMARIES:
                timing["notes"].pop(key, None)
        with open(path, "w") as handle:
            json.dump(data, handle)
        changed.append(path)
    assert changed
    return changed


def _outcome(results, claim_id=CLAIM):
    return next(v for v in check(results)["verdicts"] if v["claim_id"] == claim_id)


def test_the_reference_passes_the_quantized_time_claim_to_begin_with(tmp_path):
    verdict = _outcome(_copy(tmp_path))
    assert verdict["outcome"] in ("PASS", "DEVIATION"), verdict  # the paper's slowdown, as measured


def test_halved_samples_under_the_stored_paired_ratio_are_refused_naming_the_file(tmp_path):
    results = _copy(tmp_path)
    changed = _halve_quantized_timing(results)
    with pytest.raises(FormatError) as error:
        check(results)
    message = str(error.value)
    assert "\n" not in message and message.split(":")[0] in changed
    assert "inference_time_s.notes." in message and "disagree with its samples" in message
    with open(os.path.join(ROOT, "expected_results", "reference", "paper", "verdicts.json")) as handle:
        frozen = handle.read()
    with open(os.path.join(results, "verdicts.json")) as handle:
        assert handle.read() == frozen  # nothing written


def test_halved_samples_without_stored_summaries_fail_the_claim(tmp_path):
    results = _copy(tmp_path)
    _halve_quantized_timing(results, drop_summaries=True)
    verdict = _outcome(results)
    assert verdict["outcome"] == "FAIL", verdict
    assert "paired with the fp32 baseline" in verdict["explanation"]  # still judged on the paired windows


def test_summaries_are_derived_from_the_windows():
    m = Measurement("inference_time_s", [2.0, 4.0, 6.0], notes={"paired_reference_s": [1.0, 1.0, 4.0]})
    assert paired_ratios(m) == [2.0, 4.0, 1.5]
    assert derive(m, "paired_ratio") == 2.0  # the median ratio, not the ratio of means (4/2)
    assert derive(m, "ci95_relative") == pytest.approx(half_width([2.0, 4.0, 6.0]) / 4.0)
    assert half_width([2.0, 4.0, 6.0]) == pytest.approx(4.302653 * 2.0 / 3 ** 0.5, rel=1e-6)
    assert derive(Measurement("inference_time_s", [1.0]), "paired_ratio") is None  # not paired


@pytest.mark.parametrize("note,value", [("windows", 3), ("ci95_half_width_s", 1e-3), ("paired_ratio", 1.3)])
def test_any_stored_summary_off_its_samples_is_refused(tmp_path, note, value):
    results = _copy(tmp_path, "smoke")
    path = os.path.join(results, "records", "mini_vgg__quantize__bits-8.json")
    with open(path) as handle:
        data = json.load(handle)
    data["measurements"]["inference_time_s"]["notes"][note] = value
    with open(path, "w") as handle:
        json.dump(data, handle)
    with pytest.raises(FormatError, match=f"^{path}: measurements.inference_time_s.notes.{note} = "):
        check(results)
