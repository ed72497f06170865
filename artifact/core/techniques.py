"""What a technique is: one row per technique, as TF-MOT's prune_registry keeps its layers.

A row names the technique's settings (type, range or choices), whether it fine-tunes the model
after changing it (`retrains`), and the suffix of the file it is deployed as. Profiles and claims
are validated against these rows when they are read, so `{bit = 8}` or `bits = 33` is one line
before anything is trained; the device side's compression code reads the same ranges
(`artifact.device.compress.techniques` dispatches on the same names, and a test checks both agree).
"""
import collections
import numbers
from typing import Any, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError

Setting = collections.namedtuple("Setting", ["name", "kind", "low", "high", "open_interval", "choices", "help"])
Technique = collections.namedtuple("Technique", ["name", "settings", "retrains", "suffix", "description"])

KERAS_FILE = ".model.zip"  # the artifact's own model file (artifact.device.compress.storage)
LITERT_FILE = ".tflite"

BITS = Setting("bits", "int", 2, 16, False, None, "weight bit width, an integer from 2 to 16")
THRESHOLD = Setting("threshold", "float", 0.0, 1.0, True, None, "fraction of filters/neurons removed, in (0, 1)")
SPARSITY = Setting("sparsity", "float", 0.0, 1.0, True, None, "fraction of weights zeroed, in (0, 1)")
LITERT_MODES = ("fp32", "dynamic", "float16", "int8")
LOW_BITS = Setting("low_bits", "int", 2, 16, False, None, "bit width of the least sensitive weights, 2 to 16")
LOW_FRACTION = Setting("low_fraction", "float", 0.0, 1.0, True, None,
                       "fraction of the quantizable weights (by count) stored at low_bits, in (0, 1)")
MODE = Setting("mode", "choice", None, None, False, LITERT_MODES, "LiteRT conversion: " + ", ".join(LITERT_MODES))

TECHNIQUES = collections.OrderedDict((t.name, t) for t in [
    Technique("baseline", (), False, KERAS_FILE, "the trained fp32 model, unchanged"),
    Technique("quantize", (BITS,), False, KERAS_FILE, "k-bit weights, dequantized at run time"),
    Technique("prune", (THRESHOLD,), True, KERAS_FILE, "L1 filter/neuron removal, then fine-tuning"),
    Technique("quantize_prune", (BITS, THRESHOLD), True, KERAS_FILE,
              "k-bit quantization, pruning of the quantized weights, fine-tuning, stored in k bits"),
    Technique("quantize_mixed", (BITS, LOW_BITS, LOW_FRACTION), False, KERAS_FILE,
              "beyond the paper (its §V): mixed bit widths, the least sensitive layers at low_bits, the rest at bits"),
    Technique("magnitude_prune", (SPARSITY,), True, KERAS_FILE,
              "TF-MOT unstructured magnitude pruning (the zeros stay in a dense model)"),
    Technique("litert", (MODE,), False, LITERT_FILE, "beyond the paper: a LiteRT conversion run by its interpreter"),
])


def technique(name, where="technique"):
    # type: (Any, str) -> Technique
    if not isinstance(name, str) or name not in TECHNIQUES:
        raise ConfigError("{}: technique {!r} unknown; known: {}".format(where, name, ", ".join(TECHNIQUES)))
    return TECHNIQUES[name]


def check_value(spec, value, where):
    # type: (Setting, Any, str) -> Any
    """`value` as the setting's type, or a ConfigError saying what it must be."""
    bad = "{}: setting {} = {!r} is not valid: {}".format(where, spec.name, value, spec.help)
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ConfigError(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(bad)
    if spec.kind == "int" and (not isinstance(value, numbers.Integral)):
        raise ConfigError(bad)
    inside = spec.low < value < spec.high if spec.open_interval else spec.low <= value <= spec.high
    if not inside:
        raise ConfigError(bad)
    return int(value) if spec.kind == "int" else float(value)  # type: ignore[call-overload]


def check_setting(name, setting, where="setting"):
    # type: (str, Any, str) -> Dict[str, Any]
    """A technique's setting validated against its row: every key known and present, every value valid."""
    row = technique(name, where)
    if not isinstance(setting, dict):
        raise ConfigError("{}: a {} setting must be a table like {}, got {!r}".format(
            where, name, example(row), setting))
    known = {s.name: s for s in row.settings}
    unknown = sorted(set(setting) - set(known))
    if unknown:
        raise ConfigError("{}: {} has no setting {!r}; its settings: {}".format(
            where, name, unknown[0], ", ".join(known) or "none (write {})"))
    missing = [s for s in known if s not in setting]
    if missing:
        raise ConfigError("{}: {} needs setting {!r} ({}), e.g. {}".format(
            where, name, missing[0], known[missing[0]].help, example(row)))
    checked = {key: check_value(known[key], value, where) for key, value in setting.items()}
    rule = RULES.get(name)
    if rule is not None and not rule[0](checked):
        raise ConfigError("{}: {} setting {}: {}".format(where, name, checked, rule[1]))
    return checked


def example(row):
    # type: (Technique) -> str
    values = {"int": 8, "float": 0.05, "choice": None}
    parts = ["{} = {}".format(s.name, repr(s.choices[0]) if s.kind == "choice" else values[s.kind])
             for s in row.settings]
    return "{" + ", ".join(parts) + "}"


# rules across a technique's settings: name -> (holds(setting), what to fix)
RULES = {
    "quantize_mixed": (lambda s: s["low_bits"] < s["bits"], "low_bits must be below bits"),
}


def retrains(name):
    # type: (str) -> bool
    return technique(name).retrains


def suffix_for(name):
    # type: (str) -> str
    return technique(name).suffix
