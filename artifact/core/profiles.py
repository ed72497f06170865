"""Experiment matrix as data: which models, techniques, settings and metrics a profile runs.

A profile lives in `artifact/profiles/<name>.toml` (or any path given on the command line):

    format_version = 1
    name = "embedded"
    requires = []                                   # inputs: "imagenet", "slim_checkpoints", "nmt_data"
    [stands_for]                                    # model -> the paper's models it stands in for
    mini_vgg = ["vgg_16", "vgg_19"]
    [measurement]                                   # timing/eval settings, all optional
    [[group]]                                       # one group = models x settings of one technique
    technique = "quantize"
    models = ["mini_vgg", "mini_resnet"]
    settings = [{bits = 6}, {bits = 8}, {bits = 16}]
    metrics = ["storage_bytes", "inference_time_s", "top1"]

Expanding the groups gives the cells; a cell's key names its record file.
"""
import numbers
import os
from typing import Any, Dict, List, Optional, Set, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.catalog import check_model
from artifact.core.errors import ConfigError
from artifact.core.inputs import INPUTS
from artifact.core.jsonfile import FORMAT_VERSION
from artifact.core.metrics import METRICS
from artifact.core.paths import PROFILES_DIR
from artifact.core.techniques import check_setting, technique
from artifact.core.tomlfile import load_toml

DEFAULT_MEASUREMENT = {
    "warmup_windows": 3,
    "min_windows": 10,
    "max_windows": 200,
    "min_window_s": 0.001,  # a timing window lasts at least this (and 10,000 clock ticks): measure/timing.py
    "power_window_s": 0.05,  # ... and at least this when power is sampled over it (sensor updates per window)
    "ci_target": 0.05,
    "time_budget_s": 8.0,
    "paired_timing": True,  # time each variant window by window against its fp32 baseline (drift-free ratios)
    "idle_s": 1.0,  # idle power measured this long, sampler running, before each timing run
    "power_rate_hz": 1000.0,  # power sampler target rate
    # the sampler thread runs as SCHED_IDLE: it never delays an inference thread (it reads less often on a core
    # saturated by other work, and says so); false: normal priority (benchmarks/measurement.py compares both)
    "sampler_idle_priority": True,
    "eval_samples": 0,  # 0 = the whole evaluation split
    "keep_model_files": True,  # False: delete each variant's file once measured (large models)
    # mini-zoo training and fine-tuning epochs x this (the smoke slice under QEMU uses less; sizes and
    # parameter counts do not depend on it, accuracy does: records say how many epochs were used)
    "train_epochs_scale": 1.0,
}
# [retraining.<model>]: what `artifact retrain` fine-tunes a pruned model with (artifact.device.train); each
# task has defaults (artifact.device.models.tasks: retraining_defaults), a profile overrides them per model.
# name -> (kind, lowest allowed, highest allowed (None: no limit), what it must be); "gt0": a number above 0
RETRAINING_SETTINGS = {
    "optimizer": ("choice", None, None, "the optimizer: sgd (with momentum) or adam"),
    "learning_rate": ("gt0", 0.0, None, "a constant learning rate, above 0"),
    "momentum": ("number", 0.0, 0.999, "sgd's momentum, from 0 to below 1"),
    "batch_size": ("int", 1, None, "examples per step, 1 or more"),
    "steps": ("int", 1, None, "training steps, 1 or more"),
    "checkpoint_every": ("int", 1, None, "steps between checkpoints, 1 or more"),
    "clip_norm": ("number", 0.0, None, "global gradient-norm clip, 0 for none"),
    "seed": ("int", 0, None, "the data order's seed, 0 or more"),
    "validation_samples": ("int", 0, None, "evaluation examples scored after training (when it can be), 0 for all"),
}  # type: Dict[str, Tuple[str, Optional[float], Optional[float], str]]
RETRAINING_CHOICES = {"optimizer": ("sgd", "adam")}


def _retraining_value_ok(key, value):
    # type: (str, Any) -> bool
    kind, low, high, _ = RETRAINING_SETTINGS[key]
    if kind == "choice":
        return value in RETRAINING_CHOICES[key]
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral if kind == "int" else numbers.Real)):
        return False
    number = float(value)
    if kind == "gt0":
        return number > 0
    return (low is None or number >= low) and (high is None or number <= high)


# measurement settings that must be above zero (the others may be zero)
_POSITIVE = ("min_windows", "max_windows", "ci_target", "time_budget_s", "power_rate_hz",
             "train_epochs_scale")
_TOP_LEVEL = ("format_version", "name", "label", "description", "requires", "stands_for", "measurement", "retraining",
              "group")
_GROUP_FIELDS = ("technique", "models", "settings", "metrics")


def setting_slug(technique, setting):
    # type: (str, Dict[str, Any]) -> str
    if not setting:
        return "fp32"
    return "_".join("{}-{}".format(k, setting[k]) for k in sorted(setting))


def cell_key(model, technique, setting):
    # type: (str, str, Dict[str, Any]) -> str
    """The name of a cell's record file: model__technique__setting."""
    return "{}__{}__{}".format(model, technique, setting_slug(technique, setting))


class Cell(object):
    """One model x technique x setting, with the metrics to measure on it."""

    def __init__(self, model, technique, setting, metrics):
        # type: (str, str, Dict[str, Any], List[str]) -> None
        self.model = model
        self.technique = technique
        self.setting = dict(setting)
        self.metrics = list(metrics)

    @property
    def key(self):
        # type: () -> str
        return cell_key(self.model, self.technique, self.setting)

    def to_dict(self):
        # type: () -> Dict[str, Any]
        return {"key": self.key, "model": self.model, "technique": self.technique,
                "setting": self.setting, "metrics": self.metrics}

    def __repr__(self):
        return "Cell({})".format(self.key)


class Profile(object):
    def __init__(self, name, source, description, requires, stands_for, measurement, cells, label="", retraining=None):
        # type: (str, str, str, List[str], Dict[str, List[str]], Dict[str, Any], List[Cell], str, Optional[Dict[str, Dict[str, Any]]]) -> None
        self.name = name
        self.retraining = dict(retraining or {})  # model -> settings overriding its task's retraining defaults
        self.label = label  # e.g. "QUICK": said on every verdict and on the report
        self.source = source
        self.description = description
        self.requires = requires
        self.stands_for = stands_for
        self.measurement = measurement
        self.cells = cells

    @property
    def models(self):
        # type: () -> List[str]
        seen = []  # type: List[str]
        for cell in self.cells:
            if cell.model not in seen:
                seen.append(cell.model)
        return seen

    def cells_of(self, model):
        # type: (str) -> List[Cell]
        return [c for c in self.cells if c.model == model]


def available_profiles():
    # type: () -> List[str]
    return sorted(n[:-5] for n in os.listdir(PROFILES_DIR) if n.endswith(".toml"))


def profile_path(name_or_path):
    # type: (str) -> str
    if os.path.sep in name_or_path or name_or_path.endswith(".toml"):
        return name_or_path
    path = os.path.join(PROFILES_DIR, name_or_path + ".toml")
    if not os.path.exists(path):
        raise ConfigError("unknown profile {!r}; choose one of: {} (or give a path to a .toml file)".format(
            name_or_path, ", ".join(available_profiles())))
    return path


def load_profile(name_or_path):
    # type: (str) -> Profile
    """The profile, validated completely: a mistake anywhere is one line before anything runs."""
    path = profile_path(name_or_path)
    return parse_profile(load_toml(path, "profile", ConfigError), path)


def _require(data, field, kind, where, what=None):
    # type: (Dict[str, Any], str, Any, str, Optional[str]) -> Any
    if field not in data:
        raise ConfigError("{}: missing field {!r}".format(where, field))
    if not isinstance(data[field], kind) or isinstance(data[field], bool) and kind is not bool:
        raise ConfigError("{}: field {!r} must be {}, got {!r}".format(
            where, field, what or "a " + getattr(kind, "__name__", str(kind)), data[field]))
    return data[field]


def _names(value, where, field):
    # type: (Any, str, str) -> List[str]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError("{}: {} must be a non-empty list of names, like [\"a\", \"b\"], got {!r}".format(
            where, field, value))
    return value


def _measurement(data, path):
    # type: (Any, str) -> Dict[str, Any]
    if not isinstance(data, dict):
        raise ConfigError("{}: [measurement] must be a table of settings, got {!r}".format(path, data))
    measurement = dict(DEFAULT_MEASUREMENT)
    for key, value in data.items():
        if key not in DEFAULT_MEASUREMENT:
            raise ConfigError("{}: [measurement] {!r} is not a setting; known: {}".format(
                path, key, ", ".join(sorted(DEFAULT_MEASUREMENT))))
        default = DEFAULT_MEASUREMENT[key]
        where = "{}: [measurement] {} = {!r}".format(path, key, value)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError("{} must be true or false".format(where))
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError("{} must be a number".format(where))
        elif isinstance(default, int) and not isinstance(value, numbers.Integral):
            raise ConfigError("{} must be a whole number".format(where))
        elif value < 0 or (key in _POSITIVE and value == 0):
            raise ConfigError("{} must be {} 0".format(where, "above" if key in _POSITIVE else "at least"))
        measurement[key] = value
    if measurement["min_windows"] > measurement["max_windows"]:
        raise ConfigError("{}: [measurement] min_windows {} is above max_windows {}".format(
            path, measurement["min_windows"], measurement["max_windows"]))
    return measurement


def _retraining(data, path):
    # type: (Any, str) -> Dict[str, Dict[str, Any]]
    if not isinstance(data, dict):
        raise ConfigError("{}: [retraining] must hold one table per model, like [retraining.vgg_16]".format(path))
    out = {}  # type: Dict[str, Dict[str, Any]]
    for model, settings in data.items():
        check_model(model, "{}: [retraining]".format(path))
        if not isinstance(settings, dict):
            raise ConfigError("{}: [retraining.{}] must be a table of settings, got {!r}".format(path, model, settings))
        for key, value in settings.items():
            where = "{}: [retraining.{}] {} = {!r}".format(path, model, key, value)
            if key not in RETRAINING_SETTINGS:
                raise ConfigError("{}: [retraining.{}] {!r} is not a setting; known: {}".format(
                    path, model, key, ", ".join(sorted(RETRAINING_SETTINGS))))
            if not _retraining_value_ok(key, value):
                raise ConfigError("{} is not valid: {}".format(where, RETRAINING_SETTINGS[key][3]))
        out[model] = dict(settings)
    return out


def parse_profile(data, path):
    # type: (Dict[str, Any], str) -> Profile
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError("{}: format_version {!r}, this artifact reads {}; update the profile".format(
            path, version, FORMAT_VERSION))
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        raise ConfigError("{}: {!r} is not a profile field; known: {}".format(path, unknown[0], ", ".join(_TOP_LEVEL)))
    name = _require(data, "name", str, path)
    label = data.get("label", "")
    if not isinstance(label, str):
        raise ConfigError("{}: label must be a string, like \"QUICK\", got {!r}".format(path, label))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError("{}: description must be a string, got {!r}".format(path, description))
    requires = data.get("requires", [])
    if not isinstance(requires, list):
        raise ConfigError("{}: requires must be a list of inputs, got {!r}".format(path, requires))
    for need in requires:
        if not isinstance(need, str) or need not in INPUTS:
            raise ConfigError("{}: requires {!r} is not a known input; known: {}".format(
                path, need, ", ".join(sorted(INPUTS))))
    stands_for = data.get("stands_for", {})
    if not isinstance(stands_for, dict):
        raise ConfigError("{}: [stands_for] must map a model to the paper's models it stands for".format(path))
    for model, paper_models in stands_for.items():
        check_model(model, "{}: [stands_for]".format(path))
        for paper_model in _names(paper_models, "{}: [stands_for] {}".format(path, model), "its value"):
            check_model(paper_model, "{}: [stands_for] {}".format(path, model))
    measurement = _measurement(data.get("measurement", {}), path)
    retraining = _retraining(data.get("retraining", {}), path)
    cells = []  # type: List[Cell]
    seen = set()  # type: Set[str]
    groups = _require(data, "group", list, path, "a list of [[group]] tables")
    if not groups:
        raise ConfigError("{}: no [[group]] tables: a profile needs at least one".format(path))
    for i, group in enumerate(groups):
        where = "{}: group {}".format(path, i + 1)
        if not isinstance(group, dict):
            raise ConfigError("{} must be a [[group]] table, got {!r}".format(where, group))
        unknown = sorted(set(group) - set(_GROUP_FIELDS))
        if unknown:
            raise ConfigError("{}: {!r} is not a group field; known: {}".format(
                where, unknown[0], ", ".join(_GROUP_FIELDS)))
        name_of_technique = _require(group, "technique", str, where)
        technique(name_of_technique, where)
        metrics = _names(group.get("metrics"), where, "metrics")
        for metric in metrics:
            if metric not in METRICS:
                raise ConfigError("{}: metric {!r} unknown; known: {}".format(where, metric, ", ".join(METRICS)))
        settings = group.get("settings", [{}])
        if not isinstance(settings, list) or not settings:
            raise ConfigError("{}: settings must be a non-empty list of tables, like [{{bits = 8}}], got {!r}".format(
                where, settings))
        settings = [check_setting(name_of_technique, s, "{} setting {!r}".format(where, s)) for s in settings]
        for model in _names(group.get("models"), where, "models"):
            check_model(model, where)
            for setting in settings:
                cell = Cell(model, name_of_technique, setting, metrics)
                if cell.key in seen:
                    raise ConfigError("{}: cell {} appears twice".format(where, cell.key))
                seen.add(cell.key)
                cells.append(cell)
    return Profile(name, path, description, list(requires), dict(stands_for), measurement, cells, label, retraining)
