"""Pareto fronts and recommendations over measured configurations. Pure: no files, no printing.

A configuration is one cell of a model (technique + setting) with its objectives, every one to be
minimised: size (MB), latency (ms), energy (mJ per inference), top-1 drop and BLEU drop against the
same run's fp32 model (points). An objective a run did not measure is None: unknown, never assumed.

- The front of a model is taken over the objectives every configuration of it has (others are named
  unknown); a configuration is on it unless another is no worse on all of them and better on one.
  Equal configurations are all on the front (neither dominates the other).
- A configuration meets the constraints when each constrained objective is known and within its
  bound; an unknown one makes it "unknown", listed apart, never recommended.
- The recommendation is the feasible configuration best on the objective. Configurations whose 95%
  intervals on the objective overlap the best point estimate's are tied with it (an exact metric such as
  size has no interval: only equal values tie); among the tied the pick is the best on the other objectives
  in OBJECTIVES order, then by name, and the answer names the ties and the reason for the pick (never a
  tie broken silently by a point estimate). Binding constraints: those whose relaxation alone (the answer
  recomputed with that bound infinite: an unmeasured metric stays unknown) changes the recommendation.
- With nothing feasible, the nearest trade-offs are the configurations with the smallest total
  relative excess over the bounds, each saying which constraint to relax and to what.
"""
import math
from dataclasses import dataclass, field
from typing import Any

OBJECTIVES = ("size_mb", "latency_ms", "energy_mj", "top1_drop", "bleu_drop")
LABELS = {"size_mb": "size (MB)", "latency_ms": "latency (ms)", "energy_mj": "energy (mJ)",
          "top1_drop": "top-1 drop (points)", "bleu_drop": "BLEU drop (points)"}
# command-line constraint -> objective it bounds
CONSTRAINTS = {"max_size_mb": "size_mb", "max_latency_ms": "latency_ms", "max_energy_mj": "energy_mj",
               "max_top1_drop": "top1_drop", "max_bleu_drop": "bleu_drop"}


@dataclass
class Config:
    model: str
    name: str  # e.g. "quantize bits=8"
    values: dict  # objective -> float or None (not measured)
    evidence: list = field(default_factory=list)  # record keys
    intervals: dict = field(default_factory=dict)  # objective -> 95% half-width in its unit (absent: none measured)
    runtime: str = "keras"  # what runs it: "keras" or "litert" (artifact.core.techniques: the technique's file)

    def get(self, objective: str) -> float | None:
        value = self.values.get(objective)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    def interval(self, objective: str) -> tuple[float, float] | None:
        """(low, high) of the objective's 95% interval; a metric measured without one is its value alone."""
        value = self.get(objective)
        if value is None:
            return None
        half = abs(float(self.intervals.get(objective) or 0.0))
        return value - half, value + half


def tied(a: Config, b: Config, objective: str) -> bool:
    """The two 95% intervals on the objective overlap (an exact metric: equal values)."""
    ia, ib = a.interval(objective), b.interval(objective)
    return ia is not None and ib is not None and ia[0] <= ib[1] and ib[0] <= ia[1]


RUNTIMES = ("keras", "litert")


def on_runtime(configs: list[Config], runtime: str | None) -> list[Config]:
    """The configurations run by `runtime` (None: all): for a user who cannot switch runtimes."""
    return list(configs) if runtime is None else [c for c in configs if c.runtime == runtime]


def known_objectives(configs: list[Config]) -> list[str]:
    """Objectives every configuration has a number for."""
    return [o for o in OBJECTIVES if configs and all(c.get(o) is not None for c in configs)]


def dominates(a: Config, b: Config, objectives: list[str]) -> bool:
    """a is no worse than b on every objective and better on one (all minimised)."""
    av, bv = [a.get(o) for o in objectives], [b.get(o) for o in objectives]
    return all(x <= y for x, y in zip(av, bv)) and any(x < y for x, y in zip(av, bv))  # type: ignore[operator]


def front(configs: list[Config], objectives: list[str] | None = None) -> list[Config]:
    """The configurations no other one dominates, in input order."""
    objectives = known_objectives(configs) if objectives is None else objectives
    if not objectives:
        return list(configs)
    return [c for c in configs if not any(dominates(o, c, objectives) for o in configs if o is not c)]


def feasibility(config: Config, bounds: dict) -> tuple[str, dict]:
    """('feasible' | 'infeasible' | 'unknown', objective -> excess over its bound (0 when within))."""
    excess, unknown = {}, False
    for objective, bound in bounds.items():
        value = config.get(objective)
        if value is None:
            unknown = True
            continue
        excess[objective] = max(0.0, value - bound)
    if any(e > 0 for e in excess.values()):
        return "infeasible", excess
    return ("unknown" if unknown else "feasible"), excess


@dataclass
class Advice:
    model: str
    objective: str
    bounds: dict
    front: list
    front_objectives: list
    unknown_objectives: list
    recommended: Config | None
    binding: list  # constraints whose relaxation alone changes the recommendation
    why: str
    unknown: list  # configurations whose feasibility cannot be decided (a constrained metric unmeasured)
    nearest: list  # [(config, {objective: needed bound})] when nothing is feasible
    ties: list = field(default_factory=list)  # feasible configurations tied with the pick within the 95% intervals
    pick_reason: str = ""  # why the pick among the ties (empty: no tie)

    def to_dict(self) -> dict:
        def cfg(c: Config) -> dict:
            return {"model": c.model, "config": c.name, "values": c.values, "evidence": c.evidence,
                    "intervals": c.intervals, "runtime": c.runtime}

        return {"model": self.model, "objective": self.objective, "constraints": self.bounds,
                "front": [cfg(c) for c in self.front], "front_objectives": self.front_objectives,
                "unknown_objectives": self.unknown_objectives,
                "recommended": cfg(self.recommended) if self.recommended else None,
                "binding": self.binding, "why": self.why, "ties": [cfg(c) for c in self.ties],
                "pick_reason": self.pick_reason, "undecided": [cfg(c) for c in self.unknown],
                "nearest": [dict(cfg(c), relax=relax) for c, relax in self.nearest]}


def _rank(objective: str):
    def key(c: Config):
        order = [objective] + [o for o in OBJECTIVES if o != objective]
        return tuple(math.inf if c.get(o) is None else c.get(o) for o in order) + (c.name,)
    return key


def _pick(feasible: list[Config], objective: str) -> tuple[Config, list[Config], str]:
    """(pick, the others tied with the best point estimate within the 95% intervals, the reason for the pick)."""
    leader = min(feasible, key=_rank(objective))
    group = [c for c in feasible if tied(c, leader, objective)]
    others = [o for o in OBJECTIVES if o != objective]
    pick = min(group, key=lambda c: tuple(math.inf if c.get(o) is None else c.get(o) for o in others) + (c.name,))
    ties = [c for c in group if c is not pick]
    if not ties:
        return pick, [], ""
    for o in others:  # the first other objective on which the pick beats a tied configuration
        mine = pick.get(o)
        if mine is not None and any((v := c.get(o)) is None or mine < v for c in ties):
            return pick, ties, f"picked for the lower {LABELS[o]} ({mine:.4g})"
    return pick, ties, "equal on every other objective: picked by name"


def _recommended(configs: list[Config], objective: str, bounds: dict) -> Config | None:
    feasible = [c for c in configs if feasibility(c, bounds)[0] == "feasible" and c.get(objective) is not None]
    return _pick(feasible, objective)[0] if feasible else None


def advise(configs: list[Config], objective: str, bounds: dict) -> Advice:
    """Front, recommendation and reasons for one model's configurations."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    model = configs[0].model if configs else ""
    objectives = known_objectives(configs)
    unknown_objectives = [o for o in OBJECTIVES if o not in objectives]
    states = {c.name: feasibility(c, bounds) for c in configs}
    feasible = [c for c in configs if states[c.name][0] == "feasible" and c.get(objective) is not None]
    undecided = [c for c in configs if states[c.name][0] == "unknown"]
    base: dict[str, Any] = dict(model=model, objective=objective, bounds=dict(bounds), front=front(configs, objectives),
                front_objectives=objectives, unknown_objectives=unknown_objectives, unknown=undecided)
    if objective in unknown_objectives and not feasible:
        return Advice(recommended=None, binding=[], nearest=[], why=f"{LABELS[objective]} was not measured for "
                      f"every configuration of {model}; nothing can be ranked on it", **base)
    if feasible:
        best, ties, reason = _pick(feasible, objective)
        binding = [o for o in bounds if _recommended(configs, objective, dict(bounds, **{o: math.inf})) is not best]
        best_value = best.get(objective)
        assert best_value is not None  # feasible configurations have the objective measured
        better = [c for c in configs if (v := c.get(objective)) is not None and v < best_value and c not in ties]
        broken = sorted({o for c in better for o, e in states[c.name][1].items() if e > 0})
        if binding:
            why = (f"best {LABELS[objective]} within the constraints; relaxing "
                   + " or ".join(f"{LABELS[o]} ≤ {bounds[o]:g}" for o in binding) + " would change the answer")
        elif broken:
            why = (f"best {LABELS[objective]} within the constraints; better ones break "
                   + " and ".join(f"{LABELS[o]} ≤ {bounds[o]:g}" for o in broken)
                   + " together: relaxing one alone would not change the answer")
        elif any(states[c.name][0] == "unknown" for c in better):
            why = (f"best {LABELS[objective]} among the configurations whose constrained metrics were measured; "
                   "better ones could not be checked")
        else:
            why = f"best {LABELS[objective]} of all configurations: no constraint binds"
        if ties:
            why += "; tied within the 95% intervals with " + ", ".join(c.name for c in ties) + ": " + reason
        return Advice(recommended=best, binding=binding, nearest=[], why=why, ties=ties, pick_reason=reason, **base)
    scored = []
    for c in configs:
        state, excess = states[c.name]
        if state != "infeasible":
            continue
        total = sum(e / max(abs(bounds[o]), 1e-9) for o, e in excess.items())
        scored.append((total, c.name, c, {o: round(bounds[o] + e, 6) for o, e in excess.items() if e > 0}))
    scored.sort(key=lambda t: (t[0], t[1]))
    nearest = [(c, relax) for _, _, c, relax in scored[:3]]
    never = [o for o in bounds if all(c.get(o) is None for c in configs)]
    why = "no configuration meets every constraint"
    if nearest:
        c, relax = nearest[0]
        why += "; nearest: {} if {}".format(c.name, ", ".join(f"{LABELS[o]} ≤ {v:g}" for o, v in relax.items()))
    elif never:
        names = " and ".join(LABELS[o] for o in never)
        limits = ", ".join(f"{LABELS[o]} ≤ {bounds[o]:g}" for o in never)
        why = f"{names} unknown for every configuration of {model} (not measured in this run): none can be shown " \
              f"to meet {limits}"
    elif undecided:
        why += " among those measured; the others lack a constrained metric"
    return Advice(recommended=None, binding=[], nearest=nearest, why=why, **base)


def hypervolume_2d(points: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """Area dominated by `points` (both minimised) inside the box up to `reference`."""
    inside = sorted({p for p in points if p[0] < reference[0] and p[1] < reference[1]})
    area, best_y = 0.0, reference[1]
    for x, y in inside:
        if y < best_y:
            area += (reference[0] - x) * (best_y - y)
            best_y = y
    return area
