"""The deployable model file: one serializer for the baseline and every compressed variant.

A `.model.zip` (stored, not deflated, so the bytes on disk are the payload) holding
`format.json`, `model.json` (the Keras architecture) and `weights.bin` described by
`weights.json`. Float weights are stored as float32; the k-bit codes of a quantized layer are
bit-packed to exactly k bits per weight, so a 6-bit model takes about 6/32 of the fp32 bytes
plus its per-tensor minimum and scale.
"""
import json
import os
import tempfile
import zipfile
from typing import Any, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import FormatError
from artifact.device.compat import keras
from artifact.device.compress.quantize import CUSTOM_OBJECTS

FORMAT_VERSION = 1
KIND = "artifact-model"
_CHUNK = 1 << 20  # elements per packing chunk; a multiple of 8 keeps chunks byte-aligned


def pack_bits(codes, bits):
    # type: (np.ndarray, int) -> bytes
    flat = codes.reshape(-1).astype(np.uint32)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint32)
    parts = []
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start:start + _CHUNK]
        parts.append(np.packbits(((chunk[:, None] >> shifts) & 1).astype(np.uint8)).tobytes())
    return b"".join(parts)


def unpack_bits(payload, bits, count, dtype):
    # type: (bytes, int, int, Any) -> np.ndarray
    raw = np.frombuffer(payload, np.uint8)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint32)
    out = np.empty(count, dtype)
    chunk_bytes = _CHUNK * bits // 8
    for i, start in enumerate(range(0, count, _CHUNK)):
        n = min(_CHUNK, count - start)
        bits_arr = np.unpackbits(raw[i * chunk_bytes:i * chunk_bytes + (n * bits + 7) // 8])[:n * bits]
        out[start:start + n] = bits_arr.reshape(n, bits).astype(np.uint32) @ weights
    return out


def save_model_file(model, path, meta=None):
    # type: (Any, str, Dict[str, Any]) -> int
    """Write `model` as a deployable file atomically; returns its size in bytes."""
    entries, offset = [], 0
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".model.zip", dir=directory)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            payloads = []
            for layer in model.layers:
                bits = getattr(layer, "bits", None)
                for index, weight in enumerate(layer.weights):
                    value = weight.numpy()
                    entry = {"layer": layer.name, "index": index, "shape": list(value.shape),
                             "dtype": value.dtype.name, "offset": offset}
                    if bits is not None and value.dtype in (np.uint8, np.uint16):
                        data = pack_bits(value, bits)
                        entry.update(encoding="packed", bits=bits)
                    else:
                        data = value.astype(value.dtype.newbyteorder("<")).tobytes()
                        entry["encoding"] = "raw"
                    entry["nbytes"] = len(data)
                    offset += len(data)
                    entries.append(entry)
                    payloads.append(data)
            archive.writestr("format.json", json.dumps(dict(meta or {}, kind=KIND, format_version=FORMAT_VERSION)))
            archive.writestr("model.json", model.to_json())
            archive.writestr("weights.json", json.dumps(entries))
            archive.writestr("weights.bin", b"".join(payloads))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return os.path.getsize(path)


def load_model_file(path):
    """Rebuild the model stored by `save_model_file` (quantized layers keep their k-bit codes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("format.json"))
            if meta.get("kind") != KIND or meta.get("format_version") != FORMAT_VERSION:
                raise FormatError("{}: not a version-{} artifact model file; re-run `invoke run`".format(
                    path, FORMAT_VERSION))
            model = keras.models.model_from_json(archive.read("model.json").decode(),
                                                 custom_objects=CUSTOM_OBJECTS)
            entries = json.loads(archive.read("weights.json"))
            blob = archive.read("weights.bin")
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FormatError("{}: unreadable model file ({}); delete it and re-run `invoke run`".format(path, exc))
    by_layer = {}  # type: Dict[str, list]
    for entry in entries:
        payload = blob[entry["offset"]:entry["offset"] + entry["nbytes"]]
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        if entry["encoding"] == "packed":
            value = unpack_bits(payload, entry["bits"], count, np.dtype(entry["dtype"]))
        else:
            value = np.frombuffer(payload, np.dtype(entry["dtype"]).newbyteorder("<"), count)
        by_layer.setdefault(entry["layer"], []).append(value.reshape(entry["shape"]))
    for layer in model.layers:
        if layer.name in by_layer:
            for variable, value in zip(layer.weights, by_layer[layer.name]):
                variable.assign(value)
    return model, meta


def parameter_count(model):
    # type: (Any) -> int
    """Parameters as TF-Slim and Table I count them: learned weights, quantized codes counting one
    each; BatchNorm moving statistics and the quantizers' per-tensor min/scale are not parameters."""
    return int(sum(int(np.prod(w.shape)) for w in model.weights
                   if w.name.split("/")[-1].split(":")[0] not in NOT_PARAMETERS))


NOT_PARAMETERS = ("kernel_min", "kernel_scale", "depthwise_min", "depthwise_scale", "pointwise_min",
                  "pointwise_scale", "moving_mean", "moving_variance")
