"""The paper's lessons (§II-B, §IV-F) set against a run's evidence: three typical constraint sets per model.

- storage-bound: smallest file within the accuracy budget; the paper: quantize when storage is the limit;
- latency-bound: fastest inference within the accuracy budget; the paper: prune for turnaround time;
- energy-bound: least energy per inference within the accuracy budget; the paper: pruning saves energy,
  quantization costs it.
The accuracy budget is 1 point of top-1 (classifiers) or BLEU (translators) against the run's own fp32
model; where the run measured no accuracy for a model, the set is answered on its other objective alone
and says so. The lesson is judged among the paper's own techniques (a pick tied within the 95% intervals
with a configuration on the other side of the lesson is "tied", neither yes nor no); the answer over every technique
(LiteRT, unstructured sparsity: beyond the paper) is shown beside it.
"""
from artifact.core.techniques import paper_techniques
from artifact.host.advise.pareto import LABELS, advise

PAPER_TECHNIQUES = paper_techniques()
PRESETS = (
    ("storage-bound", "size_mb", "quantize when storage is the limit (§II-B)", ("quantize", "quantize_prune")),
    ("latency-bound", "latency_ms", "prune for turnaround time (§II-B)", ("prune", "quantize_prune")),
    ("energy-bound", "energy_mj", "prune to save energy; quantization costs energy (§IV-F)", ("prune",)),
)
ACCURACY_BUDGET = 1.0
HEADERS = ["model", "constraint set", "paper's lesson", "recommended (paper's techniques)", "agrees",
           "recommended (every technique)", "why"]


def _technique(config_name: str) -> str:
    return config_name.split(" ")[0]


def lesson_rows(configs_by_model: dict) -> list[list[str]]:
    rows = []
    for model, configs in configs_by_model.items():
        accuracy = next((o for o in ("top1_drop", "bleu_drop") if any(c.get(o) is not None for c in configs)), None)
        bounds = {accuracy: ACCURACY_BUDGET} if accuracy else {}
        paper = [c for c in configs if _technique(c.name) in PAPER_TECHNIQUES]
        for name, objective, lesson, techniques in PRESETS:
            if all(c.get(objective) is None for c in configs):
                rows.append([model, name, lesson, "—", "not testable here", "—",
                             f"{LABELS[objective]} not measured in this run"])
                continue
            within = advise(paper, objective, bounds)
            overall = advise(configs, objective, bounds)
            chosen = within.recommended.name if within.recommended else "none"
            if within.recommended is None:
                agrees = "not testable here"
            elif not any(_technique(c.name) in techniques for c in paper):
                agrees = "not testable here (no {} cell for {})".format(" or ".join(techniques), model)
            elif all(c.get(objective) is None for c in paper if _technique(c.name) in techniques):
                # e.g. an energy within its noise of idle: unknown, never evidence against the lesson
                agrees = "not testable here ({} of no {} cell of {} is a number in this run)".format(
                    LABELS[objective], " or ".join(techniques), model)
            elif len({_technique(c.name) in techniques for c in [within.recommended] + within.ties}) > 1:
                agrees = "tied: {} within the 95% intervals".format(" and ".join(
                    sorted({_technique(c.name) for c in [within.recommended] + within.ties})))
            elif _technique(chosen) in techniques:
                agrees = "yes"
            else:
                agrees = "no"
            why = within.why + ("" if accuracy else "; accuracy not measured in this run: judged on "
                                + LABELS[objective] + " alone")
            rows.append([model, name, lesson, chosen, agrees,
                         overall.recommended.name if overall.recommended else "none", why])
    return rows
