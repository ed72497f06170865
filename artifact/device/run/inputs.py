"""The user's inputs, checked before any worker starts: named by the profile, then opened.

A wrong path is one line now rather than a worker failure minutes later; each data set is read
once here, not once per model.
"""
from typing import Any, Mapping, Sequence  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import TABLE_I
from artifact.core.errors import MissingInputError
from artifact.core.inputs import INPUTS

DECODE_FIRST = 32  # ImageNet images decoded before any worker starts (all of them are listed and checked)


def readable_checkpoint(path):
    # type: (str) -> str
    """`path` if TensorFlow can list its variables (a truncated or corrupt file is one line naming it)."""
    from artifact.device.compat import tf

    try:
        if not tf.train.list_variables(path):
            raise ValueError("no variables in it")
    except (tf.errors.OpError, ValueError, OSError) as exc:
        text = " ".join(str(getattr(exc, "message", exc)).split())[:200]
        raise MissingInputError("{}: not a readable TensorFlow checkpoint ({}); download and extract the "
                                "model's TF-Slim tarball again".format(path, text))
    return path


def open_checkpoints(directory, models):
    # type: (str, Sequence[str]) -> None
    """Every TF-Slim checkpoint the `models` read, opened; the ones missing are named all at once, in one line."""
    import os

    from artifact.device.models.checkpoints.slim_checkpoint import (
        CHECKPOINT_NAMES,
        DOWNLOAD_URL,
        TARBALLS,
        find_slim_checkpoint,
    )

    missing = []
    for model in models:
        try:
            readable_checkpoint(find_slim_checkpoint(directory, model))
        except MissingInputError:
            if len(models) == 1 or not os.path.isdir(directory):
                raise  # the one model's own message (or: the directory does not exist)
            missing.append(model)
    if missing:
        raise MissingInputError("{} of the {} TF-Slim checkpoints this run reads are missing or unreadable in {}: "
                                "{}; download each tarball from {} and extract it there".format(
                                    len(missing), len(models), directory,
                                    ", ".join("{} ({} from {})".format(m, CHECKPOINT_NAMES[m], TARBALLS[m])
                                              for m in missing), DOWNLOAD_URL))


def check_required(profile, inputs):
    # type: (Any, Mapping[str, Any]) -> None
    """Every input the profile `requires` was given."""
    missing = [need for need in profile.requires if not inputs.get(need)]
    if missing:
        raise MissingInputError("profile {!r} needs {}".format(
            profile.name, "; ".join(INPUTS[m] for m in missing)))


def open_inputs(models, inputs):
    # type: (Sequence[str], Mapping[str, Any]) -> None
    """Open the checkpoints and data sets the Table I models among `models` will read."""
    paper = sorted(set(m for m in models if m in TABLE_I))
    limit = int(inputs.get("eval_samples") or 0)
    cnns = [m for m in paper if m != "nmt"]
    if inputs.get("slim_checkpoints"):
        open_checkpoints(inputs["slim_checkpoints"], cnns)
    if inputs.get("imagenet") and cnns:
        from artifact.device.models.data.imagenet import ImageNetVal, load_image

        val = ImageNetVal(inputs["imagenet"], limit=limit)
        for path in val.paths[:DECODE_FIRST]:  # a garbage JPEG is one line now, not a worker failure later
            load_image(path)
    if inputs.get("nmt_data") and "nmt" in paper:
        from artifact.device.models.data.nmt_data import NmtData

        NmtData.from_directory(inputs["nmt_data"], limit=limit or None)
