"""The house plan holds: who may import whom (artifact/layers.py), one owner per fact, no TensorFlow on the host.

Each rule is tested on main and on a copy of the package with a violation planted, so the rule can fail.
"""
import os
import shutil
import subprocess
import sys

import pytest

from artifact import layers
from artifact.core import catalog, metrics, techniques
from artifact.core.paths import PROJECT_ROOT as ROOT


def test_the_house_plan_holds_on_main():
    assert layers.violations() == []


@pytest.fixture
def planted(tmp_path):
    """A copy of the artifact package to plant violations in; returns (plant(file, line), violations())."""
    copy = tmp_path / "artifact"
    shutil.copytree(os.path.join(ROOT, "artifact"), copy, ignore=shutil.ignore_patterns("__pycache__"))

    def plant(relative, line):
        with open(copy / relative, "a") as handle:
            handle.write("\n" + line + "\n")

    return plant, lambda: layers.violations(str(copy))


@pytest.mark.parametrize(("where", "line", "expected"), [
    ("device/measure/timing.py", "from artifact.host.judge import verdicts", "artifact.device.measure may import only"),
    ("device/models/tasks/mini.py", "from artifact.device.run import worker", "artifact.device.models may import only"),
    ("device/run/worker.py", "import artifact.host.report.render", "artifact.device.run may import only"),
    ("host/report/render.py", "import tensorflow", "artifact.host never imports tensorflow"),
    ("host/judge/verdicts.py", "from artifact.device.models.architectures import paper_architectures",
     "artifact.host.judge may import only"),
    ("core/records.py", "import numpy", "artifact.core imports the standard library only"),
    ("core/metrics.py", "from artifact.device import compat", "artifact.core may import only"),
    ("cli.py", "from artifact.host.judge import check", "artifact.cli imports only artifact.core at module level"),
    ("cli.py", "def cmd_doctor2():\n    from artifact.host.judge import check\n    from artifact.device import compat",
     "imports both artifact.device and artifact.host"),
    ("device/compress/quantize.py", "def _lazy():\n    from artifact.host.report import figures",
     "artifact.device.compress may import only"),
])
def test_a_planted_violation_is_found(planted, where, line, expected):
    plant, violations = planted
    plant(where, line)
    found = violations()
    assert any(expected in v for v in found), found


def test_an_import_circle_is_found(planted):
    plant, violations = planted
    plant("core/metrics.py", "def _lazy():\n    from artifact.core import records")
    assert any(v.startswith("import circle:") and "artifact.core.metrics" in v for v in violations())


def test_the_device_closure_reaches_every_entry_point_and_no_host_module():
    closure = layers.device_closure()
    assert "artifact/device/run/worker.py" in closure and "artifact/device/run/memory_probe.py" in closure
    assert "artifact/cli.py" in closure and "artifact/core/profiles.py" in closure
    assert not [f for f in closure if f.startswith("artifact/host/")]


def test_every_metric_has_exactly_one_meter():
    from artifact.device.run.meters import METERS

    produced = [m for meter in METERS for m in meter.metrics]
    assert sorted(produced) == sorted(metrics.METRICS)


def test_metric_rows_are_complete():
    for row in metrics.METRICS.values():
        assert row.summary in metrics.SUMMARIES and row.group in metrics.GROUPS
        assert set(row.notes) <= set(metrics.NOTE_KEYS)
    assert metrics.exact_metrics() == ("params", "depth", "storage_bytes", "storage_gzip_bytes")
    with pytest.raises(ValueError, match="not declared"):
        metrics.declared_note("inference_time_s", "paired_ration")


def test_the_timing_notes_carry_the_keys_the_judge_reads():
    from artifact.device.measure.timing import time_inference

    settings = {"warmup_windows": 1, "min_windows": 3, "max_windows": 4, "min_window_s": 0.0, "ci_target": 0.5,
                "time_budget_s": 1.0}
    result = time_inference(lambda x: x, [1, 2], settings, reference=lambda x: x)
    declared = metrics.METRICS["inference_time_s"].notes
    assert set(declared) <= set(result.notes())


def test_every_technique_of_the_registry_is_dispatched_on_the_device():
    from artifact.device.compress.techniques import compress_function

    for name, row in techniques.TECHNIQUES.items():
        assert row.compress.startswith("artifact.device."), name  # the device side applies it
        assert callable(compress_function(name)), name


def test_the_catalog_names_every_model_the_device_builds():
    from artifact.device.models.architectures import mini_zoo, paper_architectures

    assert set(catalog.MINI_ZOO) == set(mini_zoo.CNN_BUILDERS) | {"mini_nmt"}
    assert list(paper_architectures.PAPER_MODELS) == list(catalog.TABLE_I)
    nmt = catalog.TABLE_I["nmt"]
    assert paper_architectures.gnmt_param_count(nmt.num_classes, nmt.num_classes, 1024, 4) == nmt.expected_params


BLOCK_TENSORFLOW = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf_keras", "keras", "tensorflow_model_optimization", "ai_edge_litert"):
            raise ImportError("blocked: " + name + " (the report must render without TensorFlow)")
sys.meta_path.insert(0, _NoTensorFlow())
from artifact.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_check_and_report_run_where_tensorflow_cannot_be_imported(tmp_path, profile):
    results = tmp_path / profile
    shutil.copytree(os.path.join(ROOT, "expected_results", "reference", profile), results)
    for command in ("check", "report"):
        proc = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, command, "--profile", profile,
                               "--results", str(results)], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert (results / "report" / "index.html").stat().st_size > 10000


def test_the_blocker_really_blocks_tensorflow(tmp_path):
    """The negative control: the same blocker makes a device command fail on the TensorFlow import."""
    proc = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, "doctor"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode != 0 and "blocked: tensorflow" in proc.stderr
