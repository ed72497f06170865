"""The fleet: one profile fanned out over several boards and servers on Dask distributed.

    fleetfile  the fleet file (TOML): scheduler, boards (name, kind, engine), servers; validated completely,
               reachability included, before any work starts
    attempts   attempt directories, the first-writer-wins commit of a record, the set-aside of later attempts
    engines    how a worker drives its machine: a subprocess here ("local", an optional emulated sysfs tree) or a
               Docker engine (unix://, ssh://, tcp://) through artifact.host.containers; every call timed out;
               fencing of stale attempts
    plan       the graph as data: baselines, retrains, measurements, their keys and longest-first order
    tasks      the functions the workers run (one cell each), in the worker's process
    cluster    a LocalCluster's scheduler (or a given one) and one single-threaded worker process per machine
    run        the driver: submit, watch, move a lost board's cell, stop when a kind has no board left

The device side is never imported: a cell is measured by `python -m artifact run --cells KEY` in a
subprocess or a container, as artifact.host.explore does. Nothing of Dask runs on a board: its worker runs
here (or on a lab gateway) and drives the board's engine. docs/fleet.md is the user's page.
"""
from artifact.core.errors import ArtifactError
from artifact.host.containers.bases import EMULATED_TREES, board_twins

# the board kinds the project knows: the Jetson bases of docker/bases.toml with a `kind` (tx2: R32, xavier: R35,
# orin: R36), then x86; emulated trees exist for tx2, orin and x86 (artifact.device.emulation)
KINDS = tuple(twin["kind"] for twin in board_twins()) + ("x86",)
EMULATED_KINDS = EMULATED_TREES   # a kind with an emulated tree of its own name (one owner: containers.bases)


class FleetError(ArtifactError):
    """A fleet file, a machine of it or a fleet run went wrong in a way the user can fix (one line)."""


class BoardLost(Exception):
    """A board (or server) stopped answering during a task: its worker retires, the task moves elsewhere."""
