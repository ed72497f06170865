"""The fast tier (`make test-fast`) leaves out exactly the test files conftest.py names, and those exist.

A renamed heavy file would otherwise slip into the fast tier unnoticed, and a stale name hide nothing.
"""
import os
import pathlib
import types

from tests import conftest


def tree_test_files():
    """Every test file under tests/, relative to it, wherever in the tree it sits."""
    return {os.path.relpath(os.path.join(folder, name), conftest.TESTS).replace(os.sep, "/")
            for folder, _, names in os.walk(conftest.TESTS) for name in names
            if name.startswith("test_") and name.endswith(".py")}


def test_every_module_left_out_of_the_fast_tier_is_a_test_file():
    files = tree_test_files()
    assert files >= conftest.TRAINING_MODULES, sorted(conftest.TRAINING_MODULES - files)
    assert "behaviour/test_pipeline.py" in files and "device/measure/test_timing.py" in files  # the walk goes down


class Item:
    def __init__(self, path):
        self.path, self.markers = pathlib.Path(path), []
        self.module = types.SimpleNamespace(__name__=pathlib.Path(path).stem)

    def add_marker(self, marker):
        self.markers.append(marker.name)


def test_the_tests_of_a_training_module_are_marked_and_no_others():
    heavy = Item(os.path.join(conftest.TESTS, "behaviour", "test_pipeline.py"))
    light = Item(os.path.join(conftest.TESTS, "test_cli.py"))
    # a light file of a heavy file's name in another folder stays light: the names are paths, not basenames
    namesake = Item(os.path.join(conftest.TESTS, "host", "report", "test_pipeline.py"))
    outside = Item(os.path.join(os.path.dirname(conftest.TESTS), "test_pipeline.py"))
    conftest.pytest_collection_modifyitems(None, [heavy, light, namesake, outside])
    assert heavy.markers == ["trains"] and light.markers == [] and namesake.markers == [] and outside.markers == []
