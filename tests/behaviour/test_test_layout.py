"""The tests mirror the code: a test file under tests/<package>/ is named after a module of artifact/<package>/.

    tests/device/measure/test_timing.py        artifact/device/measure/timing.py
    tests/device/measure/test_power_*.py       the same module, one more suite of it (e.g. a slow one apart)
    tests/host/fleet/test_fleet.py             artifact/host/fleet/__init__.py: the package as a whole
    tests/test_cli.py                          artifact/cli.py
    tests/behaviour/test_*.py                  suites whose subject spans modules or packages (the pipeline,
                                               the house rules, a reviewer's first hour)

Every folder of the tree is a package (`__init__.py`): files of one name may sit in two folders, and tests import
their shared helpers as `tests.helpers....`. The rule is checked on this tree and on a planted one, so it can fail.
"""
import os

from artifact.core.paths import PACKAGE_DIR, PROJECT_ROOT
from tests import conftest

BEHAVIOUR = "behaviour"
NO_TESTS = ("helpers", "data", "golden")  # shared code and data of the tests: no test file in them


def layout_errors(tests_dir, package_dir):
    """One line per test file or folder of `tests_dir` that breaks the mirror rule against `package_dir`."""
    errors = []
    for folder, subfolders, names in os.walk(tests_dir):
        subfolders[:] = sorted(s for s in subfolders if s != "__pycache__")
        relative = os.path.relpath(folder, tests_dir)
        parts = [] if relative == os.curdir else relative.split(os.sep)
        if parts and parts[0] in ("data", "golden"):
            continue
        if parts and "__init__.py" not in names:
            errors.append("tests/{}/ has no __init__.py".format("/".join(parts)))
        for name in sorted(n for n in names if n.startswith("test_") and n.endswith(".py")):
            shown = "tests/" + "/".join(parts + [name])
            if parts and parts[0] == BEHAVIOUR:
                if len(parts) > 1:
                    errors.append("{}: behaviour suites sit in tests/behaviour/ itself".format(shown))
                continue
            if parts and parts[0] in NO_TESTS:
                errors.append("{}: tests/{}/ holds no tests".format(shown, parts[0]))
                continue
            mirrored = os.path.join(package_dir, *parts)
            if not os.path.isfile(os.path.join(mirrored, "__init__.py")):
                errors.append("{}: no package artifact/{} to mirror".format(shown, "/".join(parts) or "."))
                continue
            modules = {m[:-3] for m in os.listdir(mirrored) if m.endswith(".py") and m != "__init__.py"}
            if parts:
                modules.add(parts[-1])  # the package's own name: its __init__.py, the package as a whole
            stem = name[len("test_"):-len(".py")]
            if not any(stem == m or stem.startswith(m + "_") for m in modules):
                errors.append("{}: names no module of artifact/{} (test_<module>.py or test_<module>_<aspect>.py; "
                              "a suite spanning modules goes to tests/behaviour/)".format(shown, "/".join(parts)))
    return errors


def test_every_test_file_mirrors_a_module_or_is_a_behaviour_suite():
    assert layout_errors(conftest.TESTS, PACKAGE_DIR) == []


def test_the_project_root_the_tests_use_is_the_checkout_holding_them():
    assert os.path.samefile(PROJECT_ROOT, os.path.dirname(conftest.TESTS))


def _tree(root, files):
    for path in files:
        full = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as handle:
            handle.write("")


def test_the_rule_fails_on_planted_files(tmp_path):
    package, tests = str(tmp_path / "artifact"), str(tmp_path / "tests")
    _tree(package, ["__init__.py", "cli.py", "device/__init__.py", "device/measure/__init__.py",
                    "device/measure/timing.py", "device/measure/power.py", "host/__init__.py",
                    "host/fleet/__init__.py", "host/fleet/run.py"])
    good = ["__init__.py", "conftest.py", "test_cli.py", "helpers/__init__.py", "helpers/training_sets.py",
            "data/fleet_fake.py", "golden/test_like_data.py",
            "device/__init__.py", "device/measure/__init__.py", "device/measure/test_timing.py",
            "device/measure/test_power_plausibility.py", "host/__init__.py", "host/fleet/__init__.py",
            "host/fleet/test_fleet.py", "host/fleet/test_run.py", "behaviour/__init__.py",
            "behaviour/test_pipeline.py"]
    _tree(tests, good)
    assert layout_errors(tests, package) == []

    _tree(tests, ["device/measure/test_timer.py", "device/measure/test_powerful.py", "test_pipeline.py",
                  "device/emulation/__init__.py", "device/emulation/test_board.py", "host/test_engine.py",
                  "helpers/test_helper.py", "behaviour/deep/test_x.py", "host/fleet/sub/test_run.py"])
    assert layout_errors(tests, package) == [
        "tests/test_pipeline.py: names no module of artifact/ (test_<module>.py or test_<module>_<aspect>.py; "
        "a suite spanning modules goes to tests/behaviour/)",
        "tests/behaviour/deep/ has no __init__.py",
        "tests/behaviour/deep/test_x.py: behaviour suites sit in tests/behaviour/ itself",
        "tests/device/emulation/test_board.py: no package artifact/device/emulation to mirror",
        "tests/device/measure/test_powerful.py: names no module of artifact/device/measure (test_<module>.py or "
        "test_<module>_<aspect>.py; a suite spanning modules goes to tests/behaviour/)",
        "tests/device/measure/test_timer.py: names no module of artifact/device/measure (test_<module>.py or "
        "test_<module>_<aspect>.py; a suite spanning modules goes to tests/behaviour/)",
        "tests/helpers/test_helper.py: tests/helpers/ holds no tests",
        "tests/host/test_engine.py: names no module of artifact/host (test_<module>.py or "
        "test_<module>_<aspect>.py; a suite spanning modules goes to tests/behaviour/)",
        "tests/host/fleet/sub/ has no __init__.py",
        "tests/host/fleet/sub/test_run.py: no package artifact/host/fleet/sub to mirror",
    ]
