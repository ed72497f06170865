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
import os
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError
from artifact.core.jsonfile import FORMAT_VERSION, check_format, read_json, write_json_atomic
from artifact.core.metrics import METRICS, metric, summarize

RECORD_KIND = "artifact-record"
__all__ = ["FORMAT_VERSION", "METRICS", "Measurement", "RECORD_KIND", "Record", "check_format", "load_record",
           "load_records", "read_json", "record_path", "save_record", "write_json_atomic"]


class Measurement(object):
    """Raw samples of one metric of one cell; summaries are computed, never stored alone."""

    def __init__(self, name, samples, unit=None, warmup=None, converged=None, notes=None, flags=None):
        # type: (str, List[float], Optional[str], Optional[List[float]], Optional[bool], Optional[Dict[str, Any]], Optional[List[str]]) -> None
        metric(name)  # refuses an unknown metric
        self.metric = name
        self.samples = [float(x) for x in samples]
        self.unit = unit or METRICS[name].unit
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
        """The summary of a metric (artifact.core.metrics says which statistic); None if absent."""
        m = self.measurements.get(metric)
        if m is None or not m.samples:
            return None
        return summarize(metric, m.samples)

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
