"""Records: one JSON file per measured cell of the experiment matrix.

A record keeps raw samples (warm-ups apart), the cell it measures, the environment it was
measured in, and the metrics that were skipped with the reason. Records are written atomically
(temporary file + rename), so a run killed at any moment leaves either a whole record or none.

    {"format_version": 1, "kind": "artifact-record",
     "cell": {"model": ..., "technique": ..., "setting": {...}, "metrics": [...]},
     "environment": {...}, "started_at": ..., "duration_s": ..., "phases": {"compress": s, ...},
     "provenance": {"weights": ..., "data": ..., "retrained": ...},
     "measurements": {"inference_time_s": {"unit": "s", "samples": [...], "warmup": [...],
                                           "n": 31, "converged": true, "notes": {...}}, ...},
     "skipped": {"energy_j": "no power sensor: ..."}}
"""
import os
import sys
from typing import Any, Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ArtifactError, FormatError
from artifact.core.jsonfile import FORMAT_VERSION, check_format, read_json, write_json_atomic
from artifact.core.metrics import METRICS, NOTE_KEYS, PLAUSIBLE, PLAUSIBLE_NOTES, implausible, metric, summarize
from artifact.core.profiles import cell_key
from artifact.core.schema import check, encode_number, field, known_keys, numbers_list, shown_key
from artifact.core.techniques import check_setting

RECORD_KIND = "artifact-record"
__all__ = ["FORMAT_VERSION", "METRICS", "Measurement", "RECORD_KIND", "Record", "check_format", "load_record",
           "load_records", "read_json", "record_path", "save_record", "write_json_atomic"]


def _or(value, default):
    # type: (Any, Any) -> Any
    """`default` for an absent (None) field; any other value, even an empty one of the wrong type, is checked."""
    return default if value is None else value


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
        return {"unit": self.unit, "samples": [encode_number(x) for x in self.samples],
                "warmup": [encode_number(x) for x in self.warmup], "n": self.n,
                "converged": self.converged, "notes": self.notes, "flags": self.flags}

    @classmethod
    def from_dict(cls, name, data, where="measurement", fix=""):
        # type: (str, Any, str, str) -> Measurement
        """A measurement read back, every field checked against its declared type (artifact.core.schema)."""
        check(data, "a table", where, fix)
        known_keys(data, ("unit", "samples", "warmup", "n", "converged", "notes", "flags"), where, fix)
        samples = numbers_list(field(data, "samples", "a list", where, fix), where + ".samples", fix)
        unit = field(data, "unit", "a string", where, fix, required=False)
        if unit is not None and unit != METRICS[name].unit:
            raise FormatError("{}.unit: {!r}, but {} is measured in {!r}; {}".format(
                where, unit, name, METRICS[name].unit, fix))
        warmup = numbers_list(_or(data.get("warmup"), []), where + ".warmup", fix)
        converged = check(data.get("converged"), "true or false", where + ".converged", fix, optional=True)
        notes = check(_or(data.get("notes"), {}), "a table", where + ".notes", fix)
        flags = check(_or(data.get("flags"), []), "a list", where + ".flags", fix)
        for i, flag in enumerate(flags):
            check(flag, "a string", "{}.flags[{}]".format(where, i), fix)
        _plausible(samples, PLAUSIBLE[name], where + ".samples", fix)
        for note in NOTE_KEYS:
            if note in notes and notes[note] is not None:
                value = check(notes[note], "a number", "{}.notes.{}".format(where, note), fix)
                _plausible([value], PLAUSIBLE_NOTES[note], "{}.notes.{}".format(where, note), fix, indexed=False)
        return cls(name, samples, unit, warmup, converged, notes, flags)


def _plausible(values, bounds, where, fix, indexed=True):
    # type: (List[float], Any, str, str, bool) -> None
    """Refuse a finite value no measurement can give (an edited or corrupted file), naming it and the range."""
    for i, value in enumerate(values):
        if implausible(bounds, value):
            raise FormatError("{}{}: {!r} is outside what can be measured ({:g} to {:g}); {}".format(
                where, "[{}]".format(i) if indexed else "", value, bounds[0], bounds[1], fix))


class Record(object):
    """Everything measured for one cell (model x technique x setting) in one run."""

    def __init__(self, cell, environment, measurements=None, skipped=None, started_at="",
                 duration_s=0.0, provenance=None, phases=None):
        self.cell = dict(cell)
        self.provenance = dict(provenance or {})  # where the weights and data came from
        self.environment = dict(environment)
        self.measurements = dict(measurements or {})  # type: Dict[str, Measurement]
        self.skipped = dict(skipped or {})  # type: Dict[str, str]
        self.started_at = started_at
        self.duration_s = duration_s
        # wall seconds of each phase of the cell (baseline, compress, save, load, then each meter of
        # artifact.device.run.meters by name): where a run's time goes
        self.phases = dict(phases or {})  # type: Dict[str, float]

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

    def power_rails(self):
        # type: () -> Optional[str]
        """The power sensor and rails its power measurements were read from (`rail_set`), or None."""
        for name, measurement in sorted(self.measurements.items()):
            sensor = measurement.notes.get("sensor") if METRICS[name].group == "power" else None
            if isinstance(sensor, dict) and sensor.get("backend"):
                return rail_set(sensor)
        return None

    def to_dict(self):
        # type: () -> Dict[str, Any]
        return {
            "format_version": FORMAT_VERSION, "kind": RECORD_KIND, "cell": self.cell,
            "environment": self.environment, "started_at": self.started_at,
            "duration_s": self.duration_s, "phases": self.phases, "provenance": self.provenance,
            "measurements": {k: m.to_dict() for k, m in sorted(self.measurements.items())},
            "skipped": dict(sorted(self.skipped.items())),
        }

    @classmethod
    def from_dict(cls, data, source="<record>"):
        # type: (Any, str) -> Record
        """A record read back, every field checked: one line naming the file, the field's path and the fix."""
        check_format(data, RECORD_KIND, source, REMEASURE)
        known_keys(data, RECORD_FIELDS, source, REMEASURE)
        cell = check_cell(field(data, "cell", "a table", source, REMEASURE), source + ": cell")
        environment = field(data, "environment", "a table", source, REMEASURE)
        raw = field(data, "measurements", "a table", source, REMEASURE)
        measurements = {}
        for name, value in raw.items():
            where = "{}: measurements.{}".format(source, shown_key(name))
            if name not in METRICS:
                raise FormatError("{}: unknown metric (known: {}); {}".format(where, ", ".join(METRICS), REMEASURE))
            measurements[name] = Measurement.from_dict(name, value, where, REMEASURE)
        skipped = field(data, "skipped", "a table", source, REMEASURE, default={}, required=False)
        for name, reason in skipped.items():
            check(reason, "a string", "{}: skipped.{}".format(source, shown_key(name)), REMEASURE)
        started_at = field(data, "started_at", "a string", source, REMEASURE, default="", required=False)
        duration = field(data, "duration_s", "a number", source, REMEASURE, default=0.0, required=False)
        provenance = field(data, "provenance", "a table", source, REMEASURE, default={}, required=False)
        phases = field(data, "phases", "a table", source, REMEASURE, default={}, required=False)
        for name, seconds in phases.items():
            check(seconds, "a number", "{}: phases.{}".format(source, shown_key(name)), REMEASURE)
        return cls(cell, environment, measurements, skipped, started_at, duration, provenance, phases)


RECORD_FIELDS = ("format_version", "kind", "cell", "environment", "started_at", "duration_s", "phases", "provenance",
                 "measurements", "skipped")
REMEASURE = "delete the file and run `invoke run` again to measure the cell (run also sets such files aside itself)"


def check_cell(cell, where):
    # type: (Dict[str, Any], str) -> Dict[str, Any]
    """A record's cell: its fields typed, its technique and setting valid, its key the one they make."""
    known_keys(cell, ("key", "model", "technique", "setting", "metrics"), where, REMEASURE)
    key = field(cell, "key", "a string", where, REMEASURE)
    model = field(cell, "model", "a string", where, REMEASURE)
    technique = field(cell, "technique", "a string", where, REMEASURE)
    setting = field(cell, "setting", "a table", where, REMEASURE)
    metrics = field(cell, "metrics", "a list", where, REMEASURE)
    for i, name in enumerate(metrics):
        check(name, "a string", "{}.metrics[{}]".format(where, i), REMEASURE)
        if name not in METRICS:
            raise FormatError("{}.metrics: unknown metric {!r}; {}".format(where, name, REMEASURE))
    try:
        check_setting(technique, setting, where)
    except ArtifactError as exc:
        raise FormatError("{}; {}".format(exc, REMEASURE))
    expected = cell_key(model, technique, setting)
    if key != expected:
        raise FormatError("{}.key: {!r}, but its model, technique and setting make {!r}; {}".format(
            where, key, expected, REMEASURE))
    return cell


def rail_set(sensor_info):
    # type: (Dict[str, Any]) -> str
    """One name for what a power number sums: the backend and its rails (a sensor's `describe()`), e.g.
    'jetson-ina3221-r32:VDD_IN'. A run keeps one (run.json `power_rails`): 'VDD_IN' and a sum of sub-rails differ."""
    return "{}:{}".format(sensor_info.get("backend"), sensor_info.get("rails"))


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


def load_records(records_dir, set_aside=False):
    # type: (str, bool) -> Dict[str, Record]
    """All records in a directory by cell key; temporary files of an interrupted write are ignored.

    A malformed record is an error naming it, or with `set_aside` (what `run` does: it measures the cell
    again) is renamed to `<name>.broken` with a warning on stderr, so one bad file never blocks a directory."""
    if os.path.exists(records_dir) and not os.path.isdir(records_dir):
        raise FormatError("{}: is a file, not a records directory; remove it".format(records_dir))
    if not os.path.isdir(records_dir):
        return {}
    out = {}  # type: Dict[str, Record]
    for name in sorted(os.listdir(records_dir)):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(records_dir, name)
        try:
            record = load_record(path)
            if name != record.key + ".json":
                raise FormatError("{}: holds the record of cell {!r}, whose file is {}.json; {}".format(
                    path, record.key, record.key, REMEASURE))
        except FormatError as exc:
            if not set_aside:
                raise
            os.replace(path, path + ".broken")
            sys.stderr.write("warning: {}; set aside as {}.broken, the cell is measured again\n".format(
                exc, name))
            continue
        out[record.key] = record
    return out
