"""`python -m artifact.host.fleet.worker SCHEDULER NAME RESOURCE`: one single-threaded Dask worker for one machine.

Named after the machine, with the resource {RESOURCE: 1} ("board-<kind>" or "server"), the profiler off and
the system monitor slowed (NOTES.md: 2.15% of a core idle instead of 4.0%), no nanny (a worker that dies
stays dead: its board is treated as lost, its cell moves). Runs on the host or a lab gateway, never on a
board: it drives the board's engine.
"""
import asyncio
import os
import sys

QUIET = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
         "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "5s",
         "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


def command(scheduler: str, name: str, resource: str, python: str = sys.executable) -> list:
    return [python, "-m", "artifact.host.fleet.worker", scheduler, name, resource]


def environment(base=None) -> dict:
    return dict(os.environ if base is None else base, **QUIET)


async def _serve(scheduler: str, name: str, resource: str) -> None:
    from distributed import Worker

    async with Worker(scheduler, name=name, nthreads=1, resources={resource: 1}) as worker:
        await worker.finished()


def main(argv=None) -> int:
    scheduler, name, resource = (argv if argv is not None else sys.argv[1:])
    asyncio.run(_serve(scheduler, name, resource))
    return 0


if __name__ == "__main__":
    sys.exit(main())
