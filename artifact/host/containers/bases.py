"""docker/bases.toml: the base images the Dockerfiles build on, and each Jetson base's board kind and software twin.

A `[[jetson]]` row with a `kind` is a board stack the project serves: the kind a fleet file names
(`artifact.host.fleet.KINDS`), and its `[jetson.twin]` (the CPython release, the PyPI stand-ins for what the
L4T image carries, the emulated board tree it runs against) from which `.ci/board-twins` builds
`.twins/<kind>` and `tests/behaviour/test_board_twins.py` runs the smoke profile. A new JetPack is its row here, its
requirements file, its emulated tree and that tree's test (docs/DESIGN.md, "Where a change goes").
"""
import os
import re

from artifact.core.paths import PROJECT_ROOT
from artifact.core.tomlfile import load_toml
from artifact.host.containers import ContainerError

BASES_FILE = os.path.join(PROJECT_ROOT, "docker", "bases.toml")
# the emulated board trees of artifact.device.emulation (named here, not imported: the host does not load the
# device side to read a table); tests/behaviour/test_board_twins.py checks they are the emulator's own
EMULATED_TREES = ("tx2", "orin", "x86")
TWIN_FIELDS = {
    "python": (r"^3\.\d+\.\d+$", 'the CPython release pyenv installs, e.g. "3.8.18"'),
    "stand_ins": (r"\S", 'the PyPI packages that stand in for the image\'s own, e.g. "tensorflow-cpu==2.11.1"'),
    "emulated": ("^(" + "|".join(EMULATED_TREES) + ")$", "the emulated board it runs against: "
                 + ", ".join(EMULATED_TREES)),
}


def load_bases(path: str = BASES_FILE) -> dict:
    return load_toml(path, "base images", ContainerError)


def base_entry(target: str, base: str, path: str = BASES_FILE) -> dict:
    """docker/bases.toml's entry for this base image ({} when it is not listed)."""
    return next((e for e in load_bases(path).get(target, []) if e.get("image") == base), {})


def board_twins(path: str = BASES_FILE) -> list[dict]:
    """One dict per Jetson base with a board kind: kind, python, requirements, stand_ins, emulated (file order).

    ContainerError (one line: the file, the row, the field, the fix) for a row that cannot be built from."""
    twins, seen = [], set()
    for index, row in enumerate(load_bases(path).get("jetson", []), start=1):
        if "kind" not in row:
            continue   # a CI substitute base: no board of its own
        where = f"{path}: [[jetson]] row {index} ({row.get('image', '?')})"
        kind = row["kind"]
        if not (isinstance(kind, str) and re.match(r"^[a-z][a-z0-9]*$", kind)) or kind in seen:
            raise ContainerError(f"{where}: kind = {kind!r} must be a new lower-case name (e.g. \"nano\")")
        seen.add(kind)
        twin = row.get("twin")
        if not isinstance(twin, dict):
            raise ContainerError(f"{where}: no [jetson.twin] table; add one with {', '.join(TWIN_FIELDS)}")
        for field, (pattern, what) in TWIN_FIELDS.items():
            if not (isinstance(twin.get(field), str) and re.search(pattern, twin[field])):
                raise ContainerError(f"{where}: twin.{field} = {twin.get(field)!r}; give {what}")
        if not os.path.isfile(os.path.join(os.path.dirname(path), "jetson", str(row.get("requirements")))):
            raise ContainerError(f"{where}: requirements = {row.get('requirements')!r} is not a file in "
                                 "docker/jetson/; name the image's requirements file")
        twins.append(dict(kind=kind, requirements=row["requirements"], **{f: twin[f] for f in TWIN_FIELDS}))
    return twins
