"""The file a variant is deployed as, whatever the technique: write it, read it back.

Keras variants (baseline, quantize, prune, quantize_prune) use the artifact's own model file
(`storage.py`: bit-packed codes); LiteRT variants are `.tflite` flatbuffers run by the LiteRT
interpreter (`litert.py`). The runner measures what it reads back, never the in-memory object.
"""
from typing import Any, Dict, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.techniques import suffix_for as technique_suffix
from artifact.device.compress import litert
from artifact.device.compress.storage import load_model_file, save_model_file


def suffix_for(technique):
    # type: (str) -> str
    return technique_suffix(technique)


def save_deployable(variant, path, meta=None):
    # type: (Any, str, Optional[Dict[str, Any]]) -> int
    if isinstance(variant, litert.LiteRTVariant):
        return litert.save(variant, path)
    return save_model_file(variant, path, meta)


def load_deployable(path):
    # type: (str) -> Any
    if path.endswith(".tflite"):
        return litert.load(path)
    return load_model_file(path)[0]
