"""What a verdict stands on (issue 29): the platform from an environment's facts (artifact.core.evidence), and
the grade of every verdict from the records it was judged on (artifact.host.judge.grade)."""
import json
import os
import shutil

import pytest

from artifact.core.evidence import OTHER_BOARD, PAPER_BOARD, X86_CPU, describe_platform, platform_of
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.device.emulation import board as eb
from artifact.device.measure.board_state import read_board_state
from artifact.host.judge.check import check

REFERENCE = os.path.join(ROOT, "expected_results", "reference")
REAL_TX2 = {"board": "jetson", "emulated": "no", "machine": "aarch64", "jetson_model": "NVIDIA Jetson TX2",
            "l4t_release": "R32 (release), REVISION: 7.1", "tf_gpus": "/physical_device:GPU:0"}


def test_a_real_tx2_on_its_gpu_is_the_papers_board_and_nothing_else_is():
    assert platform_of(REAL_TX2) == PAPER_BOARD
    assert platform_of(dict(REAL_TX2, tf_gpus=None)) == OTHER_BOARD          # the TX2's CPU: not the paper's processor
    assert platform_of(dict(REAL_TX2, jetson_model="NVIDIA Jetson AGX Xavier")) == OTHER_BOARD
    assert platform_of({"board": "x86", "machine": "x86_64", "tf_gpus": None}) == X86_CPU
    assert platform_of({"board": "x86", "machine": "x86_64", "tf_gpus": "/physical_device:GPU:0"}) == OTHER_BOARD
    assert platform_of({}) == X86_CPU   # nothing known: never the paper's board


@pytest.mark.parametrize("machine,expected", [("x86_64", X86_CPU), ("aarch64", OTHER_BOARD)])
def test_an_emulated_tree_never_makes_a_run_a_jetsons(tmp_path, machine, expected):
    state = read_board_state(eb.make_tx2_board(str(tmp_path)), run_commands=False)
    assert state["board"] == "jetson" and state["l4t_release"]   # the tree looks like a TX2 ...
    env = dict(state, machine=machine, tf_gpus="/physical_device:GPU:0" if machine == "aarch64" else None)
    assert platform_of(env) == expected                           # ... the run is still not on one
    assert "EMULATED tree, not hardware" in describe_platform(env)


def test_the_committed_references_are_graded_from_the_facts_they_hold(tmp_path):
    """smoke: an x86 machine reading an emulated TX2 tree; embedded: stand-ins; paper: untrained Table I models."""
    with open(os.path.join(REFERENCE, "smoke", "run.json")) as handle:
        smoke_env = json.load(handle)["environment"]
    assert smoke_env["l4t_release"] and platform_of(smoke_env) == X86_CPU
    seen = {}
    for profile in ("smoke", "embedded", "paper"):
        results = str(tmp_path / profile)
        shutil.copytree(os.path.join(REFERENCE, profile), results)
        data = check(results)
        for v in data["verdicts"]:
            judged = v["outcome"] in ("PASS", "DEVIATION", "FAIL")
            assert bool(v["grade"]) == (v["measured"] is not None), v["claim_id"]
            if judged:
                seen.setdefault(profile, set()).add((v["grade"]["level"], v["grade"]["model"], v["grade"]["sensor"]))
                assert v["grade"]["platform"] == X86_CPU
        assert sum(data["grades"].values()) == sum(1 for v in data["verdicts"] if v["grade"])
    assert ("emulated", "stand-in", "emulated") in seen["smoke"]            # power from a test waveform
    assert all(level != "paper" for level, _, _ in seen["smoke"] | seen["embedded"])
    assert {model for _, model, _ in seen["embedded"]} == {"stand-in"}
    assert {model for _, model, _ in seen["paper"]} == {"paper, untrained"}
    assert {level for level, _, _ in seen["paper"]} == {"paper", "other platform"}  # sizes; times on an x86 CPU


def test_accuracy_on_untrained_paper_models_is_stand_in_grade():
    from artifact.core.records import Measurement, Record
    from artifact.host.judge.grade import grade

    def record(model, weights, metric, value):
        r = Record({"key": f"{model}__baseline__fp32", "model": model, "technique": "baseline", "setting": {},
                    "metrics": [metric]}, {"machine": "x86_64"}, provenance={"weights": weights})
        r.add(Measurement(metric, [value]))
        return r

    untrained = record("vgg_16", "initialised, seed 0 (no trained weights given)", "top1", 0.001)
    trained = record("vgg_16", "TF-Slim checkpoint /ckpt/vgg_16.ckpt", "top1", 0.71)
    verdict = {"metric": "top1", "measured": 1.0, "evidence": [untrained.key], "flags": []}
    assert grade(verdict, {untrained.key: untrained})["level"] == "stand-in"
    assert grade(verdict, {trained.key: trained}) == {"level": "paper", "model": "paper, trained", "sensor": "none",
                                                       "platform": X86_CPU, "quality": "clean"}
    size = record("vgg_16", "initialised, seed 0 (no trained weights given)", "params", 138e6)
    assert grade(dict(verdict, metric="params"), {size.key: size})["level"] == "paper"  # no weights decide a count


def test_every_environment_states_its_platform_without_ambiguity(tmp_path):
    """What run.json and every record say: an x86 machine reading an emulated TX2 tree is an x86 CPU."""
    from artifact.device.measure.environment import collect_environment

    env = collect_environment(root=eb.make_tx2_board(str(tmp_path)))
    assert env["board"] == "jetson" and env["emulated"].startswith("yes")
    assert env["platform"] == describe_platform(env) and not env["platform"].startswith(PAPER_BOARD)
    assert "EMULATED tree, not hardware" in env["platform"]


@pytest.mark.parametrize("profile", sorted(os.listdir(REFERENCE)))
def test_every_committed_run_json_states_the_platform_its_own_facts_give(profile):
    """The references were run before run.json said its platform; `invoke reference-platforms` wrote it from each
    one's recorded environment (ResultsDir.state_platform), nothing re-measured."""
    with open(os.path.join(REFERENCE, profile, "run.json")) as handle:
        env = json.load(handle)["environment"]
    facts = {k: v for k, v in env.items() if k != "platform"}
    assert env.get("platform") == describe_platform(facts)
    assert env["platform"].startswith(X86_CPU + ":")   # all three ran on an x86 machine's CPU
    if profile == "smoke":   # the emulated TX2 tree it read never makes it a Jetson's run
        assert "EMULATED tree, not hardware" in env["platform"] and "Jetson" not in env["platform"].split(";")[0]


def test_stating_the_platform_derives_it_from_the_runs_facts_and_is_idempotent(tmp_path):
    from artifact.core.results import ResultsDir

    results = ResultsDir(str(tmp_path / "smoke"))
    shutil.copytree(os.path.join(REFERENCE, "smoke"), results.path)
    with open(results.run_json) as handle:
        committed = handle.read()
    data = json.loads(committed)
    data["environment"]["platform"] = "paper board: a sentence someone typed"   # never trusted: re-derived
    with open(results.run_json, "w") as handle:
        json.dump(data, handle)
    assert results.state_platform() is True
    with open(results.run_json) as handle:
        assert handle.read() == committed   # the same file, byte for byte
    assert results.state_platform() is False   # nothing to change the second time
    del data["environment"]
    with open(results.run_json, "w") as handle:
        json.dump(data, handle)
    assert results.state_platform() is False   # no facts: nothing to derive from, nothing written


def test_check_says_what_its_judged_claims_stand_on(tmp_path, capsys):
    from artifact.cli import main

    results = tmp_path / "smoke"
    shutil.copytree(os.path.join(REFERENCE, "smoke"), results)
    assert main(["check", "--profile", "smoke", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    # 19: five of the smoke run's energy readings are not physical (idle noise) and are SKIPPED, not judged
    assert "check: 19 judged: 0 paper, 0 other platform, 17 stand-in, 2 emulated" in out


def test_time_and_power_on_a_real_tx2_are_paper_grade_and_on_its_emulated_tree_are_not():
    from artifact.core.records import Measurement, Record
    from artifact.host.judge.grade import grade

    def record(environment, metric, sensor_emulated):
        r = Record({"key": "vgg_16__quantize__bits-8", "model": "vgg_16", "technique": "quantize",
                    "setting": {"bits": 8}, "metrics": [metric]}, environment, provenance={"weights": "TF-Slim"})
        r.add(Measurement(metric, [1.0], notes={"sensor": {"emulated": sensor_emulated}}))
        return {r.key: r}

    for metric in ("inference_time_s", "power_peak_w"):
        verdict = {"metric": metric, "measured": 41.0, "evidence": ["vgg_16__quantize__bits-8"], "flags": []}
        real = grade(verdict, record(REAL_TX2, metric, "no"))
        assert (real["level"], real["platform"]) == ("paper", PAPER_BOARD)
        assert real["sensor"] == ("real" if metric == "power_peak_w" else "none")
        fake = grade(verdict, record(dict(REAL_TX2, machine="x86_64", tf_gpus=None, emulated="yes (EMULATED)"), metric,
                                     "yes (test tree, not hardware)"))
        assert fake["platform"] == X86_CPU
        assert fake["level"] == ("emulated" if metric == "power_peak_w" else "other platform")
