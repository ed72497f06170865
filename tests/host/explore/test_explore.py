"""explore: seeded Optuna trials measured as ordinary cells, resumable without losing or repeating a trial.

The device side's `run` is replaced by a fake that writes a record for each pending cell of the generated
profile (size, time and accuracy from a known formula), so the search logic is tested exactly and fast;
tests/behaviour/test_pipeline.py and the twins run the real measurement path.
"""
import collections
import os
import shutil
import signal

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.profiles import load_profile
from artifact.core.records import Measurement, Record
from artifact.core.results import ResultsDir
from artifact.host.explore import search

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")


def _fake_values(technique, setting):
    bits = setting.get("bits", setting.get("low_bits", 32))
    keep = 1.0 - setting.get("threshold", 0.0)
    size = 300000 * keep * (bits / 32.0 if technique != "litert" else 0.25)
    time_s = 0.0006 * keep
    drop = 0.02 * (8.0 / bits if bits < 8 else 0.0) + 0.1 * (1.0 - keep) ** 2
    return size, time_s, 0.95 - drop


@pytest.fixture
def fake_run(monkeypatch):
    measured = collections.Counter()

    class _Done:
        returncode, stdout, stderr = 0, "", ""

    def run(command, **kwargs):
        profile = load_profile(command[command.index("--profile") + 1])
        results = ResultsDir(command[command.index("--results") + 1])
        done = results.load_records()
        only = command[command.index("--cells") + 1].split(",") if "--cells" in command else None
        for cell in profile.cells:
            if cell.key in done or (only is not None and cell.key not in only):
                continue
            measured[cell.key] += 1
            size, time_s, top1 = _fake_values(cell.technique, cell.setting)
            record = Record(cell.to_dict(), {})
            record.add(Measurement("storage_bytes", [size]))
            record.add(Measurement("inference_time_s", [time_s]))
            record.add(Measurement("top1", [top1], notes={"scored": 360}))
            results.save_record(record)
        return _Done()

    monkeypatch.setattr(search.subprocess, "run", run)
    return measured


@pytest.fixture
def results(tmp_path):
    shutil.copytree(SMOKE, tmp_path / "smoke")
    return ResultsDir(str(tmp_path / "smoke"))


def _explorer(results, seed=0):
    return search.Explorer("smoke", results, "mini_vgg", seed=seed, batch=2)


def test_trials_are_measured_once_each_and_told_from_their_records(results, fake_run):
    explorer = _explorer(results)
    summary = explorer.explore(trials=6, minutes=5)
    assert summary["trials"] == 6 and len(explorer.completed()) == 6
    assert all(count == 1 for count in fake_run.values())
    for trial in explorer.completed():
        record = results.load_records()[trial.user_attrs["cell"]]
        assert trial.values[0] == pytest.approx(record.value("storage_bytes") * 1e-6)


def test_the_same_seed_asks_the_same_configurations(tmp_path, fake_run):
    cells = []
    for run in ("a", "b"):
        shutil.copytree(SMOKE, tmp_path / run)
        explorer = _explorer(ResultsDir(str(tmp_path / run)), seed=7)
        explorer.explore(trials=4, minutes=5)
        cells.append([t.user_attrs["cell"] for t in explorer.completed()])
    assert cells[0] == cells[1]


def test_a_restarted_study_never_proposes_a_configuration_it_already_measured(results, fake_run):
    _explorer(results).explore(trials=3, minutes=5)
    again = _explorer(results)   # a new process, the same seed, the same explore.db
    again.explore(trials=6, minutes=5)
    cells = [t.user_attrs["cell"] for t in again.completed()]
    assert len(cells) == 6 and len(set(cells)) == 6   # six different configurations, none told twice
    assert all(count == 1 for count in fake_run.values())


def test_the_grid_records_are_known_trials_never_proposed_again(results, fake_run):
    explorer = _explorer(results)
    known = sorted(t.user_attrs["cell"] for t in explorer.study.trials if t.user_attrs.get("known"))
    assert known == ["mini_vgg__prune__threshold-0.05", "mini_vgg__quantize__bits-8"]   # smoke's grid cells
    assert explorer.completed() == []   # known trials are not the search's own
    explorer.explore(trials=6, minutes=5)
    cells = [t.user_attrs["cell"] for t in explorer.completed()]
    assert len(cells) == 6 and not set(cells) & set(known) and all(count == 1 for count in fake_run.values())
    assert _explorer(results).add_known(__import__("optuna")) == 0   # added once


def test_a_round_measures_its_trials_and_the_baseline_not_the_profiles_other_pending_cells(tmp_path, fake_run):
    explorer = search.Explorer("smoke", ResultsDir(str(tmp_path / "fresh")), "mini_vgg", batch=2)
    explorer.explore(trials=2, minutes=5)
    trials = {t.user_attrs["cell"] for t in explorer.completed()}
    assert len(trials) == 2 and set(fake_run) == trials | {"mini_vgg__baseline__fp32"}
    assert explorer.summary()["hypervolume_size_mb_top1_drop"]["explored"] > 0   # drops known: baseline measured


def test_without_known_trials_the_records_change_nothing_the_search_asks(tmp_path, fake_run):
    asked = []
    for name, source, known in (("grid", SMOKE, False), ("bare", None, True)):
        if source:
            shutil.copytree(source, tmp_path / name)
        explorer = search.Explorer("smoke", ResultsDir(str(tmp_path / name)), "mini_vgg", seed=4, batch=2,
                                   known=known)
        assert not [t for t in explorer.study.trials if t.user_attrs.get(search.KNOWN)]
        explorer.explore(trials=6, minutes=5)
        asked.append([t.user_attrs["cell"] for t in explorer.completed()])
    assert asked[0] == asked[1] and len(set(asked[0])) == 6   # the grid's records taught the first search nothing


def test_explore_no_known_is_an_option_and_a_bad_value_is_one_line():
    from artifact.cli import build_parser
    from artifact.core.errors import ConfigError

    assert build_parser().parse_args(["explore", "--no-known"]).no_known is True
    assert build_parser().parse_args(["explore"]).no_known is False
    with pytest.raises(ConfigError, match="argument --no-known: ignored explicit argument 'yes'"):
        build_parser().parse_args(["explore", "--no-known=yes"])


def test_the_sampler_is_optunas_multivariate_tpe_seeded(results):
    import optuna

    sampler = _explorer(results, seed=5).study.sampler
    assert isinstance(sampler, optuna.samplers.TPESampler) and sampler._multivariate and sampler._group


def test_a_killed_search_loses_no_trial_and_measures_none_twice(results, fake_run):
    explorer = _explorer(results)
    explorer.explore(trials=2, minutes=5)
    killed = explorer.study.ask()   # asked and written, then the process died before measuring it
    technique, setting = search.suggest(killed, explorer.techniques)
    killed.set_user_attr("cell", search.cell_key("mini_vgg", technique, setting))
    for name, value in (("technique", technique), ("setting", setting)):
        killed.set_user_attr(name, value)
    again = _explorer(results)   # a new process on the same explore.db
    assert again.recover() == 1
    again.explore(trials=3, minutes=5)
    cells = [t.user_attrs["cell"] for t in again.completed()]
    assert search.cell_key("mini_vgg", technique, setting) in cells   # the killed trial was asked again
    assert len(again.completed()) == 3 and all(count == 1 for count in fake_run.values())


def test_a_killed_trial_whose_record_exists_is_told_not_remeasured(results, fake_run):
    explorer = _explorer(results)
    killed = explorer.study.ask()
    technique, setting = search.suggest(killed, explorer.techniques)
    key = search.cell_key("mini_vgg", technique, setting)
    for name, value in (("cell", key), ("technique", technique), ("setting", setting)):
        killed.set_user_attr(name, value)
    explorer._write_profile(explorer.trial_cells())
    search.subprocess.run(["python", "-m", "artifact", "run", "--profile", explorer.profile_file, "--results",
                           results.path])   # the round's run finished, then the process died before telling
    again = _explorer(results)
    assert again.recover() == 1 and [t.user_attrs["cell"] for t in again.completed()] == [key]
    assert fake_run[key] == 1


def test_the_generated_profile_is_the_profile_plus_the_trials(results, fake_run):
    explorer = _explorer(results)
    explorer.explore(trials=3, minutes=5)
    generated = load_profile(explorer.profile_file)
    base = load_profile("smoke")
    assert [c.key for c in generated.cells][:len(base.cells)] == [c.key for c in base.cells]
    assert {c.key for c in generated.cells} >= {t.user_attrs["cell"] for t in explorer.completed()}


def test_the_summary_compares_the_explored_front_with_the_grid(results, fake_run):
    summary = _explorer(results).explore(trials=6, minutes=5)
    plane = summary["hypervolume_size_mb_top1_drop"]
    assert plane["grid"] > 0 and plane["explored"] >= 0 and plane["ratio"] == plane["explored"] / plane["grid"]
    assert summary["grid_points"] == 2 and summary["front"]


def test_a_model_outside_the_profile_is_one_line(results):
    from artifact.core.errors import ConfigError

    with pytest.raises(ConfigError, match="--model vgg_16: not in profile smoke"):
        search.Explorer("smoke", results, "vgg_16")


def test_the_report_shows_the_search_against_the_grid(results, fake_run):
    from artifact.cli import main
    from artifact.core.jsonfile import write_json_atomic

    explorer = _explorer(results)
    summary = explorer.explore(trials=4, minutes=5)
    write_json_atomic(os.path.join(explorer.folder, "mini_vgg.json"), summary)
    assert main(["check", "--profile", "smoke", "--results", results.path]) in (0, 1)
    assert main(["report", "--profile", "smoke", "--results", results.path]) == 0
    with open(os.path.join(results.report, "report.md")) as handle:
        text = handle.read()
    ratio = summary["hypervolume_size_mb_top1_drop"]["ratio"]
    assert "Explored configurations against the paper's grid" in text and "size (MB) top1 drop" in text
    assert "{:.4g}".format(ratio) in text   # the table shows the number the search computed
    assert os.path.exists(results.figure_file("explore_mini_vgg"))   # and the figure of its front against the grid


def test_the_explored_front_figure_draws_both_sets_and_names_what_lies_beyond_the_grid(results, fake_run):
    from artifact.host.advise.from_records import configs_by_model
    from artifact.host.report.figures import explored_front, plt

    summary = _explorer(results).explore(trials=4, minutes=5)
    assert len(summary["grid_records"]) == 2 and len(summary["explored_records"]) == 4
    records = results.load_records()
    names = {c.evidence[0]: c.name for c in configs_by_model(records)["mini_vgg"]}
    fig = explored_front(records, summary)
    for ax in fig.axes:
        grid, explored = (len(c.get_offsets()) for c in ax.collections[:2])
        assert (grid, explored) == (2, 4)
        labels = {t.get_text() for t in ax.texts}
        assert labels and labels <= {names[k] for k in summary["explored_records"]} - {
            names[k] for k in summary["grid_records"]}
    plt.close(fig)
    assert explored_front(records, dict(summary, explored_records=[])) is None   # nothing searched: no figure


# ---- seeded kill -9 of the real `explore` (its `run` subprocess and worker measure for real), then a re-run
def _explore_cli(results, check=True):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "artifact", "explore", "--profile", "smoke", "--results", results,
                           "--model", "mini_vgg", "--trials", "2", "--batch", "1", "--techniques", "quantize",
                           "--seed", "3"], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _kill_explore(results, seconds=None, after_model_file=None):
    """`explore` SIGKILLed (the process alone, as a crash would) after `seconds`, or `after_model_file` seconds
    after the first trial's model file is saved (while its `run` subprocess goes on to the record)."""
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "artifact", "explore", "--profile", "smoke", "--results", results, "--model",
               "mini_vgg", "--trials", "2", "--batch", "1", "--techniques", "quantize", "--seed", "3"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, ARTIFACT_ALLOW_BUSY="1"))
    models, start = os.path.join(results, "models"), time.monotonic()
    while proc.poll() is None and time.monotonic() - start < 120:
        if seconds is not None and time.monotonic() - start >= seconds:
            break
        if after_model_file is not None and os.path.isdir(models) and any(
                n.startswith("mini_vgg__quantize__") and n.endswith(".model.zip") and n != "mini_vgg__quantize__bits-8"
                ".model.zip" for n in os.listdir(models)):
            time.sleep(after_model_file)
            break
        time.sleep(0.02)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _record_bytes(results):
    folder = os.path.join(results, "records")
    return {n: open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder)} if os.path.isdir(folder) else {}


@pytest.mark.slow
@pytest.mark.parametrize("moment", [("seconds", 1), ("seconds", 2), ("model file", 3), ("model file", None)],
                         ids=["seconds-1", "seconds-2", "model-file-3", "model-file-at-once"])
def test_explore_killed_at_a_seeded_moment_then_rerun_loses_repeats_and_misstates_nothing(tmp_path, moment):
    import random
    import time

    import optuna
    from optuna.trial import TrialState

    shutil.copytree(SMOKE, tmp_path / "smoke")
    results = str(tmp_path / "smoke")
    grid = set(_record_bytes(results))
    how, seed = moment
    if how == "seconds":
        _kill_explore(results, seconds=random.Random(seed).uniform(2.0, 30.0))
    else:   # seed None: the moment the trial's model file appears (saved, its record not yet written)
        _kill_explore(results, after_model_file=0.0 if seed is None else random.Random(seed).uniform(0.0, 1.0))
    time.sleep(0.5)   # what the kill orphaned (a `run` and its worker) would be measuring now
    before = _record_bytes(results)
    _explore_cli(results)
    after = _record_bytes(results)
    for name, data in before.items():   # no configuration measured twice: a record made before the kill is kept
        assert after[name] == data, name
    study = optuna.load_study(study_name="mini_vgg", storage="sqlite:///" + os.path.join(results, "explore.db"))
    # the search's own trials (the grid's records are in the study too, as known trials it did not measure)
    done = [t for t in study.trials if t.state == TrialState.COMPLETE and not t.user_attrs.get(search.KNOWN)]
    assert len(done) == 2   # none lost
    assert not [t.number for t in study.trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    measured = {t.user_attrs.get("cell") for t in done}
    for trial in done:   # a trial complete has its record, and its values are that record's
        assert trial.user_attrs["cell"] + ".json" in after
    assert set(after) - grid == {k + ".json" for k in measured}, "a record whose cell the study does not know"
    leftovers = [os.path.join(b, n) for b, ds, fs in os.walk(results) for n in ds + fs
                 if n.startswith((".tmp-", "memory-probe-")) or ".old-" in n]
    assert leftovers == []
    assert _explore_cli(results).returncode == 0   # and the study is still explore's own on the next run


def test_a_trial_killed_before_it_named_its_cell_is_asked_again_and_the_study_stays_ours(results, fake_run):
    explorer = _explorer(results)
    explorer.explore(trials=1, minutes=5)
    cut = explorer.study.ask()   # killed between ask and the cell's name: a running trial that names no cell
    cut.suggest_categorical("technique", list(explorer.techniques))
    again = _explorer(results)
    again.explore(trials=2, minutes=5)
    assert len(_explorer(results).completed()) == 2   # opened once more: still explore's study, not a stranger's
    assert all(count == 1 for count in fake_run.values())
