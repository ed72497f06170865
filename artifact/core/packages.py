"""The model package: what the retraining server hands the board for one pruned cell.

    <packages dir>/<cell key>/
        manifest.json       kind artifact-model-package: the cell, the code revision of the model's
                            architecture and pruning, the baseline it was pruned from, how it was trained
        model.model.zip     the fine-tuned model (artifact.device.compress.storage's file format)

`artifact retrain` writes one per cell of a technique in `PACKAGED_TECHNIQUES` (a directory renamed
into place, so a reader sees a whole package or none); `artifact run --retrained DIR` measures it
after `check_package` has compared it with the cell the board is about to measure. A wrong, stale or
corrupt package is one line naming it and the fix. Stdlib only: the board reads manifests on Python 3.6.
"""
import hashlib
import os
from typing import Any, Dict, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import TABLE_I
from artifact.core.errors import FormatError
from artifact.core.jsonfile import FORMAT_VERSION, check_format, read_json
from artifact.core.schema import check, field

PACKAGE_KIND = "artifact-model-package"
MANIFEST = "manifest.json"
MODEL_FILE = "model.model.zip"
# the techniques whose fine-tuning is the server's job; magnitude_prune (TF-MOT's schedule inside its own
# fit, beyond the paper) fine-tunes where it runs
PACKAGED_TECHNIQUES = ("prune", "quantize_prune", "prune_litert", "prune_blocks")
# quantize_prune's package is the fine-tuned pruned model; the board stores it again in k bits (§IV-J order);
# prune_litert's too, the board converts it to LiteRT
FIX = "re-run `invoke retrain` for this profile (it rewrites the package), or give --retrained the right directory"


_DEVICE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "device")


def _code_files(model_name, technique):
    # type: (str, str) -> Tuple[str, ...]
    """The device-side source files a package's model depends on: its architecture, the pruning (and the
    quantizer quantize_prune prunes through)."""
    architecture = "paper_architectures.py" if model_name in TABLE_I else "mini_zoo.py"
    files = [os.path.join("models", "architectures", architecture), os.path.join("compress", "prune.py")]
    if technique == "quantize_prune":
        files.append(os.path.join("compress", "quantize.py"))
    return tuple(files)


def architecture_revision(model_name, technique):
    # type: (str, str) -> str
    """A digest of the code that decides what a package's model is (12 hex digits of sha256): the same
    checkout gives the same revision on the server and on the board."""
    digest = hashlib.sha256()
    for relative in _code_files(model_name, technique):
        with open(os.path.join(_DEVICE, relative), "rb") as handle:
            digest.update(relative.encode() + b"\0" + handle.read().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:12]


def package_dir(packages, cell_key):
    # type: (str, str) -> str
    return os.path.join(packages, cell_key)


def sha256_file(path, chunk=1 << 20):
    # type: (str, int) -> str
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def new_manifest(cell, architecture_revision, baseline, training, model_sha256, created_at, validation=None):
    # type: (Dict[str, Any], str, Dict[str, Any], Dict[str, Any], str, str, Optional[Dict[str, Any]]) -> Dict[str, Any]
    """What `read_manifest` reads back: `cell` as Cell.to_dict(), `baseline` {"weights": ...}, `training`
    {"data", "data_path", "data_index_sha256", "steps", "batch_size", "optimizer", "learning_rate",
    "final_loss", "first_loss", "seconds", "device", "code_revision"}."""
    return {"kind": PACKAGE_KIND, "format_version": FORMAT_VERSION,
            "cell": {k: cell[k] for k in ("key", "model", "technique", "setting")},
            "architecture_revision": architecture_revision, "baseline": dict(baseline), "training": dict(training),
            "validation": dict(validation or {}), "model_sha256": model_sha256, "created_at": created_at}


def read_manifest(directory):
    # type: (str) -> Dict[str, Any]
    """The manifest of the package in `directory`, its fields checked (one line naming the field)."""
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise FormatError("{}: not a model package (no {}); {}".format(directory, MANIFEST, FIX))
    data = read_json(path, "model package manifest")
    check_format(data, PACKAGE_KIND, path, FIX)
    cell = field(data, "cell", "a table", path, FIX)
    for name in ("key", "model", "technique"):
        field(cell, name, "a string", path + ": cell", FIX)
    field(cell, "setting", "a table", path + ": cell", FIX)
    for name in ("architecture_revision", "model_sha256", "created_at"):
        field(data, name, "a string", path, FIX)
    field(data, "baseline", "a table", path, FIX)
    training = field(data, "training", "a table", path, FIX)
    for name in ("steps", "batch_size"):
        field(training, name, "a whole number", path + ": training", FIX)
    for name in ("data", "optimizer"):
        field(training, name, "a string", path + ": training", FIX)
    check(training.get("final_loss"), "a number", path + ": training.final_loss", FIX, optional=True)
    return data


def check_package_file(directory, manifest, cell, architecture_revision):
    # type: (str, Dict[str, Any], Any, str) -> None
    """Refuse a package made for another cell or by other code, or whose model file is not the manifest's."""
    where = os.path.join(directory, MANIFEST)
    made_for = manifest["cell"]
    for name in ("model", "technique", "setting"):
        wanted = getattr(cell, name)
        if made_for[name] != wanted:
            raise FormatError("{}: made for {} {!r}, this cell ({}) has {!r}; {}".format(
                where, name, made_for[name], cell.key, wanted, FIX))
    if manifest["architecture_revision"] != architecture_revision:
        raise FormatError("{}: stale: made by architecture/pruning code revision {}, this checkout is {}; {}".format(
            where, manifest["architecture_revision"], architecture_revision, FIX))
    model_file = os.path.join(directory, MODEL_FILE)
    if not os.path.exists(model_file):
        raise FormatError("{}: no {} beside the manifest; {}".format(directory, MODEL_FILE, FIX))
    if sha256_file(model_file) != manifest["model_sha256"]:
        raise FormatError("{}: corrupt: its sha256 is not the manifest's model_sha256; {}".format(model_file, FIX))


def check_package(directory, manifest, cell, architecture_revision, baseline):
    # type: (str, Dict[str, Any], Any, str, Dict[str, Any]) -> None
    """`check_package_file`, and refuse a package pruned from another baseline (`baseline`: "weights", what
    they are, and "weights_sha256", their digest)."""
    check_package_file(directory, manifest, cell, architecture_revision)
    for name in ("weights", "weights_sha256"):
        made_from = manifest["baseline"].get(name)
        if made_from != baseline.get(name):
            raise FormatError("{}: pruned from another baseline (its {} {!r}, this run's {!r}); {}".format(
                os.path.join(directory, MANIFEST), name, made_from, baseline.get(name), FIX))


def stale_package(provenance, *packages):
    # type: (Any, Optional[str]) -> Optional[str]
    """Why a record's measured package is no longer the package its cell would be measured from now (replaced
    since: another model_sha256), or None. Looked up at the record's own package path, then under `packages`
    (the first that holds the cell's package); a package found nowhere leaves the record as it is."""
    package = provenance.get("package") if isinstance(provenance, dict) else None
    if not isinstance(package, dict) or not isinstance(package.get("path"), str):
        return None
    key = os.path.basename(package["path"])
    for directory in [package["path"]] + [find_package(p, key) for p in packages]:
        if directory and os.path.isfile(os.path.join(directory, MANIFEST)):
            try:
                now = read_manifest(directory)["model_sha256"]
            except FormatError as exc:
                return "its package is unreadable now ({})".format(exc)
            if now != package.get("model_sha256"):
                return "measured package {} (model_sha256 {}...), replaced since (now {}...)".format(
                    directory, str(package.get("model_sha256"))[:12], now[:12])
            return None
    return None


def find_package(packages, cell_key):
    # type: (Optional[str], str) -> Optional[str]
    """The package directory of a cell under `packages`, or None when there is none."""
    if not packages:
        return None
    directory = package_dir(packages, cell_key)
    return directory if os.path.isdir(directory) else None
