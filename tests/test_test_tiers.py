"""The fast tier (`make test-fast`) leaves out exactly the test files conftest.py names, and those exist.

A renamed heavy file would otherwise slip into the fast tier unnoticed, and a stale name hide nothing.
"""
import os
import types

import conftest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_every_module_left_out_of_the_fast_tier_is_a_test_file():
    files = {name[:-3] for name in os.listdir(HERE) if name.startswith("test_") and name.endswith(".py")}
    assert files >= conftest.TRAINING_MODULES, sorted(conftest.TRAINING_MODULES - files)


class Item:
    def __init__(self, module):
        self.module, self.markers = types.SimpleNamespace(__name__=module), []

    def add_marker(self, marker):
        self.markers.append(marker.name)


def test_the_tests_of_a_training_module_are_marked_and_no_others():
    heavy, light = Item("tests.test_pipeline"), Item("test_cli")
    conftest.pytest_collection_modifyitems(None, [heavy, light])
    assert heavy.markers == ["trains"] and light.markers == []
