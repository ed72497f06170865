"""'Where the time went' at a glance: one stacked bar per technique, a segment per phase of its cells (the table
with the same numbers stays under it). Host side; embedded as a PNG so the report stays one file."""
import base64
import io

NOT_A_PHASE = ("technique", "cells", "total (s)")


def _seconds(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0   # "—": the phase did not run for this technique


def time_bar_html(time_by_technique):
    """`time_by_technique`: the report's rows (dicts, the last one 'all'); '' when the run recorded no time."""
    from artifact.host.report.figures import plt

    rows = [r for r in time_by_technique if r.get("technique") != "all"]
    phases = [k for k in (time_by_technique[0] if time_by_technique else {}) if k not in NOT_A_PHASE]
    phases = [p for p in phases if any(_seconds(r.get(p)) > 0 for r in rows)]
    if not rows or not phases:
        return ""
    fig, ax = plt.subplots(figsize=(10, 0.9 + 0.32 * len(rows)))
    colours = plt.get_cmap("tab20").colors
    labels = [f"{r['technique']} ({r['cells']} cells)" for r in rows]
    left = [0.0] * len(rows)
    for i, phase in enumerate(phases):
        widths = [_seconds(r.get(phase)) for r in rows]
        ax.barh(labels, widths, left=left, color=colours[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20],
                label=phase.replace(" (s)", "").replace("_", " "))
        left = [a + b for a, b in zip(left, widths)]
    ax.invert_yaxis()
    ax.set_xlabel("seconds of cell time", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6.5, ncol=min(6, len(phases)), loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img class="plot" alt="where the time went" src="data:image/png;base64,{data}">'
