"""Where the artifact's own files are: the one owner of paths relative to the checkout."""
import os

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # artifact/
PROJECT_ROOT = os.path.dirname(PACKAGE_DIR)  # the checkout (or /opt/artifact in the images)
PROFILES_DIR = os.path.join(PACKAGE_DIR, "profiles")
EXPECTED_RESULTS = os.path.join(PROJECT_ROOT, "expected_results")
CLAIMS_DIR = os.path.join(EXPECTED_RESULTS, "claims")
INCONSISTENCIES = os.path.join(EXPECTED_RESULTS, "inconsistencies.toml")
