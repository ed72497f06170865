"""Each technique's registry row (artifact.core.techniques) owns what varies with it, and its readers follow it.

The row's fields are checked for consistency (every grid technique has a colour and a figure, every explored
setting a search range inside its valid range, every figure a known panel set), and each reader is shown to
follow a changed row: explore's suggestions, the report's figures, the paper's techniques in the Advisor, the
colours. The device's dispatch by row is in tests/behaviour/test_architecture.py (it imports TensorFlow).
"""
import os
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from artifact.core import techniques  # noqa: E402
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.profiles import setting_slug  # noqa: E402
from artifact.core.records import load_records  # noqa: E402
from artifact.core.techniques import TECHNIQUES  # noqa: E402

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke", "records")


def test_every_row_names_its_compress_function_suffix_and_colour():
    colours = [row.colour for row in TECHNIQUES.values()]
    assert len(set(colours)) == len(colours), "two techniques share a colour"
    for name, row in TECHNIQUES.items():
        assert re.fullmatch(r"artifact\.device(\.\w+)+:\w+", row.compress), name
        assert row.suffix in (techniques.KERAS_FILE, techniques.LITERT_FILE), name
        assert re.fullmatch(r"#[0-9a-f]{6}", row.colour), name
        assert set(row.explore) <= {techniques.CNN, techniques.TRANSLATOR}, name


def test_every_grid_technique_has_a_figure_and_the_grid_is_the_papers():
    assert techniques.grid_techniques() == ("quantize", "prune", "quantize_prune")
    assert techniques.paper_techniques() == ("baseline", "quantize", "prune", "quantize_prune")
    for name in techniques.grid_techniques():
        assert TECHNIQUES[name].figures, name


def test_every_figure_is_drawable_and_keeps_settings_its_technique_has():
    from artifact.host.report.figures import PANEL_SETS

    stems = [f.stem for row in TECHNIQUES.values() for f in row.figures]
    assert len(set(stems)) == len(stems)
    for name, row in TECHNIQUES.items():
        for figure in row.figures:
            assert figure.kind in ("panels", "bubble"), figure
            assert figure.kind == "bubble" or figure.panels in PANEL_SETS, figure
            for slug in figure.settings or ():
                spec = row.settings[0]
                value = float(slug.split("-", 1)[1]) if spec.kind == "float" else slug.split("-", 1)[1]
                assert setting_slug(name, {spec.name: value}) == slug, (figure.stem, slug)


def test_every_explored_setting_has_a_search_range_inside_its_valid_range():
    for name, row in TECHNIQUES.items():
        if not row.explore:
            continue
        for spec in row.settings:
            assert spec.search is not None, (name, spec.name)
            if spec.kind == "choice":
                assert set(spec.search) <= set(spec.choices), (name, spec.name)
                continue
            low, high = spec.search
            assert low <= high, (name, spec.name)
            techniques.check_value(spec, low, name)  # raises outside the valid range
            techniques.check_value(spec, high, name)


class FakeTrial:
    """An Optuna trial stand-in: records each call, answers the low or the high end of each range."""

    def __init__(self, technique, end):
        self.technique, self.end, self.calls = technique, end, []

    def suggest_categorical(self, name, choices):
        self.calls.append((name, tuple(choices)))
        return self.technique if name == "technique" else choices[-1 if self.end == "high" else 0]

    def suggest_int(self, name, low, high):
        self.calls.append((name, low, high))
        return high if self.end == "high" else low

    def suggest_float(self, name, low, high):
        self.calls.append((name, low, high))
        return high if self.end == "high" else low


def test_explore_suggests_from_the_rows_ranges(monkeypatch):
    from artifact.host.explore import search

    narrow = TECHNIQUES["prune"]._replace(settings=(techniques.THRESHOLD._replace(search=(0.2, 0.3)),))
    monkeypatch.setitem(TECHNIQUES, "prune", narrow)
    trial = FakeTrial("prune", "high")
    assert search.suggest(trial, ("prune",)) == ("prune", {"threshold": 0.3})
    assert ("prune.threshold", 0.2, 0.3) in trial.calls
    trial = FakeTrial("litert", "high")
    assert search.suggest(trial, ("litert",)) == ("litert", {"mode": "int8"})
    assert ("litert.mode", techniques.LITERT_MODES) in trial.calls


def test_explore_mends_a_draw_to_hold_the_techniques_rule(monkeypatch):
    from artifact.host.explore import search

    trial = FakeTrial("quantize_mixed", "low")  # bits 4 (its search's low end) and low_bits 2
    assert search.suggest(trial, ("quantize_mixed",))[1]["low_bits"] == 2
    trial.end = "high"  # bits 16, low_bits 15
    technique, setting = search.suggest(trial, ("quantize_mixed",))
    techniques.check_setting(technique, setting)  # holds low_bits < bits
    row = TECHNIQUES["quantize_mixed"]
    monkeypatch.setitem(TECHNIQUES, "quantize_mixed", row._replace(
        settings=(techniques.MIXED_BITS._replace(search=(4, 8)),) + row.settings[1:]))
    technique, setting = search.suggest(trial, ("quantize_mixed",))
    assert setting["bits"] == 8 and setting["low_bits"] == 7  # 15 mended to below bits


def test_per_block_pruning_keeps_one_block_pruned_in_profiles_and_in_explores_draws():
    from artifact.core.errors import ConfigError
    from artifact.host.explore import search

    with pytest.raises(ConfigError, match="prune_blocks setting .*: at least one block's fraction must be above 0"):
        techniques.check_setting("prune_blocks", {"first": 0.0, "middle": 0, "last": 0.0})
    assert techniques.check_setting("prune_blocks", {"first": 0.0, "middle": 0.3, "last": 0.0})["middle"] == 0.3
    technique, setting = search.suggest(FakeTrial("prune_blocks", "low"), ("prune_blocks",))  # each block 0.0
    assert setting == {"first": 0.0, "middle": 0.0, "last": 0.05}   # mended to prune something
    assert techniques.check_setting(technique, setting) == setting


def test_a_technique_without_explore_kinds_cannot_be_explored():
    from artifact.core.errors import ConfigError
    from artifact.host.explore import search

    assert "magnitude_prune" not in search.CNN_TECHNIQUES and search.TRANSLATOR_TECHNIQUES == ("prune",)
    with pytest.raises(ConfigError, match="--techniques: 'magnitude_prune' cannot be explored"):
        search.suggest(FakeTrial("magnitude_prune", "low"), ("magnitude_prune",))


def test_the_report_draws_the_figures_the_rows_name(monkeypatch):
    from artifact.host.report import figures

    records = load_records(SMOKE)
    renamed = techniques.Figure("fig99_renamed", "panels", "a renamed Fig 13", "combined", None)
    monkeypatch.setitem(TECHNIQUES, "quantize", TECHNIQUES["quantize"]._replace(figures=(renamed,)))
    made = figures.all_figures(records, {})
    try:
        assert "fig99_renamed" in made and "fig13_quantization" not in made
        assert "fig32_bubble_quantization" not in made  # the row no longer names it
        assert "fig20_pruning" in made and "fig36_bubble_pruning" in made
        assert len([a for a in made["fig99_renamed"].axes if a.get_visible()]) == 4  # the "combined" panel set
    finally:
        for fig in made.values():
            figures.plt.close(fig)


def test_a_setting_has_one_colour_in_every_figure():
    from artifact.host.report import figures

    records = load_records(SMOKE)
    alone = {k: r for k, r in records.items() if "__prune__" not in k}
    everything = figures.records_frame(records)
    fewer = figures.records_frame(alone)
    colour = {s: c for s, c in zip(everything.setting, everything.colour)}
    assert {s: c for s, c in zip(fewer.setting, fewer.colour)}.items() <= colour.items()
    assert figures.setting_colour("quantize", {"bits": 8}) == colour["bits-8"]
    assert colour["fp32"] == figures.setting_colour("baseline", {})
    shades = {figures.setting_colour("quantize", {"bits": b}) for b in (2, 4, 6, 8, 16)}
    assert len(shades) == 5, "settings of one technique must be told apart"
    assert figures.setting_colour("quantize", {"bits": 16}) != figures.setting_colour("prune", {"threshold": 0.9})


def test_the_advisor_judges_the_lessons_among_the_papers_techniques():
    from artifact.host.advise import lessons

    assert techniques.paper_techniques() == lessons.PAPER_TECHNIQUES


def test_every_metric_row_names_its_label_and_the_figures_use_it(monkeypatch):
    from artifact.core.metrics import METRICS
    from artifact.host.report import figures

    labels = [row.label for row in METRICS.values()]
    assert all(labels) and len(set(labels)) == len(labels)
    monkeypatch.setitem(METRICS, "bleu", METRICS["bleu"]._replace(label="BLEU-4"))
    df = figures.records_frame(load_records(SMOKE))
    df["skipped.bleu"] = "no translator in this run"
    fig, ax = figures.plt.subplots()
    try:
        figures._missing_note(ax, df, ["bleu"], [])
        assert "BLEU-4 SKIPPED: no translator" in ax.get_xlabel()
    finally:
        figures.plt.close(fig)


def test_the_modules_rows_name_are_in_the_device_closure_vermin_checks():
    from artifact import layers

    planted = 'ROW = ("clustering", "artifact.device.compress.clustering:cluster")\nOTHER = "artifact.host.x:y"\n'
    assert layers.dispatched_modules(planted) == ["artifact.device.compress.clustering"]
    closure = layers.device_closure()
    for row in TECHNIQUES.values():
        module = row.compress.partition(":")[0]
        assert module.replace(".", "/") + ".py" in closure, module
