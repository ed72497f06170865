"""Writing and reading model packages (the format is artifact.core.packages'): the server's hand-over to the board."""
import hashlib
import os
import shutil
from typing import Any, Dict, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError
from artifact.core.jsonfile import write_json_atomic
from artifact.core.packages import (
    FIX,
    MANIFEST,
    MODEL_FILE,
    architecture_revision,
    check_package,
    new_manifest,
    package_dir,
    read_manifest,
    sha256_file,
)
from artifact.core.results import timestamp
from artifact.device.compress.storage import load_model_file, save_model_file


def weights_sha256(model):
    # type: (Any) -> str
    """A digest of a model's weights (layer names, shapes, values): the baseline a package was pruned from.

    Weights are named by their layer and place in it, as the model file stores them, never by the variable's
    own name: that carries names Keras makes up per process and per version (an RNN cell's `lstm_cell_13` on
    TF 2.6, `lstm_cell` on TF 2.21), so the server's and the board's digest of one model would differ."""
    digest = hashlib.sha256()
    for layer in model.layers:
        for index, weight in enumerate(layer.weights):
            value = weight.numpy()
            digest.update("{}[{}]{}{}".format(layer.name, index, value.shape, value.dtype.str).encode())
            digest.update(value.tobytes())
    return digest.hexdigest()


def baseline_identity(task, baseline):
    # type: (Any, Any) -> Dict[str, Any]
    return {"weights": task.weights, "weights_sha256": weights_sha256(baseline)}


def write_package(packages, cell, model, baseline, training, validation=None):
    # type: (str, Any, Any, Dict[str, Any], Dict[str, Any], Optional[Dict[str, Any]]) -> str
    """Write `model` as the package of `cell` under `packages`: whole or not at all (a directory renamed in)."""
    final = package_dir(packages, cell.key)
    tmp = os.path.join(packages, ".tmp-{}-{}".format(cell.key, os.getpid()))
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        model_file = os.path.join(tmp, MODEL_FILE)
        save_model_file(model, model_file, {"model": cell.model, "technique": cell.technique, "retrained": True})
        manifest = new_manifest(cell.to_dict(), architecture_revision(cell.model, cell.technique), baseline,
                                training, sha256_file(model_file), timestamp(), validation)
        write_json_atomic(os.path.join(tmp, MANIFEST), manifest)
        old = None
        if os.path.exists(final):
            old = final + ".old-{}".format(os.getpid())
            os.rename(final, old)
        os.rename(tmp, final)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def checked_manifest(directory, cell, baseline):
    # type: (str, Any, Dict[str, Any]) -> Dict[str, Any]
    """The package's manifest, checked against the cell and the baseline (`baseline_identity`)."""
    manifest = read_manifest(directory)
    check_package(directory, manifest, cell, architecture_revision(cell.model, cell.technique), baseline)
    return manifest


def load_package(directory, cell, baseline, pruned=None):
    # type: (str, Any, Dict[str, Any], Any) -> Tuple[Any, Dict[str, Any]]
    """The package's model and manifest, after checking both against the cell being measured.

    `pruned`: the board's own pruning of its baseline for this cell; the package's weights must have its
    shapes (a package made by other pruning cannot pass as this cell's)."""
    manifest = checked_manifest(directory, cell, baseline)
    model, _ = load_model_file(os.path.join(directory, MODEL_FILE))
    if pruned is not None:
        got = [tuple(w.shape) for w in model.weights]
        want = [tuple(w.shape) for w in pruned.weights]
        if got != want:
            first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            raise FormatError("{}: its weights do not have this run's pruned shapes (weight {}: {} in the package, "
                              "{} here); {}".format(os.path.join(directory, MODEL_FILE), first,
                                                    got[first] if first < len(got) else "none",
                                                    want[first] if first < len(want) else "none", FIX))
    return model, manifest


def provenance_of(directory, manifest):
    # type: (str, Dict[str, Any]) -> Dict[str, Any]
    """What a record keeps of the package it measured."""
    return {"path": os.path.abspath(directory), "architecture_revision": manifest["architecture_revision"],
            "model_sha256": manifest["model_sha256"], "created_at": manifest["created_at"],
            "baseline": manifest["baseline"], "training": manifest["training"],
            "validation": manifest.get("validation", {})}
