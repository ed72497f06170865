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
import os

from artifact.errors import ConfigError

try:
    import tomllib as _toml  # novermin (Python >= 3.11; tomli below)
except ImportError:  # pragma: no cover - Python 3.6 to 3.10 (Jetson images)
    import tomli as _toml

FORMAT_VERSION = 1
PROFILES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profiles")
TECHNIQUES = ("baseline", "quantize", "prune", "quantize_prune", "magnitude_prune", "litert")
INPUTS = {
    "imagenet": "the ILSVRC2012 validation set: --imagenet DIR (50,000 JPEGs + LOC_val_solution.csv or the devkit)",
    "slim_checkpoints": "TF-Slim checkpoints: --checkpoints DIR (vgg_16.ckpt, resnet_v1_50.ckpt, ...)",
    "nmt_data": "NMT test set, vocabularies and checkpoint: --nmt DIR",
    "jetson": "a Jetson with INA3221 power sensors (run inside docker/jetson)",
}
DEFAULT_MEASUREMENT = {
    "warmup_windows": 3,
    "min_windows": 10,
    "max_windows": 200,
    "min_window_s": 0.05,
    "ci_target": 0.05,
    "time_budget_s": 8.0,
    "paired_timing": True,  # time each variant window by window against its fp32 baseline (drift-free ratios)
    "idle_s": 1.0,  # idle power measured this long, sampler running, before each timing run
    "power_rate_hz": 1000.0,  # power sampler target rate
    "eval_samples": 0,  # 0 = the whole evaluation split
    "keep_model_files": True,  # False: delete each variant's file once measured (large models)
    # mini-zoo training and fine-tuning epochs x this (the smoke slice under QEMU uses less; sizes and
    # parameter counts do not depend on it, accuracy does: records say how many epochs were used)
    "train_epochs_scale": 1.0,
}


def setting_slug(technique, setting):
    # type: (str, Dict[str, Any]) -> str
    if not setting:
        return "fp32"
    return "_".join("{}-{}".format(k, setting[k]) for k in sorted(setting))


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
        return "{}__{}__{}".format(self.model, self.technique, setting_slug(self.technique, self.setting))

    def to_dict(self):
        # type: () -> Dict[str, Any]
        return {"key": self.key, "model": self.model, "technique": self.technique,
                "setting": self.setting, "metrics": self.metrics}

    def __repr__(self):
        return "Cell({})".format(self.key)


class Profile(object):
    def __init__(self, name, source, description, requires, stands_for, measurement, cells):
        self.name = name
        self.source = source
        self.description = description
        self.requires = requires  # type: List[str]
        self.stands_for = stands_for  # type: Dict[str, List[str]]
        self.measurement = measurement  # type: Dict[str, Any]
        self.cells = cells  # type: List[Cell]

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


def load_profile(name_or_path, known_metrics=None):
    # type: (str, Any) -> Profile
    path = profile_path(name_or_path)
    try:
        with open(path, "rb") as handle:
            data = _toml.load(handle)
    except FileNotFoundError:
        raise ConfigError("{}: profile file not found".format(path))
    except _toml.TOMLDecodeError as exc:
        raise ConfigError("{}: not valid TOML ({}); fix the syntax".format(path, exc))
    return parse_profile(data, path, known_metrics)


def _require(data, field, kind, where):
    if field not in data:
        raise ConfigError("{}: missing field {!r}".format(where, field))
    if not isinstance(data[field], kind):
        raise ConfigError("{}: field {!r} must be a {}, got {!r}".format(
            where, field, getattr(kind, "__name__", kind), data[field]))
    return data[field]


def parse_profile(data, path, known_metrics=None):
    # type: (Dict[str, Any], str, Any) -> Profile
    if known_metrics is None:
        from artifact.records import METRICS as known_metrics
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ConfigError("{}: format_version {!r}, this artifact reads {}; update the profile".format(
            path, version, FORMAT_VERSION))
    name = _require(data, "name", str, path)
    requires = data.get("requires", [])
    for need in requires:
        if need not in INPUTS:
            raise ConfigError("{}: requires {!r} is not a known input; known: {}".format(
                path, need, ", ".join(sorted(INPUTS))))
    measurement = dict(DEFAULT_MEASUREMENT)
    for key, value in data.get("measurement", {}).items():
        if key not in DEFAULT_MEASUREMENT:
            raise ConfigError("{}: [measurement] {!r} is not a setting; known: {}".format(
                path, key, ", ".join(sorted(DEFAULT_MEASUREMENT))))
        measurement[key] = value
    cells = []  # type: List[Cell]
    seen = set()
    for i, group in enumerate(_require(data, "group", list, path)):
        where = "{}: group {}".format(path, i + 1)
        technique = _require(group, "technique", str, where)
        if technique not in TECHNIQUES:
            raise ConfigError("{}: technique {!r} unknown; known: {}".format(
                where, technique, ", ".join(TECHNIQUES)))
        metrics = _require(group, "metrics", list, where)
        for metric in metrics:
            if metric not in known_metrics:
                raise ConfigError("{}: metric {!r} unknown; known: {}".format(
                    where, metric, ", ".join(sorted(known_metrics))))
        for model in _require(group, "models", list, where):
            for setting in group.get("settings", [{}]):
                cell = Cell(model, technique, setting, metrics)
                if cell.key in seen:
                    raise ConfigError("{}: cell {} appears twice".format(where, cell.key))
                seen.add(cell.key)
                cells.append(cell)
    return Profile(name, path, data.get("description", ""), list(requires),
                   dict(data.get("stands_for", {})), measurement, cells)
