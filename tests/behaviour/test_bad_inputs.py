"""Nothing wrong passes silently: every bad input a user or a run can leave is one line, exit 2, no traceback,
and changes no record. Profiles, claims, records, run/inputs/verdicts files, results directories.

Each case writes a small bad file into a copy of a committed reference run (or a profile file) and calls the
command line in-process, as a user would from the shell.
"""
import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from artifact.cli import main
from artifact.core.errors import FormatError
from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.core.records import load_record

SMOKE = os.path.join(ROOT, "expected_results", "reference", "smoke")
CLAIMS = os.path.join(ROOT, "expected_results", "claims")
RECORD = "mini_vgg__quantize__bits-8"


def _snapshot(folder):
    out = {}
    for base, _, files in os.walk(folder):
        for name in files:
            if name != ".lock":
                with open(os.path.join(base, name), "rb") as handle:
                    out[os.path.relpath(os.path.join(base, name), folder)] = handle.read()
    return out


def _one_line_error(argv, capsys, *names):
    """Run the command; it must exit 2 with one line that names every one of `names`."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (code, captured.err[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err[-2000:]
    assert "Traceback" not in captured.err
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


# --------------------------------------------------------------------------- profiles

GOOD_GROUP = "[[group]]\ntechnique = 'baseline'\nmodels = ['mini_vgg']\nmetrics = ['params']\n"
PROFILE_CASES = [
    ("format_version = 1\nname = 'x'\n[[group]\n", "not valid TOML"),
    ("format_version = 2\nname = 'x'\n" + GOOD_GROUP, "format_version 2"),
    ("name = 'x'\n" + GOOD_GROUP, "format_version None"),
    ("format_version = 1\n" + GOOD_GROUP, "missing field 'name'"),
    ("format_version = 1\nname = 3\n" + GOOD_GROUP, "field 'name' must be"),
    ("format_version = 1\nname = 'x'\n", "missing field 'group'"),
    ("format_version = 1\nname = 'x'\ngroup = []\n", "no [[group]] tables"),
    ("format_version = 1\nname = 'x'\ngroup = 'all'\n", "field 'group' must be"),
    ("format_version = 1\nname = 'x'\nnmae = 'y'\n" + GOOD_GROUP, "'nmae' is not a profile field"),
    ("format_version = 1\nname = 'x'\ndescription = 4\n" + GOOD_GROUP, "description must be a string"),
    ("format_version = 1\nname = 'x'\nrequires = 'imagenet'\n" + GOOD_GROUP, "requires must be a list"),
    ("format_version = 1\nname = 'x'\nrequires = ['imagnet']\n" + GOOD_GROUP, "'imagnet' is not a known input"),
    ("format_version = 1\nname = 'x'\nstands_for = 'vgg'\n" + GOOD_GROUP, "[stands_for] must map"),
    ("format_version = 1\nname = 'x'\n[stands_for]\nmini_vgg = 'vgg_16'\n" + GOOD_GROUP, "must be a non-empty list"),
    ("format_version = 1\nname = 'x'\n[stands_for]\nmini_vgx = ['vgg_16']\n" + GOOD_GROUP, "model 'mini_vgx' unknown"),
    ("format_version = 1\nname = 'x'\nmeasurement = 3\n" + GOOD_GROUP, "[measurement] must be a table"),
    ("format_version = 1\nname = 'x'\n[measurement]\nrepeats = 3\n" + GOOD_GROUP, "'repeats' is not a setting"),
    ("format_version = 1\nname = 'x'\n[measurement]\nmin_windows = 'six'\n" + GOOD_GROUP, "must be a number"),
    ("format_version = 1\nname = 'x'\n[measurement]\nmin_windows = 0\n" + GOOD_GROUP, "must be above 0"),
    ("format_version = 1\nname = 'x'\n[measurement]\nci_target = -0.1\n" + GOOD_GROUP, "must be above 0"),
    ("format_version = 1\nname = 'x'\n[measurement]\neval_samples = -5\n" + GOOD_GROUP, "must be at least 0"),
    ("format_version = 1\nname = 'x'\n[measurement]\nkeep_model_files = 'no'\n" + GOOD_GROUP, "true or false"),
    ("format_version = 1\nname = 'x'\n[measurement]\nmax_windows = 2.5\n" + GOOD_GROUP, "whole number"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'zip'\nmodels = ['mini_vgg']\nmetrics = ['params']\n",
     "technique 'zip' unknown"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 4\nmodels = ['mini_vgg']\nmetrics = ['params']\n",
     "field 'technique' must be"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodels = ['mini_vgg']\nmetrics = []\n",
     "metrics must be a non-empty list"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodels = ['mini_vgg']\nmetrics = ['fps']\n",
     "metric 'fps' unknown"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodels = []\nmetrics = ['params']\n",
     "models must be a non-empty list"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodels = ['vgg16']\nmetrics = ['params']\n",
     "model 'vgg16' unknown"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = [{bit = 8}]\nmetrics = ['params']\n", "quantize has no setting 'bit'"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = [{bits = 33}]\nmetrics = ['params']\n", "bits = 33 is not valid"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = [{bits = '8'}]\nmetrics = ['params']\n", "bits = '8' is not valid"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = {bits = 8}\nmetrics = ['params']\n", "settings must be a non-empty list of tables"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = ['bits=8']\nmetrics = ['params']\n", "must be a table like {bits = 8}"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'prune'\nmodels = ['mini_vgg']\n"
     "metrics = ['params']\n", "prune needs setting 'threshold'"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'prune'\nmodels = ['mini_vgg']\n"
     "settings = [{threshold = 0}]\nmetrics = ['params']\n", "threshold = 0 is not valid"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'magnitude_prune'\nmodels = ['mini_vgg']\n"
     "settings = [{sparsity = 1.0}]\nmetrics = ['params']\n", "sparsity = 1.0 is not valid"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'litert'\nmodels = ['mini_vgg']\n"
     "settings = [{mode = 'int4'}]\nmetrics = ['params']\n", "mode = 'int4' is not valid"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodels = ['mini_vgg']\n"
     "settings = [{bits = 8}]\nmetrics = ['params']\n", "baseline has no setting 'bits'"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'baseline'\nmodel = ['mini_vgg']\n"
     "metrics = ['params']\n", "'model' is not a group field"),
    ("format_version = 1\nname = 'x'\n" + GOOD_GROUP + GOOD_GROUP, "appears twice"),
    ("format_version = 1\nname = 'x'\n[[group]]\ntechnique = 'quantize'\nmodels = ['mini_vgg']\n"
     "settings = [{bits = 8}, {bits = 8}]\nmetrics = ['params']\n", "appears twice"),
]


@pytest.mark.parametrize(("text", "message"), PROFILE_CASES)
def test_a_bad_profile_is_one_line_before_anything_runs(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    _one_line_error(["run", "--profile", str(path), "--results", str(tmp_path / "out")], capsys, str(path), message)
    assert not (tmp_path / "out").exists()


def test_a_profile_in_latin1_is_one_line(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"format_version = 1\nname = 'caf\xe9'\n")
    _one_line_error(["run", "--profile", str(path)], capsys, str(path), "not UTF-8")


def test_a_profile_that_is_a_directory_is_one_line(tmp_path, capsys):
    (tmp_path / "p.toml").mkdir()
    _one_line_error(["run", "--profile", str(tmp_path / "p.toml")], capsys, "is a directory")


def test_an_unknown_profile_name_is_one_line(capsys):
    _one_line_error(["run", "--profile", "embeded"], capsys, "unknown profile 'embeded'", "embedded")


# --------------------------------------------------------------------------- claims

CLAIM = """format_version = 1
[[claim]]
id = "x/storage"
source = "§IV-C"
statement = "8-bit quantization cuts storage by 75%"
metric = "storage_bytes"
models = ["vgg_16"]
technique = "quantize"
setting = {bits = 8}
statistic = "reduction_pct"
paper_value = 75.0
rule = {kind = "absolute", tolerance = 2.0, why = "sizes are exact"}
"""
CLAIM_CASES = [
    (CLAIM.replace("tolerance = 2.0", 'tolerance = "two"'), "tolerance: must be a number"),
    (CLAIM.replace("tolerance = 2.0", "tolerence = 2.0"), "unknown field 'tolerence'"),
    (CLAIM.replace("tolerance = 2.0", "tolerance = -1.0"), "must be a finite number >= 0"),
    (CLAIM.replace("setting = {bits = 8}", 'setting = "bits=8"'), "must be a table like {bits = 8}"),
    (CLAIM.replace("setting = {bits = 8}", "setting = {bit = 8}"), "quantize has no setting 'bit'"),
    (CLAIM.replace("setting = {bits = 8}", "setting = {bits = 33}"), "bits = 33 is not valid"),
    (CLAIM.replace('metric = "storage_bytes"', 'metric = "size"'), "metric 'size' is not one of"),
    (CLAIM.replace('technique = "quantize"', 'technique = "quantise"'), "technique 'quantise' is not one of"),
    (CLAIM.replace('models = ["vgg_16"]', 'models = ["vgg16"]'), "model 'vgg16' unknown"),
    (CLAIM.replace('models = ["vgg_16"]', "models = []"), "models must be a non-empty list"),
    (CLAIM.replace('models = ["vgg_16"]', 'models = "vgg_16"'), "field 'models' must be list"),
    (CLAIM.replace('kind = "absolute"', 'kind = "roughly"'), "rule kind 'roughly' is not one of"),
    (CLAIM.replace('why = "sizes are exact"', 'on_miss = "deviation"'), "unknown field 'on_miss'"),
    (CLAIM.replace('why = "sizes are exact"', 'outer = 1.0'), "outer: 1.0 must be a finite number >= the tolerance"),
    (CLAIM.replace('why = "sizes are exact"', 'sided = "both"'), "sided 'both' is not one of"),
    (CLAIM.replace('why = "sizes are exact"', 'relation = "<="'), "relation '<=' is not one of"),
    (CLAIM.replace("paper_value = 75.0", 'paper_value = "75"'), "field 'paper_value' must be float"),
    (CLAIM.replace('id = "x/storage"\n', ""), "missing field 'id'"),
    (CLAIM.replace('statistic = "reduction_pct"', 'statistic = "percent"'), "statistic 'percent' is not one of"),
    (CLAIM.replace("rule = {", 'stand_ins = "yes"\nrule = {'), "stand_ins: must be true or false"),
    (CLAIM.replace("rule = {", 'colour = "red"\nrule = {'), "unknown field 'colour'"),
    (CLAIM.replace('kind = "absolute"', 'kind = "binomial"'), "a binomial rule judges"),
    (CLAIM.replace("format_version = 1", "format_version = 2"), "format_version 2"),
    (CLAIM.replace("[[claim]]", "[[claims]]"), "unknown field 'claims'"),
    (CLAIM + CLAIM.replace("format_version = 1\n", ""), "defined twice"),
    (CLAIM.replace("rule = {", "rule = 3\n#"), "field 'rule' must be dict"),
    (CLAIM.replace("[[claim]]", "[[claim]\n"), "not valid TOML"),
]


@pytest.fixture
def smoke_run(tmp_path):
    results = tmp_path / "smoke"
    shutil.copytree(SMOKE, results)
    return results


@pytest.mark.parametrize(("text", "message"), CLAIM_CASES)
def test_a_bad_claims_file_is_one_line(smoke_run, tmp_path, capsys, text, message):
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "bad.toml").write_text(text)
    before = _snapshot(str(smoke_run))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run), "--claims", str(claims)], capsys,
                    "bad.toml", message)
    assert _snapshot(str(smoke_run)) == before


def test_an_empty_claims_directory_is_one_line_not_a_silent_pass(smoke_run, tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run), "--claims", str(tmp_path / "claims")],
                    capsys, "no claims files")


def test_a_claims_file_in_latin1_is_one_line(smoke_run, tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "bad.toml").write_bytes(CLAIM.replace("§", "\xa7").encode("latin-1"))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run), "--claims", str(tmp_path / "claims")],
                    capsys, "bad.toml", "not UTF-8")


# --------------------------------------------------------------------------- records

def _edit(record):
    def edit(data):
        record(data)
        return data
    return edit


RECORD_CASES = [
    (lambda d: d.update(measurements=[]), "measurements: must be a table"),
    (lambda d: d["cell"].pop("key"), "missing field 'key'"),
    (lambda d: d["cell"].update(setting="bits-8"), "cell.setting: must be a table"),
    (lambda d: d["cell"].update(setting={"bits": 33}), "bits = 33 is not valid"),
    (lambda d: d["cell"].update(technique="quantise"), "technique 'quantise' unknown"),
    (lambda d: d["cell"].update(metrics=["fps"]), "unknown metric 'fps'"),
    (lambda d: d["cell"].update(key="mini_vgg__quantize__bits-6"), "its model, technique and setting make"),
    (lambda d: d["measurements"]["storage_bytes"].update(samples="409893"), "samples: must be a list"),
    (lambda d: d["measurements"]["storage_bytes"].update(samples=[1, "x"]), "samples[1]: must be a number"),
    (lambda d: d["measurements"]["storage_bytes"].update(samples=[True]), "samples[0]: must be a number"),
    (lambda d: d["measurements"]["storage_bytes"].update(unit="MB"), "storage_bytes is measured in 'bytes'"),
    (lambda d: d["measurements"]["storage_bytes"].update(converged="yes"), "converged: must be true or false"),
    (lambda d: d["measurements"]["storage_bytes"].update(notes=[]), "notes: must be a table"),
    (lambda d: d["measurements"]["storage_bytes"].update(flags="bad"), "flags: must be a list"),
    (lambda d: d["measurements"]["storage_bytes"].update(flags=[3]), "flags[0]: must be a string"),
    (lambda d: d["measurements"]["storage_bytes"].update(sample=[1.0]), "unknown field 'sample'"),
    (lambda d: d["measurements"]["storage_bytes"].pop("samples"), "missing field 'samples'"),
    (lambda d: d["measurements"].update(fps={"samples": [1.0]}), "measurements.fps: unknown metric"),
    (lambda d: d["measurements"].update(top1=3), "measurements.top1: must be a table"),
    (lambda d: d.update(skipped={"energy_j": 5}), "skipped.energy_j: must be a string"),
    (lambda d: d.update(duration_s="long"), "duration_s: must be a number"),
    (lambda d: d.update(environment=[]), "environment: must be a table"),
    (lambda d: d.update(provenance="here"), "provenance: must be a table"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d.update(format_version=2), "format_version 2"),
    (lambda d: d.update(kind="artifact-verdicts"), "not an artifact-record file"),
]


@pytest.mark.parametrize(("change", "message"), RECORD_CASES)
def test_a_malformed_record_is_one_line_naming_file_and_field(smoke_run, capsys, change, message):
    path = smoke_run / "records" / (RECORD + ".json")
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    before = _snapshot(str(smoke_run / "records"))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, RECORD + ".json", message)
    assert _snapshot(str(smoke_run / "records")) == before


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"[1, 2]", "not an artifact-record file"),
    (b'{"kind": "artifact-record", "format_version": 1, "cell": "x"}', "cell: must be a table"),
    ("{\"kind\": \"caf\xe9\"}".encode("latin-1"), "not UTF-8"),
])
def test_a_record_file_that_is_not_a_record_is_one_line(smoke_run, capsys, content, message):
    (smoke_run / "records" / (RECORD + ".json")).write_bytes(content)
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, RECORD + ".json", message)


def test_a_record_under_another_cells_file_name_is_one_line(smoke_run, capsys):
    """Two files cannot claim one cell: the file name must be the cell key (no silent last-writer-wins)."""
    records = smoke_run / "records"
    shutil.copy(records / (RECORD + ".json"), records / "copy.json")
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, "copy.json",
                    "holds the record of cell 'mini_vgg__quantize__bits-8'")


def test_run_sets_a_malformed_record_aside_instead_of_looping(smoke_run, capsys):
    """The advice for a bad record is `run`; run must then not refuse the same file (it used to)."""
    from artifact.core.profiles import load_profile
    from artifact.device.run.parent import pending_cells

    path = smoke_run / "records" / (RECORD + ".json")
    data = json.loads(path.read_text())
    data["format_version"] = 2
    path.write_text(json.dumps(data))
    todo = pending_cells(load_profile("smoke"), str(smoke_run), set_aside=True)
    assert [c.key for c in todo] == [RECORD]
    assert (smoke_run / "records" / (RECORD + ".json.broken")).exists() and not path.exists()
    assert "set aside as" in capsys.readouterr().err


def test_non_finite_samples_are_read_back_and_judged_not_refused(smoke_run, capsys):
    path = smoke_run / "records" / (RECORD + ".json")
    data = json.loads(path.read_text())
    data["measurements"]["storage_bytes"]["samples"] = ["NaN"]
    path.write_text(json.dumps(data))
    assert main(["check", "--profile", "smoke", "--results", str(smoke_run)]) in (0, 1)
    verdicts = json.loads((smoke_run / "verdicts.json").read_text())["verdicts"]
    judged = [v for v in verdicts if v["metric"] == "storage_bytes" and RECORD in v["evidence"]]
    assert judged and all(v["outcome"] == "FAIL" and "measured value is undefined" in v["explanation"]
                          for v in judged)


# ---------------------------------------------------------------- run, inputs and verdicts files, directories

@pytest.mark.parametrize(("name", "content", "command", "message"), [
    ("run.json", b"{", "check", "not valid JSON"),
    ("run.json", b'{"kind": "artifact-verdicts", "format_version": 1}', "check", "not an artifact-run file"),
    ("run.json", b'{"kind": "artifact-run", "format_version": 1, "stands_for": []}', "check",
     "stands_for: must be a table"),
    ("run.json", b'{"kind": "artifact-run", "format_version": 1, "stands_for": {"mini_vgg": "vgg_16"}}', "check",
     "stands_for.mini_vgg: must be a list"),
    ("verdicts.json", b'{"kind": "artifact-verdicts", "format_version": 1, "verdicts": [{"x": 1}]}', "report",
     "malformed verdicts"),
    ("verdicts.json", b"[]", "report", "not an artifact-verdicts file"),
    ("inputs.json", b'{"kind": "artifact-inputs", "format_version": 1, "inputs": []}', "run",
     "inputs: must be a table"),
    ("inputs.json", b'{"kind": "artifact-run", "format_version": 1}', "run", "not an artifact-inputs file"),
])
def test_a_bad_run_inputs_or_verdicts_file_is_one_line(smoke_run, capsys, name, content, command, message):
    (smoke_run / name).write_bytes(content)
    if command == "run":  # a cell left to measure, so run reads inputs.json
        os.remove(smoke_run / "records" / (RECORD + ".json"))
    before = _snapshot(str(smoke_run / "records"))
    _one_line_error([command, "--profile", "smoke", "--results", str(smoke_run)], capsys, name, message)
    assert _snapshot(str(smoke_run / "records")) == before


def test_results_that_are_a_file_are_one_line(tmp_path, capsys):
    (tmp_path / "results").write_text("x")
    _one_line_error(["run", "--profile", "smoke", "--results", str(tmp_path / "results")], capsys,
                    "is a file, not a directory")


def test_records_that_are_a_file_are_one_line(smoke_run, capsys):
    shutil.rmtree(smoke_run / "records")
    (smoke_run / "records").write_text("x")
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, "records",
                    "not a records directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_results_are_one_line(smoke_run, capsys):  # pragma: no cover - CI runs as root
    os.chmod(smoke_run, 0o555)
    try:
        _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, "writ")
    finally:
        os.chmod(smoke_run, 0o755)


def test_a_second_writer_is_refused_naming_the_first(smoke_run, capsys):
    from artifact.core.results import ResultsDir

    with ResultsDir(str(smoke_run)).writer("artifact run --profile smoke"):
        line = _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys,
                               "is in use by pid {}".format(os.getpid()), "artifact run --profile smoke")
    assert "wait for it" in line
    assert main(["check", "--profile", "smoke", "--results", str(smoke_run)]) in (0, 1)  # released


def test_a_lock_left_by_a_killed_process_is_taken_over(smoke_run):
    import subprocess
    import sys

    code = ("import os, sys; from artifact.core.results import ResultsDir\n"
            "with ResultsDir(sys.argv[1]).writer('killed'):\n    os.kill(os.getpid(), 9)")
    subprocess.run([sys.executable, "-c", code, str(smoke_run)], cwd=ROOT)
    (smoke_run / "records" / ".tmp-abc.json").write_text("{")   # a write the kill interrupted
    assert main(["check", "--profile", "smoke", "--results", str(smoke_run)]) in (0, 1)
    assert not (smoke_run / "records" / ".tmp-abc.json").exists()


@pytest.mark.parametrize("argv", [
    ["check", "--profile", "smoke", "--results", "/nonexistent/smoke"],
    ["report", "--profile", "smoke", "--results", "/nonexistent/smoke"],
])
def test_a_results_directory_that_does_not_exist_is_one_line(capsys, argv):
    _one_line_error(argv, capsys, "/nonexistent/smoke")


def test_against_a_directory_without_verdicts_is_one_line_and_writes_nothing(smoke_run, tmp_path, capsys):
    before = _snapshot(str(smoke_run))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run), "--against", str(tmp_path)],
                    capsys, "--against", "no verdicts.json")
    assert _snapshot(str(smoke_run)) == before   # refused before check wrote verdicts.json, results.csv, run.json


# --------------------------------------------------------------------------- property: any record mutation

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                   max_size=3), max_leaves=8)
FIELDS = st.sampled_from(["cell", "measurements", "skipped", "environment", "provenance", "duration_s", "started_at",
                          "format_version", "kind", "cell.key", "cell.setting", "cell.metrics", "cell.technique",
                          "measurements.storage_bytes", "measurements.storage_bytes.samples",
                          "measurements.storage_bytes.unit", "measurements.storage_bytes.notes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=FIELDS, value=JSON)
@example(path="measurements", value={"\n": None})      # found by a CI-like run: a metric name with a newline
@example(path="phases", value={"a\nb": "not seconds"})
def test_any_mutation_of_a_record_loads_or_is_a_format_error(tmp_path, path, value):
    """Whatever a field is replaced by, loading gives a record or a FormatError: never another exception."""
    with open(os.path.join(SMOKE, "records", RECORD + ".json")) as handle:
        data = json.load(handle)
    target, *rest = path.split(".")
    holder, key = data, target
    for part in rest:
        holder, key = holder[key], part
    holder[key] = value
    out = tmp_path / (RECORD + ".json")
    out.write_text(json.dumps(data))
    try:
        record = load_record(str(out))
    except FormatError as exc:
        assert "\n" not in str(exc) and str(out) in str(exc)
    else:
        assert record.key == RECORD


PROFILE_FIELDS = st.sampled_from(["name", "description", "requires", "stands_for", "measurement", "group",
                                  "measurement.min_windows", "measurement.paired_timing", "stands_for.mini_vgg",
                                  "group.0", "group.0.technique", "group.0.models", "group.0.settings",
                                  "group.0.settings.0", "group.0.settings.0.bits", "group.0.metrics",
                                  "group.0.metrics.0", "group.0.models.0"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=PROFILE_FIELDS, value=JSON)
def test_any_mutation_of_a_profile_loads_or_is_a_config_error(path, value):
    """Whatever a profile field is replaced by, parsing gives a profile or a one-line ConfigError."""
    from artifact.core.errors import ConfigError
    from artifact.core.profiles import parse_profile

    data = {"format_version": 1, "name": "x", "description": "", "requires": [],
            "stands_for": {"mini_vgg": ["vgg_16"]}, "measurement": {"min_windows": 5, "paired_timing": True},
            "group": [{"technique": "quantize", "models": ["mini_vgg"], "settings": [{"bits": 8}],
                       "metrics": ["params"]}]}
    holder, key = None, None
    node = data
    for part in path.split("."):
        holder, key = node, int(part) if part.isdigit() else part
        node = holder[key]
    holder[key] = value
    try:
        profile = parse_profile(data, "p.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("p.toml")
    else:
        assert profile.cells


# --------------------------------------------------------------------------- the newer commands, as strict

MORE_RECORD_CASES = [
    (lambda d: d["measurements"]["storage_bytes"].update(samples=[-409893]), "storage_bytes.samples[0]", "outside"),
    (lambda d: d["measurements"].update(top1={"samples": [7.5]}), "top1.samples[0]", "outside"),
    (lambda d: d["measurements"].update(power_peak_w={"samples": [1e6]}), "power_peak_w.samples[0]", "outside"),
    (lambda d: d["measurements"].update(inference_time_s={"samples": [0.01], "notes": {"paired_ratio": 1e300}}),
     "inference_time_s.notes.paired_ratio", "outside"),
    (lambda d: d["measurements"].update(inference_time_s={"samples": [0.01], "notes": {"paired_ratio": "x"}}),
     "inference_time_s.notes.paired_ratio", "must be a number"),
]


@pytest.mark.parametrize(("change", "field_path", "message"), MORE_RECORD_CASES)
def test_an_edited_record_with_an_impossible_value_is_one_line(smoke_run, capsys, change, field_path, message):
    path = smoke_run / "records" / (RECORD + ".json")
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    before = _snapshot(str(smoke_run))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, RECORD + ".json",
                    field_path, message)
    assert _snapshot(str(smoke_run)) == before


def _verdicts(smoke_run, change):
    path = smoke_run / "verdicts.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["verdicts"][0].update(outcome="MAYBE"), "verdicts[0].outcome"),
    (lambda d: d["verdicts"][0].pop("source"), "verdicts[0]: missing field 'source'"),
    (lambda d: d["verdicts"][0].update(models=[]), "verdicts[0].models"),
    (lambda d: d.update(verdicts={"a": 1}), "verdicts: must be a list"),
    (lambda d: d.update(verdicts=[3]), "verdicts[0]: must be a table"),
    # fields the summary reads beyond the first five (verdicts[5] is judged: graded, plotted, ranked)
    (lambda d: d["verdicts"][5].update(grade="clean"), "verdicts[5].grade: must be a table"),
    (lambda d: d["verdicts"][0].update(grade={"level": "gold"}), "verdicts[0].grade.level"),
    (lambda d: d["verdicts"][0].update(grade={"level": "stand-in", "model": "stand-in", "platform": "x86 CPU",
                                              "sensor": "none", "quality": "lots"}), "verdicts[0].grade.quality"),
    (lambda d: d["verdicts"][5].update(evidence="mini_vgg__baseline__fp32"), "verdicts[5].evidence: must be a list"),
    (lambda d: d["verdicts"][5].update(evidence=[["a"]]), "verdicts[5].evidence[0]: must be a string"),
    (lambda d: d["verdicts"][5].update(flags={"a": 1}), "verdicts[5].flags: must be a list"),
    (lambda d: d["verdicts"][5].update(metric=["storage_bytes"]), "verdicts[5].metric: must be a string"),
    (lambda d: d["verdicts"][5].update(metric="fps"), "verdicts[5].metric: 'fps' is not a metric"),
    (lambda d: d["verdicts"][5].pop("metric"), "verdicts[5]: missing field 'metric'"),
    (lambda d: d["verdicts"][5].pop("paper_value"), "verdicts[5]: missing field 'paper_value'"),
    (lambda d: d["verdicts"][5].update(paper_value="75"), "verdicts[5].paper_value: must be a number"),
    (lambda d: d["verdicts"][5].update(measured="9.5"), "verdicts[5].measured: must be a number"),
    (lambda d: d["verdicts"][5].update(measured=True), "verdicts[5].measured: must be a number"),
])
def test_summary_refuses_malformed_verdicts_in_one_line(smoke_run, tmp_path, capsys, change, message):
    _verdicts(smoke_run, change)
    _one_line_error(["summary", "--results", str(smoke_run), "--out", str(tmp_path / "out")], capsys,
                    "verdicts.json", message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["verdicts"][5].pop("metric"), "verdicts[5]: missing field 'metric'"),
    (lambda d: d["verdicts"][5].update(measured="9.5"), "verdicts[5].measured: must be a number"),
    (lambda d: d["verdicts"][0].update(outcome="MAYBE"), "verdicts[0].outcome"),
    (lambda d: d.update(verdicts={"a": 1}), "verdicts: must be a list"),
])
def test_check_against_refuses_malformed_reference_verdicts_in_one_line(smoke_run, tmp_path, capsys, change, message):
    """--against reads the other run's verdicts with the same reader as summary, before anything is written."""
    reference = tmp_path / "reference"
    shutil.copytree(str(smoke_run), str(reference))
    _verdicts(reference, change)
    before = _snapshot(str(smoke_run))
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run), "--against", str(reference)],
                    capsys, str(reference / "verdicts.json"), message)
    assert _snapshot(str(smoke_run)) == before


def test_summary_refuses_a_results_directory_that_is_missing(smoke_run, tmp_path, capsys):
    _one_line_error(["summary", "--results", "{},{}".format(smoke_run, tmp_path / "nope"), "--out",
                     str(tmp_path / "out")], capsys, str(tmp_path / "nope"))
    assert not (tmp_path / "out").exists()


def test_summary_refuses_an_out_that_is_a_file(smoke_run, tmp_path, capsys):
    (tmp_path / "out").write_text("mine")
    _one_line_error(["summary", "--results", str(smoke_run), "--out", str(tmp_path / "out")], capsys,
                    "--out", str(tmp_path / "out"), "not a directory")
    assert (tmp_path / "out").read_text() == "mine"


@pytest.mark.parametrize("value", ["nan", "-1", "inf", "-inf"])
@pytest.mark.parametrize("option", ["--max-size-mb", "--max-latency-ms", "--max-energy-mj"])
def test_advise_refuses_a_constraint_that_is_not_a_finite_bound(smoke_run, capsys, option, value):
    _one_line_error(["advise", "--profile", "smoke", "--results", str(smoke_run), option + "=" + value], capsys,
                    option, value)


@pytest.mark.parametrize(("option", "value"), [
    ("--minutes", "nan"), ("--minutes", "-5"), ("--minutes", "inf"), ("--minutes", "0"), ("--batch", "0"),
    ("--batch", "-3"), ("--batch", "x"), ("--seed", "-1"), ("--seed", str(2 ** 32)), ("--trials", "-1"),
    ("--techniques", "zip"), ("--model", "vgg16"),
])
def test_explore_refuses_a_bad_option_and_writes_nothing(smoke_run, capsys, option, value):
    before = _snapshot(str(smoke_run))
    _one_line_error(["explore", "--profile", "smoke", "--results", str(smoke_run), option + "=" + value], capsys,
                    option, value)
    assert _snapshot(str(smoke_run)) == before
    assert not (smoke_run / "explore").exists() and not (smoke_run / "explore.db").exists()


def test_an_explore_refused_by_the_lock_writes_nothing(smoke_run, capsys):
    """The lock is taken before the study is opened: no explore.db, no explore/, no known trials added."""
    from artifact.core.results import ResultsDir

    before = _snapshot(str(smoke_run))
    with ResultsDir(str(smoke_run)).writer("artifact run --profile smoke"):
        _one_line_error(["explore", "--profile", "smoke", "--results", str(smoke_run), "--trials", "1"], capsys,
                        "is in use by pid {}".format(os.getpid()))
    assert _snapshot(str(smoke_run)) == before
    assert not (smoke_run / "explore").exists() and not (smoke_run / "explore.db").exists()


def test_explore_refuses_a_corrupt_or_directory_database(smoke_run, capsys):
    (smoke_run / "explore.db").write_bytes(b"this is not a database, it is a note\n" * 40)
    before = _snapshot(str(smoke_run))
    _one_line_error(["explore", "--profile", "smoke", "--results", str(smoke_run)], capsys, "explore.db",
                    "not an SQLite database")
    assert _snapshot(str(smoke_run)) == before
    os.remove(smoke_run / "explore.db")
    (smoke_run / "explore.db").mkdir()
    _one_line_error(["explore", "--profile", "smoke", "--results", str(smoke_run)], capsys, "explore.db",
                    "is a directory")


def test_explore_refuses_a_foreign_study_under_the_models_name(smoke_run, capsys):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = "sqlite:///" + str(smoke_run / "explore.db")
    study = optuna.create_study(study_name="mini_vgg", storage=storage, direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("lr", 0.0, 1.0), n_trials=3)
    _one_line_error(["explore", "--profile", "smoke", "--results", str(smoke_run), "--trials", "1"], capsys,
                    "explore.db", "mini_vgg", "not an explore study")


def test_the_lock_file_is_never_followed_through_a_symlink(smoke_run, tmp_path, capsys):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    (smoke_run / ".lock").symlink_to(outside)
    _one_line_error(["check", "--profile", "smoke", "--results", str(smoke_run)], capsys, ".lock",
                    "symbolic link")
    assert outside.read_text() == "keep me"


def test_a_synset_mapping_in_latin1_is_one_line(tmp_path):
    from artifact.device.models.data.imagenet import _read_synset_mapping

    path = tmp_path / "LOC_synset_mapping.txt"
    path.write_bytes("n01440764 tench, caf\xe9\n".encode("latin-1"))
    with pytest.raises(FormatError) as info:
        _read_synset_mapping(str(path))
    assert "\n" not in str(info.value) and str(path) in str(info.value) and "not UTF-8" in str(info.value)


def test_a_bad_eval_samples_variable_blames_the_variable(smoke_run, capsys, monkeypatch):
    monkeypatch.setenv("ARTIFACT_EVAL_SAMPLES", "abc")
    # `run` takes --eval-samples (and so reads the variable); the value is refused while parsing, before any work
    line = _one_line_error(["run", "--profile", "smoke", "--results", str(smoke_run)], capsys,
                           "ARTIFACT_EVAL_SAMPLES", "abc")
    assert "--eval-samples" not in line.split(":")[0]
    monkeypatch.delenv("ARTIFACT_EVAL_SAMPLES")
    _one_line_error(["run", "--profile", "smoke", "--results", str(smoke_run), "--eval-samples", "abc"], capsys,
                    "--eval-samples", "abc")


# --------------------------------------------------------------------------- property: any option, any value

HOSTILE = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "-0", "1e309", "1e300", "2.5", "abc", "", " ", "..",
                           "/nonexistent", "a,b", ",", "mini_vgg", "smoke", "size", "4294967296", "-99999999999"]) \
    | st.text(max_size=6)
RUNS_HERE = ("check", "summary", "advise", "explore", "list")  # measuring ones are parsed, their work stubbed
FLEET_FILE = '[[board]]\nname = "tx2-a"\nkind = "tx2"\nengine = "local"\n'   # one local board, this machine's /


def _subcommands():
    from artifact.cli import build_parser

    parser = build_parser()
    return next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices


def _variables():
    """{(command, option): ARTIFACT_* variable} of every option whose default an environment variable sets: found by
    building the parser with each variable of artifact/cli.py set alone and seeing which defaults move."""
    import re
    from unittest import mock

    with open(os.path.join(ROOT, "artifact", "cli.py")) as handle:
        names = sorted(set(re.findall(r"ARTIFACT_[A-Z_]+", handle.read())))

    def defaults():
        return {(command, action.option_strings[0]): action.default for command, sub in _subcommands().items()
                for action in sub._actions if action.option_strings and action.dest != "help"}

    def alone(name):   # the environment with `name` = "1" and no other of them (conftest.py sets some)
        return dict({k: v for k, v in os.environ.items() if k not in names}, **({name: "1"} if name else {}))

    with mock.patch.dict(os.environ, alone(None), clear=True):
        plain = defaults()
    found = {}
    for name in names:
        with mock.patch.dict(os.environ, alone(name), clear=True):
            found.update((pair, name) for pair, default in defaults().items() if default != plain[pair])
    return found


VARIABLES = _variables()


def _pairs():
    """Every (command, option) of the command line, each with the variable that sets its default (or None); flags
    (no value) only where a variable sets them."""
    out = []
    for command, sub in sorted(_subcommands().items()):
        for action in sub._actions:
            if not action.option_strings or action.dest == "help":
                continue
            option = action.option_strings[0]
            if action.nargs != 0 or (command, option) in VARIABLES:
                out.append((command, option, VARIABLES.get((command, option))))
    return out


PAIRS = _pairs()


def _tree(folder):
    """Every file (its bytes) and every directory under `folder`, the lock file aside."""
    out = {}
    for base, folders, files in os.walk(folder):
        for name in folders:
            out[os.path.relpath(os.path.join(base, name), folder)] = "dir"
        for name in files:
            if name != ".lock":
                with open(os.path.join(base, name), "rb") as handle:
                    out[os.path.relpath(os.path.join(base, name), folder)] = handle.read()
    return out


def test_the_property_below_covers_every_option_and_every_variable():
    commands = {c for c, _, _ in PAIRS}
    assert commands == set(_subcommands()) - {"list"}   # `list` takes no option
    assert ("fleet", "--kinds", None) in PAIRS and ("run", "--eval-samples", "ARTIFACT_EVAL_SAMPLES") in PAIRS
    assert ("run", "--allow-busy", "ARTIFACT_ALLOW_BUSY") in PAIRS
    assert ("run", "--two-stage", "ARTIFACT_TWO_STAGE") in PAIRS
    assert {v for _, _, v in PAIRS if v} >= {"ARTIFACT_IMAGENET", "ARTIFACT_CHECKPOINTS", "ARTIFACT_NMT",
                                             "ARTIFACT_RETRAINED", "ARTIFACT_IMAGENET_TRAIN", "ARTIFACT_NMT_TRAIN"}


EXAMPLE = "\x00an example"   # stands for the pair's own example below (else "-1"): run first for every pair
EXAMPLES = {("advise", "--max-size-mb"): "nan", ("explore", "--minutes"): "nan",
            ("summary", "--out"): "",          # found by a run: os.makedirs('')
            ("check", "--results"): "\x1e",   # found by a run: str.splitlines() breaks at \x1e
            ("check", "--against"): "a\x00"}  # a NUL: open() raises ValueError


@pytest.mark.parametrize(("command", "option", "variable"), PAIRS, ids=["{} {}".format(c, o) for c, o, _ in PAIRS])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=HOSTILE, via_variable=st.booleans())
@example(value=EXAMPLE, via_variable=False)
def test_any_option_with_any_value_is_done_or_one_line(tmp_path, monkeypatch, capsys, command, option, variable,
                                                       value, via_variable):
    """Every command's every option with a hostile value, on the command line or through the ARTIFACT_* variable
    that sets its default: exit 0/1, or exit 2 with one line and nothing written; never a traceback."""
    import tempfile

    from artifact import cli
    from artifact.host.explore import search
    from artifact.host.fleet import run as fleet_run

    value = EXAMPLES.get((command, option), "-1") if value == EXAMPLE else value
    work = tempfile.mkdtemp(dir=str(tmp_path))
    shutil.copytree(SMOKE, os.path.join(work, "smoke"))
    with open(os.path.join(work, "fleet.toml"), "w") as handle:
        handle.write(FLEET_FILE)
    monkeypatch.chdir(work)
    for name in {v for _, _, v in PAIRS if v}:
        monkeypatch.delenv(name, raising=False)

    class _NoRecords:
        returncode, stdout, stderr = 0, "", ""

    monkeypatch.setattr(search.subprocess, "run", lambda *a, **k: _NoRecords())  # explore measures nothing
    monkeypatch.setattr(fleet_run, "make_plan", lambda *a, **k: [])               # the fleet has nothing to do
    for name in ("run", "retrain", "reproduce", "report", "doctor"):
        monkeypatch.setattr(cli, "cmd_" + name, lambda args: 0)
    argv = [command] + (["--profile", "smoke", "--results", "smoke"] if command != "summary" else
                        ["--results", "smoke", "--out", "out"])
    argv += ["--trials", "1", "--minutes", "0.01"] if command == "explore" else []
    argv += ["fleet.toml"] if command == "fleet" else []
    flag = [a for a in _subcommands()[command]._actions if option in a.option_strings][0].nargs == 0
    if variable and (via_variable or flag):
        assume("\x00" not in value)   # an environment cannot hold a NUL
        monkeypatch.setenv(variable, value)
    else:
        argv += [option + "=" + value]
    before = _tree(work)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code in (0, 1, 2), (argv, variable, code, err[-2000:])
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, variable, err[-2000:])
        assert _tree(work) == before, (argv, variable, lines)   # a refusal writes nothing


def test_taking_the_lock_sweeps_every_leftover_and_keeps_live_checkpoints(smoke_run):
    """One cleaner, run when the lock is taken: every `.tmp-*` anywhere in the results directory (files and the
    package directories being written), the checkpoints of a cell whose package is already whole, a package renamed
    aside mid-replacement (removed when the new one is in, put back when not); never a live resume checkpoint."""
    def make(relative, text="x"):
        path = smoke_run / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    leftovers = [make(".tmp-run.json"), make("records/.tmp-abc.json"), make("models/.tmp-123.model.zip"),
                 make("retrained/.tmp-mini_vgg__prune__threshold-0.5-99/model.model.zip"),
                 make("report/.tmp-index.html"), make("report/figures/.tmp-fig.png"),
                 make("retrained/.work/mini_vgg__prune__threshold-0.5/ckpt-45.index"),
                 make("retrained/mini_vgg__prune__threshold-0.5.old-77/manifest.json")]
    whole = make("retrained/mini_vgg__prune__threshold-0.5/manifest.json", "{}")
    live = make("retrained/.work/mini_vgg__quantize_prune__bits-8_threshold-0.5/ckpt-20.index")
    aside = make("retrained/mini_vgg__prune__threshold-0.7.old-78/manifest.json", "old")
    kept = [make("report/index.html"), make("models/mini_vgg__baseline__fp32.model.zip")]
    assert main(["check", "--profile", "smoke", "--results", str(smoke_run)]) in (0, 1)
    assert [str(p) for p in leftovers if os.path.exists(p)] == []
    assert not (smoke_run / "retrained" / ".tmp-mini_vgg__prune__threshold-0.5-99").exists()
    assert not (smoke_run / "retrained" / ".work" / "mini_vgg__prune__threshold-0.5").exists()
    assert whole.exists() and live.exists() and all(p.exists() for p in kept)
    assert not aside.exists() and (smoke_run / "retrained" / "mini_vgg__prune__threshold-0.7" / "manifest.json"
                                   ).read_text() == "old"


def test_a_localization_solution_in_latin1_is_one_line(tmp_path):
    from artifact.device.models.data.imagenet import _read_loc

    path = tmp_path / "LOC_val_solution.csv"
    path.write_bytes("ImageId,PredictionString\nILSVRC2012_val_00000001,n01751748 1 2 3 4 caf\xe9\n".encode("latin-1"))
    with pytest.raises(FormatError) as info:
        _read_loc(str(path), str(tmp_path))
    assert "\n" not in str(info.value) and str(path) in str(info.value) and "not UTF-8" in str(info.value)
