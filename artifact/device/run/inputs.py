"""The user's inputs, checked before any worker starts: named by the profile, then opened.

A wrong path is one line now rather than a worker failure minutes later; each data set is read
once here, not once per model.
"""
from typing import Any, Mapping, Sequence  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import TABLE_I
from artifact.core.errors import MissingInputError
from artifact.core.inputs import INPUTS


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
        from artifact.device.models.checkpoints.slim_checkpoint import find_slim_checkpoint

        for model in cnns:
            find_slim_checkpoint(inputs["slim_checkpoints"], model)
    if inputs.get("imagenet") and cnns:
        from artifact.device.models.data.imagenet import ImageNetVal

        ImageNetVal(inputs["imagenet"], limit=limit)
    if inputs.get("nmt_data") and "nmt" in paper:
        from artifact.device.models.data.nmt_data import NmtData

        NmtData.from_directory(inputs["nmt_data"], limit=limit or None)
