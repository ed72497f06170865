"""End to end on a small profile: run (killed mid-way, then resumed), check, report."""
import json
import os
import signal
import subprocess
import sys

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.device.emulation.sensors import WaveformWriter, make_tx2_r32_tree

PROFILE = """format_version = 1
name = "tiny"
description = "end-to-end test profile"
[stands_for]
mini_vgg = ["vgg_16"]
[measurement]
min_windows = 5
max_windows = 20
min_window_s = 0.01
time_budget_s = 1.0
eval_samples = 100
[[group]]
technique = "baseline"
models = ["mini_vgg"]
metrics = ["params", "storage_bytes", "inference_time_s", "energy_j", "power_mean_w", "top1", "op_shares"]
[[group]]
technique = "quantize"
models = ["mini_vgg"]
settings = [{bits = 8}]
metrics = ["params", "storage_bytes", "inference_time_s", "energy_j", "power_mean_w", "top1", "dequantize_share"]
[[group]]
technique = "prune"
models = ["mini_vgg"]
settings = [{threshold = 0.5}]
metrics = ["storage_bytes", "inference_time_s", "top1"]
"""


def _env(extra=None):
    return dict(os.environ, PYTHONPATH=ROOT, **(extra or {}))


@pytest.mark.slow
def test_run_killed_then_resumed_loses_and_duplicates_nothing(tmp_path):
    profile = tmp_path / "tiny.toml"
    profile.write_text(PROFILE)
    results = tmp_path / "results"
    sysfs = tmp_path / "sysfs"
    tree = make_tx2_r32_tree(str(sysfs))
    writer = WaveformWriter(tree, lambda t: 5.0 + (t % 0.2 > 0.1), update_hz=200.0)
    writer.start()
    try:
        env = _env({"ARTIFACT_SYSFS_ROOT": str(sysfs)})
        command = [sys.executable, "-m", "artifact.device.run.worker", str(profile), "mini_vgg", str(results)]
        worker = subprocess.Popen(command,
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in worker.stdout:
            if line.startswith("CELL "):
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        first = sorted(os.listdir(results / "records"))
        assert len(first) == 1 and not first[0].startswith(".")
        before = json.loads((results / "records" / first[0]).read_text())

        out = subprocess.run([sys.executable, "-m", "artifact", "reproduce", "--profile", str(profile), "--results",
                              str(results)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    finally:
        writer.stop()
    assert out.returncode == 0, out.stderr
    assert "1 already measured" in out.stdout and "verdicts (" in out.stdout
    names = sorted(os.listdir(results / "records"))
    assert names == ["mini_vgg__baseline__fp32.json", "mini_vgg__prune__threshold-0.5.json",
                     "mini_vgg__quantize__bits-8.json"]
    assert json.loads((results / "records" / first[0]).read_text()) == before  # not re-measured

    quant = json.loads((results / "records" / "mini_vgg__quantize__bits-8.json").read_text())
    assert quant["environment"]["power_sensor"] == "jetson-ina3221-r32"
    power = quant["measurements"]["power_mean_w"]
    assert 4.5 < sum(power["samples"]) / power["n"] < 6.5
    assert quant["measurements"]["dequantize_share"]["samples"][0] > 0
    assert quant["measurements"]["top1"]["samples"][0] > 0.8

    verdicts = json.loads((results / "verdicts.json").read_text())
    by_id = {v["claim_id"]: v for v in verdicts["verdicts"]}
    assert by_id["II-B/quantize-8bit/storage"]["outcome"] in ("PASS", "FAIL")
    assert by_id["II-B/quantize-8bit/storage"]["measured"] > 60
    assert by_id["TableI/vgg_16/params"]["outcome"] == "NOT-RUN"
    report = results / "report"
    page = (report / "index.html").read_text()
    assert "<h2>Claims, in the paper's order</h2>" in page and page.count("data:image/png;base64") >= 3
    assert json.loads((report / "summary.json").read_text())["counts"] == verdicts["counts"]
    assert (report / "report.md").read_text().startswith("# Artifact evaluation report")

    again = subprocess.run([sys.executable, "-m", "artifact", "run", "--profile", str(profile), "--results",
                            str(results)], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "3 already measured" in again.stdout and "0 cells measured" in again.stdout
