"""Mutation tests of the checker: perturb the committed reference records (tests/data/mutations.toml) and
assert which claims reach which outcome. The perturbations and the expected flips are data."""
import json
import os
import re
import shutil

import pytest
import tomllib

from artifact.core.errors import FormatError
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.host.judge.check import check

with open(os.path.join(ROOT, "tests", "data", "mutations.toml"), "rb") as handle:
    MUTATIONS = tomllib.load(handle)["mutation"]
SUMMARIES = ("paired_ratio", "paired_ratio_ci95_relative", "ci95_relative", "ci95_half_width_s")


def _mutate(results, mutation):
    records = os.path.join(results, "records")
    baselines = {}
    for name in sorted(os.listdir(records)):
        if name.endswith("__baseline__fp32.json"):
            with open(os.path.join(records, name)) as handle:
                baselines[name.split("__")[0]] = json.load(handle)
    changed = 0
    for name in sorted(os.listdir(records)):
        key = name[:-len(".json")]
        if not name.endswith(".json") or not re.search(mutation["select"], key):
            continue
        path = os.path.join(records, name)
        with open(path) as handle:
            data = json.load(handle)
        measurement = data["measurements"].get(mutation["metric"])
        if measurement is None:
            continue
        if "scale" in mutation:
            measurement["samples"] = [x * mutation["scale"] for x in measurement["samples"]]
        if "set" in mutation:
            measurement["samples"] = [mutation["set"]]
        if "relative_to_baseline" in mutation:
            base = baselines[key.split("__")[0]]["measurements"][mutation["metric"]]["samples"]
            measurement["samples"] = [sum(base) / len(base) * mutation["relative_to_baseline"]]
        if "paired_ratio" in mutation:
            reference = measurement["notes"]["paired_reference_s"]
            wobble = (0.0, mutation["spread"], -mutation["spread"])
            ratio = mutation["paired_ratio"]
            measurement["samples"] = [b * ratio * (1 + wobble[i % 3]) for i, b in enumerate(reference)]
            for summary in SUMMARIES:
                measurement["notes"].pop(summary, None)
        with open(path, "w") as handle:
            json.dump(data, handle)
        changed += 1
    return changed


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m["why"][:60] for m in MUTATIONS])
def test_a_perturbation_moves_the_claims_it_should(tmp_path, mutation):
    results = str(tmp_path / mutation["profile"])
    shutil.copytree(os.path.join(ROOT, "expected_results", "reference", mutation["profile"]), results)
    assert _mutate(results, mutation) >= 1, "the mutation selects no record"
    if mutation.get("refused"):
        with pytest.raises(FormatError, match="disagree with its samples"):
            check(results)
        return
    outcomes = {v["claim_id"]: (v["outcome"], v["explanation"]) for v in check(results)["verdicts"]}
    for claim_id, expected in mutation["expect"].items():
        assert outcomes[claim_id][0] == expected, (claim_id, outcomes[claim_id])
