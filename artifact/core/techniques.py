"""What a technique is: one row per technique, as TF-MOT's prune_registry keeps its layers.

A row owns everything that varies with its technique, so a new technique is its row, its function and its
test (docs/DESIGN.md, "Where a change goes"):
- `settings`: each setting's type, range or choices (profiles and claims are validated against them when
  they are read, so `{bit = 8}` or `bits = 33` is one line before anything is trained) and `search`, the
  range `artifact explore` suggests from (None: the setting is never explored);
- `retrains`: whether it fine-tunes the model after changing it; `suffix`: the file it is deployed as;
- `compress`: "module:function" of the device-side function that applies it, imported only when a cell of
  it runs (`artifact.device.compress.techniques.apply_technique` dispatches by this name);
- `grid`: whether it is in the paper's own grid (Section IV); `explore`: the kinds of model ("cnn",
  "translator") the search tries it on;
- `figures`: the report's figures drawn for it alone; `colour`: its one colour in every figure (its settings
  are shades of it, `setting_shade`).
"""
import collections
import numbers
from typing import Any, Dict, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError

Setting = collections.namedtuple("Setting", ["name", "kind", "low", "high", "open_interval", "choices", "help",
                                             "search"])
Technique = collections.namedtuple("Technique", ["name", "settings", "retrains", "suffix", "description",
                                                 "compress", "grid", "explore", "figures", "colour"])
# a figure of the report drawn for one technique: kind "panels" (the paper's bar panels; `panels` names the
# set: "paper", "combined", "sparsity") or "bubble"; `settings`: the setting slugs it keeps (None: all)
Figure = collections.namedtuple("Figure", ["stem", "kind", "title", "panels", "settings"])

KERAS_FILE = ".model.zip"  # the artifact's own model file (artifact.device.compress.storage)
LITERT_FILE = ".tflite"
SEARCH_DECIMALS = 2  # explore rounds a float setting to this many decimals, so that a cell key is stable
CNN, TRANSLATOR = "cnn", "translator"  # the kinds of model explore tells apart
COMPRESS = "artifact.device.compress.techniques:"  # the module of the paper's techniques

BITS = Setting("bits", "int", 2, 16, False, None, "weight bit width, an integer from 2 to 16", (2, 16))
THRESHOLD = Setting("threshold", "float", 0.0, 1.0, True, None, "fraction of filters/neurons removed, in (0, 1)",
                    (0.05, 0.90))
SPARSITY = Setting("sparsity", "float", 0.0, 1.0, True, None, "fraction of weights zeroed, in (0, 1)", None)
BLOCKS = ("first", "middle", "last")  # prune_blocks: the thirds of a network's prunable layers, input to output
BLOCK_FRACTIONS = tuple(Setting(b, "float", 0.0, 0.95, False, None, "fraction of the filters/neurons removed in the "
                                + b + " third of the prunable layers, 0 to 0.95 (0 keeps them whole)", (0.0, 0.90))
                        for b in BLOCKS)
LITERT_MODES = ("fp32", "dynamic", "float16", "int8")
MIXED_BITS = BITS._replace(search=(4, 16))  # the high width of a mixed model: 2 or 3 leaves no low width below it
LOW_BITS = Setting("low_bits", "int", 2, 16, False, None, "bit width of the least sensitive weights, 2 to 16",
                   (2, 15))
LOW_FRACTION = Setting("low_fraction", "float", 0.0, 1.0, True, None,
                       "fraction of the quantizable weights (by count) stored at low_bits, in (0, 1)", (0.10, 0.90))
MODE = Setting("mode", "choice", None, None, False, LITERT_MODES, "LiteRT conversion: " + ", ".join(LITERT_MODES),
               LITERT_MODES)
FIVE_PERCENT = ("threshold-0.05",)  # the paper's pruning setting (Figs 20, 36)

TECHNIQUES = collections.OrderedDict((t.name, t) for t in [
    Technique("baseline", (), False, KERAS_FILE, "the trained fp32 model, unchanged",
              COMPRESS + "baseline", False, (), (), "#999999"),
    Technique("quantize", (BITS,), False, KERAS_FILE, "k-bit weights, dequantized at run time",
              COMPRESS + "quantize", True, (CNN,),
              (Figure("fig13_quantization", "panels", "Fig 13: data quantization", "paper", None),
               Figure("fig32_bubble_quantization", "bubble", "Fig 32: quantization, by model size", None, None)),
              "#1f77b4"),
    Technique("prune", (THRESHOLD,), True, KERAS_FILE, "L1 filter/neuron removal, then fine-tuning",
              COMPRESS + "prune", True, (CNN, TRANSLATOR),
              (Figure("fig20_pruning", "panels", "Fig 20: pruning (5% threshold)", "paper", FIVE_PERCENT),
               Figure("fig36_bubble_pruning", "bubble", "Fig 36: pruning (5% threshold), by model size", None,
                      FIVE_PERCENT)),
              "#ff7f0e"),
    Technique("quantize_prune", (BITS, THRESHOLD), True, KERAS_FILE,
              "k-bit quantization, pruning of the quantized weights, fine-tuning, stored in k bits",
              COMPRESS + "quantize_prune", True, (CNN,),
              (Figure("fig41_combined", "panels", "Fig 41: 8-bit quantization + pruning", "combined", None),),
              "#2ca02c"),
    Technique("quantize_mixed", (MIXED_BITS, LOW_BITS, LOW_FRACTION), False, KERAS_FILE,
              "beyond the paper (its §V): mixed bit widths, the least sensitive layers at low_bits, the rest at bits",
              COMPRESS + "quantize_mixed", False, (CNN,), (), "#9467bd"),
    Technique("magnitude_prune", (SPARSITY,), True, KERAS_FILE,
              "TF-MOT unstructured magnitude pruning (the zeros stay in a dense model)",
              COMPRESS + "magnitude_prune", False, (),
              (Figure("beyond_unstructured_pruning", "panels",
                      "Beyond the paper, a contrast: TF-MOT unstructured magnitude pruning (zeros in a dense model)",
                      "sparsity", None),),
              "#8c564b"),
    Technique("litert", (MODE,), False, LITERT_FILE, "beyond the paper: a LiteRT conversion run by its interpreter",
              COMPRESS + "litert", False, (CNN,),
              (Figure("beyond_litert", "panels", "Beyond the paper: LiteRT (ai-edge-litert) "
                                                 "post-training quantization, % of the TF fp32 model", "paper", None),),
              "#d62728"),
    Technique("prune_blocks", BLOCK_FRACTIONS, True, KERAS_FILE,
              "beyond the paper: L1 filter/neuron removal at its own fraction in each third of the network (first, "
              "middle, last prunable layers), then fine-tuning",
              COMPRESS + "prune_blocks", False, (CNN,), (), "#17becf"),
    Technique("prune_litert", (THRESHOLD, MODE), True, LITERT_FILE,
              "beyond the paper: L1 filter/neuron removal and fine-tuning (as prune), then a LiteRT conversion: "
              "fewer channels on the same runtime",
              COMPRESS + "prune_litert", False, (CNN,), (), "#e377c2"),
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


# rules across a technique's settings: name -> (holds(setting), what to fix, mend(setting): a setting that
# holds, which explore applies to the values it drew, so that each setting keeps one search distribution)
RULES = {
    "quantize_mixed": (lambda s: s["low_bits"] < s["bits"], "low_bits must be below bits",
                       lambda s: dict(s, low_bits=min(s["low_bits"], s["bits"] - 1))),
    "prune_blocks": (lambda s: any(s[b] > 0 for b in BLOCKS), "at least one block's fraction must be above 0",
                     lambda s: s if any(s[b] > 0 for b in BLOCKS) else dict(s, last=0.05)),
}


def retrains(name):
    # type: (str) -> bool
    return technique(name).retrains


def suffix_for(name):
    # type: (str) -> str
    return technique(name).suffix


def grid_techniques():
    # type: () -> Tuple[str, ...]
    """The techniques of the paper's own grid (Section IV), in registry order."""
    return tuple(name for name, row in TECHNIQUES.items() if row.grid)


def paper_techniques():
    # type: () -> Tuple[str, ...]
    """What the paper measured: its fp32 baseline and its grid."""
    return ("baseline",) + grid_techniques()


def explored_on(kind):
    # type: (str) -> Tuple[str, ...]
    """The techniques `artifact explore` tries on a model of `kind` (CNN or TRANSLATOR), in registry order."""
    return tuple(name for name, row in TECHNIQUES.items() if kind in row.explore)


def mend(name, setting):
    # type: (str, Dict[str, Any]) -> Dict[str, Any]
    """`setting` changed as little as its technique's rule across settings needs to hold (explore's draws)."""
    rule = RULES.get(name)
    return setting if rule is None else rule[2](setting)


def figures():
    # type: () -> collections.OrderedDict
    """Every per-technique figure of the report: stem -> (technique, Figure), in registry order."""
    return collections.OrderedDict((f.stem, (name, f)) for name, row in TECHNIQUES.items() for f in row.figures)


def setting_shade(name, setting):
    # type: (str, Optional[Dict[str, Any]]) -> float
    """Where a setting lies in its technique's first setting's range, 0..1 (choices by their position; 0.5, the
    middle, without settings): the figures draw it as this shade of the technique's colour, the same in every
    figure."""
    row = technique(name)
    if not row.settings or not setting:
        return 0.5
    spec = row.settings[0]
    value = setting.get(spec.name)
    if spec.kind == "choice":
        return spec.choices.index(value) / max(1, len(spec.choices) - 1) if value in spec.choices else 0.0
    if not isinstance(value, numbers.Real) or spec.high == spec.low:
        return 0.0
    return min(1.0, max(0.0, (value - spec.low) / float(spec.high - spec.low)))
