"""Records: one JSON file per measured cell of the experiment matrix.

A record keeps raw samples (warm-ups apart), the cell it measures, the environment it was
measured in, and the metrics that were skipped with the reason. Records are written atomically
(temporary file + rename), so a run killed at any moment leaves either a whole record or none.

    {"format_version": 1, "kind": "artifact-record",
     "cell": {"model": ..., "technique": ..., "setting": {...}, "metrics": [...]},
     "environment": {...}, "started_at": ..., "duration_s": ...,
     "provenance": {"weights": ..., "data": ..., "retrained": ...},
     "measurements": {"inference_time_s": {"unit": "s", "samples": [...], "warmup": [...],
                                           "n": 31, "converged": true, "notes": {...}}, ...},
     "skipped": {"energy_j": "no power sensor: ..."}}
"""
import json
import math
import os
import tempfile

from artifact.errors import FormatError

FORMAT_VERSION = 1
RECORD_KIND = "artifact-record"

# metric name -> unit; the names used in profiles, records and claims.
METRICS = {
    "params": "count",
    "depth": "layers",
    "storage_bytes": "bytes",
    "storage_gzip_bytes": "bytes",
    "memory_peak_bytes": "bytes",
    "inference_time_s": "s",
    "power_mean_w": "W",
    "power_peak_w": "W",
    "energy_j": "J",
    "top1": "fraction",
    "top5": "fraction",
    "precision": "fraction",
    "recall": "fraction",
    "f1": "fraction",
    "bleu": "BLEU",
    "op_shares": "share",
    "dequantize_share": "share",
}


class Measurement(object):
    """Raw samples of one metric of one cell; summaries are computed, never stored alone."""

    def __init__(self, metric, samples, unit=None, warmup=None, converged=None, notes=None, flags=None):
        # type: (str, List[float], Optional[str], Optional[List[float]], Optional[bool], Optional[Dict[str, Any]], Optional[List[str]]) -> None
        if metric not in METRICS:
            raise FormatError("unknown metric {!r}; known: {}".format(metric, ", ".join(sorted(METRICS))))
        self.metric = metric
        self.samples = [float(x) for x in samples]
        self.unit = unit or METRICS[metric]
        self.warmup = [float(x) for x in (warmup or [])]
        self.converged = converged
        self.notes = dict(notes or {})
        # quality problems that do not void the number but must be seen next to it (timing that did not
        # converge, sensor read errors, a sensor slower than the windows, throttling, emulated hardware)
        self.flags = [str(f) for f in (flags or [])]

    @property
    def n(self):
        # type: () -> int
        return len(self.samples)

    def mean(self):
        # type: () -> float
        return sum(self.samples) / len(self.samples) if self.samples else float("nan")

    def median(self):
        # type: () -> float
        if not self.samples:
            return float("nan")
        s = sorted(self.samples)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0

    def to_dict(self):
        # type: () -> Dict[str, Any]
        return {"unit": self.unit, "samples": self.samples, "warmup": self.warmup, "n": self.n,
                "converged": self.converged, "notes": self.notes, "flags": self.flags}

    @classmethod
    def from_dict(cls, metric, data):
        # type: (str, Dict[str, Any]) -> Measurement
        return cls(metric, data["samples"], data.get("unit"), data.get("warmup"),
                   data.get("converged"), data.get("notes"), data.get("flags"))


class Record(object):
    """Everything measured for one cell (model x technique x setting) in one run."""

    def __init__(self, cell, environment, measurements=None, skipped=None, started_at="",
                 duration_s=0.0, provenance=None):
        self.cell = dict(cell)
        self.provenance = dict(provenance or {})  # where the weights and data came from
        self.environment = dict(environment)
        self.measurements = dict(measurements or {})  # type: Dict[str, Measurement]
        self.skipped = dict(skipped or {})  # type: Dict[str, str]
        self.started_at = started_at
        self.duration_s = duration_s

    @property
    def key(self):
        # type: () -> str
        return self.cell["key"]

    def add(self, measurement):
        # type: (Measurement) -> None
        self.measurements[measurement.metric] = measurement
        self.skipped.pop(measurement.metric, None)

    def skip(self, metric, reason):
        # type: (str, str) -> None
        if not reason:
            raise ValueError("a skipped metric needs a reason")
        self.skipped[metric] = reason
        self.measurements.pop(metric, None)

    def value(self, metric):
        # type: (str) -> Optional[float]
        """The summary of a metric: median of time-like samples, mean otherwise; None if absent."""
        m = self.measurements.get(metric)
        if m is None or not m.samples:
            return None
        return m.median() if metric == "inference_time_s" else m.mean()

    def to_dict(self):
        # type: () -> Dict[str, Any]
        return {
            "format_version": FORMAT_VERSION, "kind": RECORD_KIND, "cell": self.cell,
            "environment": self.environment, "started_at": self.started_at,
            "duration_s": self.duration_s, "provenance": self.provenance,
            "measurements": {k: m.to_dict() for k, m in sorted(self.measurements.items())},
            "skipped": dict(sorted(self.skipped.items())),
        }

    @classmethod
    def from_dict(cls, data, source="<record>"):
        # type: (Dict[str, Any], str) -> Record
        check_format(data, RECORD_KIND, source, "re-run `invoke run` to measure it again")
        try:
            measurements = {k: Measurement.from_dict(k, v) for k, v in data["measurements"].items()}
            return cls(data["cell"], data["environment"], measurements, data.get("skipped", {}),
                       data.get("started_at", ""), data.get("duration_s", 0.0), data.get("provenance", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError("{}: malformed record ({}: {}); delete it and re-run `invoke run`".format(
                source, type(exc).__name__, exc))


def check_format(data, kind, source, fix):
    # type: (Any, str, str, str) -> None
    """Refuse files of another kind or an unknown format version, saying what to do."""
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise FormatError("{}: not an {} file; {}".format(source, kind, fix))
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise FormatError("{}: format_version {!r}, this artifact reads {}; {}".format(
            source, version, FORMAT_VERSION, fix))


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_json_atomic(path, data):
    # type: (str, Any) -> None
    """Write JSON so that readers see the old file or the whole new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(_json_safe(data), handle, indent=1, sort_keys=True, allow_nan=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path, what):
    # type: (str, str) -> Any
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise FormatError("{}: no such {} file".format(path, what))
    except ValueError as exc:
        raise FormatError("{}: not valid JSON ({}); delete it and regenerate it".format(path, exc))


def record_path(records_dir, cell_key):
    # type: (str, str) -> str
    return os.path.join(records_dir, cell_key + ".json")


def save_record(records_dir, record):
    # type: (str, Record) -> str
    path = record_path(records_dir, record.key)
    write_json_atomic(path, record.to_dict())
    return path


def load_record(path):
    # type: (str) -> Record
    return Record.from_dict(read_json(path, "record"), source=path)


def load_records(records_dir):
    # type: (str) -> Dict[str, Record]
    """All records in a directory by cell key; temporary files of an interrupted write are ignored."""
    if not os.path.isdir(records_dir):
        return {}
    out = {}
    for name in sorted(os.listdir(records_dir)):
        if name.endswith(".json") and not name.startswith("."):
            record = load_record(os.path.join(records_dir, name))
            out[record.key] = record
    return out
