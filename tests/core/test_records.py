import json
import os

import pytest

from artifact.core.errors import FormatError
from artifact.core.records import Measurement, Record, load_record, load_records, save_record, write_json_atomic


def open_text(path):
    with open(path) as handle:
        return handle.read()


def make_record(key="m__baseline__fp32"):
    record = Record({"key": key, "model": "m", "technique": "baseline", "setting": {}, "metrics": []}, {"host": "h"})
    record.add(Measurement("inference_time_s", [0.3, 0.1, 0.2], warmup=[1.0], converged=True))
    record.skip("energy_j", "needs a power sensor")
    return record


def test_round_trip_keeps_raw_samples_and_skips(tmp_path):
    path = save_record(str(tmp_path), make_record())
    back = load_record(path)
    assert back.measurements["inference_time_s"].samples == [0.3, 0.1, 0.2]
    assert back.measurements["inference_time_s"].warmup == [1.0]
    assert back.value("inference_time_s") == pytest.approx(0.2)  # median for time
    assert back.skipped == {"energy_j": "needs a power sensor"}


def test_unknown_version_is_refused_with_what_to_do(tmp_path):
    path = save_record(str(tmp_path), make_record())
    data = json.loads(open_text(path))
    data["format_version"] = 99
    with open(path, "w") as handle:
        json.dump(data, handle)
    with pytest.raises(FormatError, match="format_version 99.*run `invoke run` again to measure the cell"):
        load_record(path)


def test_malformed_json_names_the_file(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(FormatError, match="x.json: not valid JSON"):
        load_records(str(tmp_path))


def test_interrupted_write_leaves_old_file_and_no_partial(tmp_path):
    path = tmp_path / "a.json"
    write_json_atomic(str(path), {"v": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(str(path), {"v": Boom()})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_skip_needs_a_reason_and_non_finite_samples_are_written_and_read_back(tmp_path):
    import math

    record = make_record()
    with pytest.raises(ValueError):
        record.skip("top1", "")
    record.add(Measurement("top1", [float("nan")]))
    record.add(Measurement("energy_j", [float("inf"), -float("inf"), 0.5]))
    path = save_record(str(tmp_path), record)
    data = json.loads(open_text(path))
    assert data["measurements"]["top1"]["samples"] == ["NaN"]   # the declared encoding (artifact.core.schema)
    assert data["measurements"]["energy_j"]["samples"] == ["Infinity", "-Infinity", 0.5]
    back = load_record(path)
    assert math.isnan(back.value("top1")) and back.measurements["energy_j"].samples[:2] == [math.inf, -math.inf]
    data["measurements"]["top1"]["samples"] = [None]   # what earlier versions wrote reads back as NaN
    path_old = tmp_path / "old"
    path_old.mkdir()
    (path_old / os.path.basename(path)).write_text(json.dumps(data))
    assert math.isnan(load_records(str(path_old))[record.key].value("top1"))
