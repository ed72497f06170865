"""The evidence grade of a verdict: what its numbers stand on, derived from the records it was judged on.

Four facts, each read from the records (never from a flag a person sets):
  model     "paper, trained"    the paper's architectures (Table I) with trained weights (provenance);
            "paper, untrained"  the paper's architectures with seeded initial weights;
            "stand-in"          a smaller model standing in for them (the mini-zoo);
  sensor    (power metrics) "real" a hardware sensor (a board's INA3221, RAPL, NVML), "emulated" an
            EMULATED tree (a test waveform), else "none";
  platform  "paper board" / "other board" / "x86 CPU" (artifact.core.evidence: an emulated tree is never a Jetson);
  quality   the measurement-quality flags of the judged measurements ("clean" or "<n> flagged");
  boards    (only where a fleet measured them) the boards its records name (`fleet_board`): boards of one kind
            differ, so the evidence says which.

From them, the verdict's `level`: how far it answers the paper's own sentence.
  "paper"          the paper's models (trained where weights decide the number), a real sensor for power,
                   on the paper's board where the metric depends on the platform (sizes, counts and accuracy do not);
  "other platform" the same, but a platform-dependent number measured on another board or an x86 CPU;
  "stand-in"       stand-in models, or untrained weights where weights decide the number (accuracy, gzip sizes);
  "emulated"       power from an emulated sensor tree: a test of the code, never an answer about the paper.
LEVELS is best first; ADEQUATE are the levels a section of the paper is counted on.
"""
from artifact.core.catalog import TABLE_I
from artifact.core.evidence import OTHER_BOARD, PAPER_BOARD, PLATFORMS, X86_CPU, emulated, platform_of
from artifact.core.metrics import METRICS

PAPER, OTHER_PLATFORM, STAND_IN, EMULATED = "paper", "other platform", "stand-in", "emulated"
LEVELS = (PAPER, OTHER_PLATFORM, STAND_IN, EMULATED)
ADEQUATE = (PAPER, OTHER_PLATFORM)
TRAINED, UNTRAINED, STAND_IN_MODEL = "paper, trained", "paper, untrained", "stand-in"
MODELS = (TRAINED, UNTRAINED, STAND_IN_MODEL)
REAL_SENSOR, EMULATED_SENSOR, NO_SENSOR = "real", "emulated", "none"
SENSORS = (REAL_SENSOR, EMULATED_SENSOR, NO_SENSOR)


def _trained(record) -> bool:
    """Weights that were trained (a checkpoint, or trained here), read from the record's provenance."""
    weights = str(record.provenance.get("weights") or "")
    return bool(weights) and not weights.startswith("initialised")


# sizes that depend on the weights' values, not only on their number: how well gzip compresses the file
VALUE_DEPENDENT_SIZES = ("storage_gzip_bytes",)


def _weights_decide(metric: str) -> bool:
    """Does the number depend on the weights' values? Accuracy and compressed sizes do. Shapes, hence sizes,
    memory and time, do not: quantization keeps them and pruning removes a fixed fraction of every prunable
    layer's filters (artifact.device.compress.prune), whichever the weights make it choose."""
    return METRICS[metric].group == "accuracy" or metric in VALUE_DEPENDENT_SIZES


def _platform_decides(metric: str) -> bool:
    """Sizes and counts are the same everywhere (METRICS' `exact`); accuracy is the model's, up to float rounding;
    memory, time, power and op shares are the platform's."""
    return not METRICS[metric].exact and METRICS[metric].group != "accuracy"


def _sensor(metric: str, records: list) -> str:
    if METRICS[metric].group != "power":
        return NO_SENSOR
    measured = [r for r in records if metric in r.measurements]
    if not measured:
        return NO_SENSOR
    for r in measured:
        m = r.measurements[metric]
        sensor = m.notes.get("sensor") if isinstance(m.notes.get("sensor"), dict) else {}
        if emulated(r.environment) or emulated(sensor) or any("EMULATED" in f for f in m.flags):
            return EMULATED_SENSOR
    return REAL_SENSOR


def grade(verdict: dict, records: dict) -> dict:
    """The grade of one verdict (its `evidence` keys looked up in the run's records); {} when nothing was judged."""
    used = [records[k] for k in verdict.get("evidence") or [] if k in records]
    metric = str(verdict.get("metric") or "")
    if not used or verdict.get("measured") is None or metric not in METRICS:
        return {}
    if any(r.cell["model"] not in TABLE_I for r in used):
        model = STAND_IN_MODEL
    else:
        model = TRAINED if all(_trained(r) for r in used) else UNTRAINED
    sensor = _sensor(metric, used)
    platform = max((platform_of(r.environment) for r in used), key=PLATFORMS.index)
    flags = len(verdict.get("flags") or [])
    if sensor == EMULATED_SENSOR:
        level = EMULATED
    elif model == STAND_IN_MODEL or (model == UNTRAINED and _weights_decide(metric)):
        level = STAND_IN
    elif platform == PAPER_BOARD or not _platform_decides(metric):
        level = PAPER
    else:
        level = OTHER_PLATFORM
    out: dict = {"level": level, "model": model, "sensor": sensor, "platform": platform,
                 "quality": "clean" if not flags else f"{flags} flagged"}
    boards = sorted({str(r.environment["fleet_board"]) for r in used if r.environment.get("fleet_board")})
    if boards:   # a fleet measured it: which board(s), each record's numbers paired within its own board
        out["boards"] = boards
    return out


def describe(g: dict) -> str:
    """'stand-in (model stand-in; x86 CPU; clean)': the level, then what it stands on."""
    if not g:
        return "—"
    model = f"model {g['model']}" + (": its weights decide this number" if g["level"] == STAND_IN
                                      and g["model"] == UNTRAINED else "")
    parts = [model, g["platform"]]
    if g["sensor"] != NO_SENSOR:
        parts.append(f"{g['sensor']} sensor")
    parts.append(g["quality"])
    if g.get("boards"):
        parts.append(("board " if len(g["boards"]) == 1 else "boards ") + ", ".join(g["boards"]))
    return "{} ({})".format(g["level"], "; ".join(parts))


def rank(g: dict) -> tuple:
    """Better evidence sorts first: the level, then the model (the paper's architecture before a stand-in),
    then fewer flags."""
    if not g:
        return (len(LEVELS), len(MODELS), 0)
    flags = 0 if g["quality"] == "clean" else int(g["quality"].split()[0])
    return (LEVELS.index(g["level"]), MODELS.index(g["model"]), flags)


def grades_line(grades: dict) -> str:
    """'24 judged: 0 paper, 0 other platform, 17 stand-in, 7 emulated (what the evidence stands on)'."""
    return "{} judged: {} (what the evidence stands on: artifact.host.judge.grade)".format(
        sum(grades.values()), ", ".join(f"{grades.get(level, 0)} {level}" for level in LEVELS))


__all__ = ["ADEQUATE", "EMULATED", "LEVELS", "OTHER_BOARD", "OTHER_PLATFORM", "PAPER", "PAPER_BOARD", "SENSORS",
           "STAND_IN", "X86_CPU", "describe", "grade", "grades_line", "rank"]
