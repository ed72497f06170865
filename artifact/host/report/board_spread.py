"""Boards of one kind differ ("Snowflakes at the Edge", EdgeSys'21): the per-board spread of a fleet run.

Each board of a fleet measured the same reference cell first (artifact.host.fleet; kept per board in
RESULTS/fleet/references/<board>/<cell>.json). Where two or more boards of a kind did, the report shows one
row per board: its serial, the reference cell's median inference time, its ratio to the kind's median (the
median of the boards' medians) and how many of the run's committed records it measured (their `fleet_board`
stamp). Paired ratios are never formed across boards: a cell's variant and baseline windows are timed in one
attempt, on one board.
"""
import os
import statistics

from artifact.core.records import load_record
from artifact.core.results import as_results

HEADERS = ["board", "kind", "serial", "reference cell", "median inference time", "ratio to the kind's median",
           "records measured"]
METRIC = "inference_time_s"


def spread_rows(results) -> list:
    """The rows (HEADERS) of each kind with two or more boards' reference records; [] otherwise."""
    results = as_results(results)
    root = results.fleet.references
    if not os.path.isdir(root):
        return []
    counts: dict = {}
    for record in results.load_records().values():
        board = record.environment.get("fleet_board")
        if board:
            counts[board] = counts.get(board, 0) + 1
    by_kind: dict = {}
    for board in sorted(os.listdir(root)):
        for name in sorted(n for n in os.listdir(os.path.join(root, board)) if n.endswith(".json")):
            record = load_record(os.path.join(root, board, name))
            median = record.measurements[METRIC].median() if METRIC in record.measurements else None
            if median is None or not median > 0:   # not timed (or no samples: nan)
                continue
            kind = record.environment.get("fleet_board_kind", "?")
            by_kind.setdefault(kind, []).append((board, record, median))
    rows = []
    for kind, boards in sorted(by_kind.items()):
        if len({b for b, _, _ in boards}) < 2:
            continue
        middle = statistics.median(m for _, _, m in boards)
        for board, record, median in boards:
            rows.append([board, kind, record.environment.get("board_serial", "?"), record.key,
                         f"{median * 1e3:.3f} ms", f"{median / middle:.3f}", counts.get(board, 0)])
    return rows
