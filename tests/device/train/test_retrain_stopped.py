"""A retrain stopped before a cell's last step (retrain_cell returns None: the checkpoint stays in .work/ for
the next run) is an outcome "stopped", not a crash reading the manifest of a package that was never written.
The fine-tuning itself is stood in for: what is tested is retrain_profile's handling of the stop."""
import types

from artifact.core.profiles import load_profile
from artifact.device.train import retrain


def test_a_cell_stopped_before_its_last_step_is_said_and_the_others_go_on(tmp_path, monkeypatch):
    import artifact.device.models.tasks as tasks

    task = types.SimpleNamespace(can_retrain=True, retrain_note="")
    monkeypatch.setattr(tasks, "task_for", lambda name, inputs, limit: task)
    monkeypatch.setattr(retrain, "retraining_settings", lambda task, profile, model, max_steps: {"steps": 10})
    monkeypatch.setattr(retrain, "baseline_model", lambda *args: "baseline")
    monkeypatch.setattr(retrain, "baseline_identity", lambda task, model: {"weights_sha256": "x"})
    monkeypatch.setattr(retrain, "retrain_cell", lambda *args, **kwargs: None)
    profile = load_profile("smoke")
    outcomes = retrain.retrain_profile(profile, str(tmp_path), str(tmp_path / "retrained"), {}, say=lambda _: None)
    cells = retrain.packaged_cells(profile)
    assert cells and [o.cell.key for o in outcomes] == [c.key for c in cells]
    assert all(o.status == "stopped" and o.package is None and "run again" in o.detail for o in outcomes)
