"""Golden tests of the report generator: the Markdown report and the JSON summary rendered from the
committed reference results must equal the committed golden copies, byte for byte.

The report is a pure function of stored files, so any difference is a change in the generator (or
in the reference results). If intended, regenerate and review the diff:
    ARTIFACT_UPDATE_GOLDEN=1 pytest tests/host/report/test_render_golden.py && git diff tests/golden
"""
import difflib
import json
import os
import shutil

import pytest

from artifact.core.paths import PROJECT_ROOT as ROOT
from artifact.host.report.render import render_report

REFERENCE = os.path.join(ROOT, "expected_results", "reference")
GOLDEN = os.path.join(ROOT, "tests", "golden")
UPDATE = os.environ.get("ARTIFACT_UPDATE_GOLDEN") == "1"


def _compare(name: str, text: str) -> None:
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    with open(path) as handle:
        golden = handle.read()
    if text != golden:
        diff = "".join(list(difflib.unified_diff(golden.splitlines(True), text.splitlines(True),
                                                 f"golden/{name}", "rendered now"))[:60])
        pytest.fail(f"{name} differs from its golden copy (ARTIFACT_UPDATE_GOLDEN=1 to accept):\n{diff}")


@pytest.mark.parametrize("profile", ["embedded", "smoke"])
def test_rendered_report_equals_the_golden_copy(profile, tmp_path):
    results = tmp_path / profile
    shutil.copytree(os.path.join(REFERENCE, profile), results)
    summary = render_report(str(results))
    with open(results / "report" / "report.md") as handle:
        _compare(f"{profile}/report.md", handle.read())
    summary = {k: v for k, v in summary.items() if k != "figures"}  # PNG bytes vary with font hinting
    _compare(f"{profile}/summary.json", json.dumps(summary, indent=1, sort_keys=True, default=str) + "\n")
