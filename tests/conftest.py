import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The tests measure plumbing, not this machine's quietness: `run` refuses a busy machine unless told
# (artifact.device.measure.busy); `.ci/test-loaded` runs the suite beside busy processes on purpose.
# tests/test_busy_machine.py unsets it where the refusal itself is tested.
os.environ.setdefault("ARTIFACT_ALLOW_BUSY", "1")
