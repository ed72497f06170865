"""The deployable model file: one serializer for the baseline and every compressed variant.

A `.model.zip` (stored, not deflated, so the bytes on disk are the payload) holding
`format.json`, `model.json` (the Keras architecture) and `weights.bin` described by
`weights.json`. Float weights are stored as float32; the k-bit codes of a quantized layer are
bit-packed to exactly k bits per weight, so a 6-bit model takes about 6/32 of the fp32 bytes
plus its per-tensor minimum and scale.
"""
import copy
import json
import os
import re
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.atomic import write_atomic
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
    # type: (Any, str, Optional[Dict[str, Any]]) -> int
    """Write `model` as a deployable file atomically; returns its size in bytes."""
    def write(handle):
        entries, offset = [], 0
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
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

    write_atomic(path, write, binary=True)
    return os.path.getsize(path)


# what an older Keras says of a layer argument a newer one wrote (tf_keras 2.21's InputLayer `optional`, read by
# TF 2.7's Keras on a TX2): ValueError ('Unrecognized keyword arguments:', dict_keys(['optional'])) or
# TypeError ('Keyword argument not understood:', 'optional')
_UNKNOWN_ARGUMENTS = re.compile(r"Unrecognized keyword arguments:'?,?\s*dict_keys\(\[([^\]]*)\]\)"
                                r"|Keyword argument not understood:'?,?\s*'([^']+)'")
# an older Keras does not read "registered_name": it looks a custom layer up by class_name only
_UNKNOWN_CLASS = re.compile(r"Unknown [a-z ]+: '?([A-Za-z_]\w*)'?")


def _object_specs(spec):
    # type: (Any) -> Iterator[Dict[str, Any]]
    """Every serialized Keras object ({"class_name": ..., "config": ...}) nested in a model config, outermost first."""
    if isinstance(spec, dict):
        if "class_name" in spec:
            yield spec
        for value in spec.values():
            yield from _object_specs(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from _object_specs(value)


def _drop_layer_arguments(spec, names):
    # type: (Any, List[str]) -> int
    """Remove `names` from the arguments ("config") of every layer spec nested in `spec`; how many were removed."""
    removed = 0
    for layer in _object_specs(spec):
        config = layer.get("config")
        if not isinstance(config, dict):
            continue
        for name in names:
            if name in config:
                del config[name]
                removed += 1
    return removed


def _use_registered_names(spec, class_name):
    # type: (Any, str) -> int
    """Give every layer of `class_name` that a newer Keras wrote with a "registered_name" (the package-qualified
    name of register_keras_serializable, e.g. "artifact>ZeroState") that name as its class_name, under which an
    older Keras finds it registered; returns how many were renamed."""
    renamed = 0
    for layer in _object_specs(spec):
        registered = layer.get("registered_name")
        if layer["class_name"] == class_name and isinstance(registered, str) and registered != class_name:
            layer["class_name"] = registered
            renamed += 1
    return renamed


def model_from_portable_json(text):
    # type: (str) -> Tuple[Any, List[str]]
    """The Keras model of an architecture written by this Keras or a newer one (the retraining server's): a layer
    argument this Keras does not know is dropped (newer arguments are written at their defaults, and every weight
    is still checked by name and shape when loaded), a custom layer this Keras cannot find by class name is looked
    up by its registered name; returns the model and the arguments dropped."""
    spec = json.loads(text)
    dropped = []  # type: List[str]
    for _ in range(16):
        try:
            # a copy: Keras pops entries of the config it reads (RNN its "cell"), and a failed try must not
            # leave the next one a damaged spec
            return keras.models.model_from_config(copy.deepcopy(spec), custom_objects=CUSTOM_OBJECTS), dropped
        except (TypeError, ValueError) as exc:
            unknown = _UNKNOWN_CLASS.search(str(exc))
            if unknown and _use_registered_names(spec, unknown.group(1)):
                continue
            match = _UNKNOWN_ARGUMENTS.search(str(exc))
            names = re.findall(r"'([^']+)'", match.group(1)) if match and match.group(1) else (
                [match.group(2)] if match else [])
            if not names or not _drop_layer_arguments(spec, names):
                raise
            dropped.extend(names)
    raise ValueError("layer arguments this Keras does not know remain after dropping {}".format(dropped))


def load_model_file(path):
    """Rebuild the model stored by `save_model_file` (quantized layers keep their k-bit codes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("format.json"))
            if meta.get("kind") != KIND or meta.get("format_version") != FORMAT_VERSION:
                raise FormatError("{}: not a version-{} artifact model file; re-run `invoke run`".format(
                    path, FORMAT_VERSION))
            model, dropped = model_from_portable_json(archive.read("model.json").decode())
            if dropped:
                meta["dropped_layer_arguments"] = sorted(set(dropped))
            entries = json.loads(archive.read("weights.json"))
            blob = archive.read("weights.bin")
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
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
    fix = "delete it and re-run the step that wrote it"
    for layer in model.layers:   # every weight by layer name and shape: a file and an architecture that disagree fail
        values = by_layer.pop(layer.name, [])
        if len(values) != len(layer.weights):
            raise FormatError("{}: layer {} has {} weights in the file, {} in its architecture; {}".format(
                path, layer.name, len(values), len(layer.weights), fix))
        for variable, value in zip(layer.weights, values):
            if tuple(variable.shape) != tuple(value.shape):
                raise FormatError("{}: weight {} of layer {} is {} in the file, {} in its architecture; {}".format(
                    path, variable.name, layer.name, tuple(value.shape), tuple(variable.shape), fix))
            variable.assign(value)
    if by_layer:
        raise FormatError("{}: weights of layers not in its architecture ({}); {}".format(
            path, ", ".join(sorted(by_layer)), fix))
    return model, meta


def parameter_count(model):
    # type: (Any) -> int
    """Parameters as TF-Slim and Table I count them: learned weights, quantized codes counting one
    each; BatchNorm moving statistics and the quantizers' per-tensor min/scale are not parameters."""
    return int(sum(int(np.prod(w.shape)) for w in model.weights
                   if w.name.split("/")[-1].split(":")[0] not in NOT_PARAMETERS))


NOT_PARAMETERS = ("kernel_min", "kernel_scale", "depthwise_min", "depthwise_scale", "pointwise_min",
                  "pointwise_scale", "moving_mean", "moving_variance")
