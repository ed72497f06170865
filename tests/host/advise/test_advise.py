"""The advisor's Pareto and recommendation logic on synthetic configurations with a known answer, and the
command on the committed reference runs (artifact/host/advise)."""
import json

import pytest

from artifact.cli import main
from artifact.host.advise.pareto import Config, advise, dominates, front, hypervolume_2d, known_objectives, on_runtime


def C(name, size=None, latency=None, energy=None, top1=None, bleu=None):
    return Config("m", name, {"size_mb": size, "latency_ms": latency, "energy_mj": energy, "top1_drop": top1,
                              "bleu_drop": bleu}, [name])


GRID = [C("fp32", 100, 10, top1=0.0), C("q16", 50, 12, top1=0.1), C("q8", 25, 14, top1=0.5),
        C("q6", 19, 13, top1=3.0), C("p05", 80, 8, top1=1.0), C("p50", 60, 9, top1=6.0),
        C("worse", 101, 15, top1=7.0)]


def test_the_front_is_exactly_the_undominated_configurations():
    names = [c.name for c in front(GRID)]
    # worse is dominated by fp32 on all three; every other configuration is best at something or a trade-off
    assert names == ["fp32", "q16", "q8", "q6", "p05", "p50"]
    assert dominates(GRID[0], GRID[-1], ["size_mb", "latency_ms", "top1_drop"])
    assert not dominates(GRID[0], GRID[1], ["size_mb", "latency_ms", "top1_drop"])


def test_equal_configurations_are_both_on_the_front():
    a, b, c = C("a", 1, 1), C("b", 1, 1), C("c", 2, 2)
    assert [x.name for x in front([a, b, c])] == ["a", "b"]


def test_an_objective_one_configuration_lacks_is_left_out_of_the_front_and_named():
    configs = [C("a", 1, 5, energy=9), C("b", 2, 4), C("c", 3, 6, energy=1)]
    assert known_objectives(configs) == ["size_mb", "latency_ms"]
    answer = advise(configs, "size_mb", {})
    assert [c.name for c in answer.front] == ["a", "b"] and "energy_mj" in answer.unknown_objectives


def test_recommendation_under_constraints_names_the_binding_one():
    answer = advise(GRID, "size_mb", {"top1_drop": 1.0})
    assert answer.recommended.name == "q8"   # q6 is smaller but costs 3 points
    assert answer.binding == ["top1_drop"] and "top-1 drop (points) ≤ 1" in answer.why


def test_binding_names_only_the_constraints_whose_relaxation_changes_the_answer():
    # q16 is the smallest within both; q6 (smaller) breaks latency and top-1, q8 (smaller) breaks latency alone:
    # relaxing top-1 alone still leaves q6 out, relaxing latency lets q8 in
    answer = advise(GRID, "size_mb", {"top1_drop": 1.0, "latency_ms": 12.0})
    assert answer.recommended.name == "q16" and answer.binding == ["latency_ms"]
    assert "relaxing latency (ms) ≤ 12 would change the answer" in answer.why


def test_a_constraint_broken_only_together_with_another_is_not_binding():
    configs = [C("a", 10, 5, top1=0.0), C("b", 5, 9, top1=3.0)]   # b is smaller but breaks both bounds
    answer = advise(configs, "size_mb", {"top1_drop": 1.0, "latency_ms": 6.0})
    assert answer.recommended.name == "a" and answer.binding == []
    assert "together: relaxing one alone would not change the answer" in answer.why


def test_ties_within_the_intervals_are_shown_with_the_reason_for_the_pick():
    def timed(name, size, latency, half):
        config = C(name, size, latency, top1=0.0)
        config.intervals = {"latency_ms": half}
        return config

    # int8 is faster by its point estimate, but the intervals overlap: the smaller file wins and says why
    configs = [timed("int8", 30, 20.9, 1.0), timed("dynamic", 20, 21.1, 1.0), timed("fp32", 10, 30.0, 1.0)]
    answer = advise(configs, "latency_ms", {})
    assert answer.recommended.name == "dynamic" and [c.name for c in answer.ties] == ["int8"]
    assert "tied within the 95% intervals with int8: picked for the lower size (MB) (20)" in answer.why
    assert answer.to_dict()["ties"][0]["config"] == "int8"
    apart = [timed("int8", 30, 20.9, 0.05), timed("dynamic", 20, 21.1, 0.05)]   # intervals apart: no tie
    assert advise(apart, "latency_ms", {}).recommended.name == "int8" and advise(apart, "latency_ms", {}).ties == []


def test_the_runtime_constraint_keeps_only_that_runtime():
    configs = [C("baseline", 100, 10, top1=0.0), C("litert mode=int8", 25, 2, top1=0.2)]
    configs[1].runtime = "litert"
    assert advise(on_runtime(configs, "keras"), "latency_ms", {}).recommended.name == "baseline"
    assert advise(on_runtime(configs, None), "latency_ms", {}).recommended.name == "litert mode=int8"


def test_no_binding_constraint_is_said():
    answer = advise(GRID, "latency_ms", {"size_mb": 90.0})
    assert answer.recommended.name == "p05" and answer.binding == [] and "no constraint binds" in answer.why


def test_ties_on_the_objective_break_on_the_other_objectives_then_the_name():
    configs = [C("b", 10, 5, top1=1.0), C("a", 10, 5, top1=1.0), C("c", 10, 4, top1=1.0)]
    assert advise(configs, "size_mb", {}).recommended.name == "c"   # same size: faster wins
    assert advise(configs[:2], "size_mb", {}).recommended.name == "a"   # all equal: by name


def test_infeasible_constraints_give_the_nearest_trade_offs_and_what_to_relax():
    answer = advise(GRID, "latency_ms", {"size_mb": 20.0, "top1_drop": 0.5})
    assert answer.recommended is None
    # q6: size 19 fits, drop 3.0 > 0.5 (excess 5x); q8: size 25 (excess 0.25x), drop fits -> q8 is nearest
    assert answer.nearest[0][0].name == "q8" and answer.nearest[0][1] == {"size_mb": 25.0}
    assert "nearest: q8 if size (MB) ≤ 25" in answer.why


def test_a_constraint_on_an_unmeasured_metric_is_unknown_never_assumed():
    configs = [C("fp32", 100, 10), C("q8", 25, 14)]   # no accuracy measured (no trained weights)
    answer = advise(configs, "size_mb", {"top1_drop": 1.0})
    assert answer.recommended is None and [c.name for c in answer.unknown] == ["fp32", "q8"]
    assert "top-1 drop (points) unknown for every configuration" in answer.why


def test_an_unmeasured_metric_on_some_configurations_leaves_them_undecided():
    configs = [C("fp32", 100, 10, top1=0.0), C("q8", 25, 14)]
    answer = advise(configs, "size_mb", {"top1_drop": 1.0})
    assert answer.recommended.name == "fp32" and [c.name for c in answer.unknown] == ["q8"]
    assert "could not be checked" in answer.why


def test_hypervolume_of_a_staircase():
    assert hypervolume_2d([(1, 1)], (3, 3)) == 4
    assert hypervolume_2d([(1, 2), (2, 1)], (3, 3)) == 3
    assert hypervolume_2d([(1, 2), (2, 1), (2, 2), (5, 0)], (3, 3)) == 3   # dominated and outside points add nothing


@pytest.mark.parametrize(("profile", "argv", "expected"), [
    ("embedded", ["--model", "mini_vgg", "--objective", "size", "--max-top1-drop", "1"], "recommended: "),
    ("embedded", ["--model", "mini_nmt", "--objective", "latency", "--max-bleu-drop", "1"], "recommended: "),
    ("paper", ["--model", "vgg_16", "--objective", "size", "--max-top1-drop", "1"],
     "top-1 drop (points) unknown for every configuration of vgg_16"),
    ("paper", ["--model", "resnet_v1_50", "--objective", "latency", "--max-size-mb", "1"], "nearest:"),
])
def test_advise_answers_on_the_reference_runs(capsys, profile, argv, expected):
    assert main(["advise", "--results", "expected_results/reference/" + profile] + argv) == 0
    assert expected in capsys.readouterr().out


def test_advise_json_names_the_records_it_rests_on(capsys):
    main(["advise", "--results", "expected_results/reference/embedded", "--model", "mini_vgg", "--json",
          "--max-top1-drop", "1", "--objective", "size"])
    (answer,) = json.loads(capsys.readouterr().out)
    assert answer["recommended"]["evidence"][0].startswith("mini_vgg__")
    assert answer["constraints"] == {"top1_drop": 1.0}


def test_advise_on_one_runtime_answers_on_it(capsys):
    argv = ["advise", "--results", "expected_results/reference/embedded", "--model", "mini_resnet", "--json"]
    main(argv)
    assert json.loads(capsys.readouterr().out)[0]["recommended"]["runtime"] == "litert"   # any runtime: LiteRT
    assert main(argv + ["--runtime", "keras"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    assert answer["recommended"]["runtime"] == "keras" and {c["runtime"] for c in answer["front"]} == {"keras"}
    assert main(["advise", "--results", "expected_results/reference/embedded", "--model", "mini_nmt",
                 "--runtime", "litert"]) == 2   # LiteRT does not convert the translator
    assert "--runtime litert: no configuration of mini_nmt in " in capsys.readouterr().err


def test_advise_for_a_model_not_in_the_run_is_one_line(capsys):
    assert main(["advise", "--results", "expected_results/reference/smoke", "--model", "vgg_16"]) == 2
    assert "--model vgg_16: not in" in capsys.readouterr().err


def test_the_lessons_table_answers_each_constraint_set_and_says_when_it_cannot():
    from artifact.host.advise.lessons import lesson_rows

    configs = [C("baseline", 100, 10, top1=0.0), C("quantize bits=8", 25, 14, top1=0.5),
               C("prune threshold=0.5", 60, 6, top1=0.8), C("prune threshold=0.75", 30, 4, top1=4.0),
               C("litert mode=int8", 24, 3, top1=0.2)]
    rows = {row[1]: row for row in lesson_rows({"m": configs})}
    assert rows["storage-bound"][3:6] == ["quantize bits=8", "yes", "litert mode=int8"]
    assert rows["latency-bound"][3:6] == ["prune threshold=0.5", "yes", "litert mode=int8"]
    assert "top-1 drop (points) ≤ 1" in rows["latency-bound"][6]   # the 75% prune is faster but costs 4 points
    assert rows["energy-bound"][4] == "not testable here" and "energy (mJ) not measured" in rows["energy-bound"][6]


def test_a_lesson_whose_pick_is_tied_with_the_other_side_is_neither_yes_nor_no():
    from artifact.host.advise.lessons import lesson_rows

    configs = [C("baseline", 100, 10, top1=0.0), C("quantize bits=6", 20, 10.1, top1=0.5),
               C("prune threshold=0.05", 90, 9.9, top1=0.2)]
    for config in configs:
        config.intervals = {"latency_ms": 0.5}
    row = {row[1]: row for row in lesson_rows({"m": configs})}["latency-bound"]
    assert row[3] == "quantize bits=6" and row[4] == "tied: baseline and prune and quantize within the 95% intervals"


def test_a_lesson_about_a_technique_the_run_did_not_measure_is_not_testable():
    from artifact.host.advise.lessons import lesson_rows

    rows = {row[1]: row for row in lesson_rows({"m": [C("baseline", 100, 10), C("quantize bits=8", 25, 14)]})}
    assert rows["latency-bound"][4] == "not testable here (no prune or quantize_prune cell for m)"
    assert "accuracy not measured in this run" in rows["latency-bound"][6]


def test_a_lesson_whose_techniques_have_no_number_for_the_objective_is_not_testable():
    """An energy within its noise of idle is no number (from_records): the pruned cell's energy unknown must not
    read as 'prune does not save energy'."""
    from artifact.host.advise.lessons import lesson_rows

    configs = [C("baseline", 100, 10, energy=5.0, top1=0.0), C("prune threshold=0.05", 90, 9, top1=0.2),
               C("quantize bits=8", 25, 14, top1=0.5)]
    row = {row[1]: row for row in lesson_rows({"m": configs})}["energy-bound"]
    assert row[4] == "not testable here (energy (mJ) of no prune cell of m is a number in this run)"
