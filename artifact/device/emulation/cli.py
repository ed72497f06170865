"""`python -m artifact.device.emulation tx2|orin|x86 ROOT [-- COMMAND...]`: an EMULATED board for dry runs and CI.

Writes an emulated board tree (L4T release, nvpmodel, clocks, thermal zones: `board`) and
an emulated power-sensor tree (INA3221 for tx2/orin, RAPL for x86: `sensors`) under ROOT,
then keeps the sensors changing until interrupted (SIGTERM/SIGINT) or `--seconds` pass. Point a run
at it with `ARTIFACT_SYSFS_ROOT=ROOT`, or give the run after `--`: it runs with ARTIFACT_SYSFS_ROOT=ROOT
in a process of its own (the writer keeps its own interpreter's time), and the emulator ends with it, with
its exit status (a fleet's emulated board in a container: artifact.host.fleet.engines). Every record
measured against it is flagged EMULATED: its power and energy are plumbing checks, never measurements.
"""
# Device side: must import on Python 3.6 (TX2 images).
import argparse
import math
import os
import signal
import subprocess
import sys
import threading
from typing import List  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.device.emulation import board as emulated_board
from artifact.device.emulation import sensors as emulated_sensors

BOARDS = {
    "tx2": (emulated_board.make_tx2_board, emulated_sensors.make_tx2_r32_tree),
    "orin": (emulated_board.make_orin_board, emulated_sensors.make_orin_hwmon_tree),
    "x86": (emulated_board.make_x86_board, emulated_sensors.make_rapl_tree),
}


def waveform(base_watts):
    """A load-like trace: base power with a 3 Hz ripple, so every read sees a fresh value."""
    return lambda t: base_watts * (1.0 + 0.1 * math.sin(2.0 * math.pi * 3.0 * t))


def start(kind, root, watts=5.0, update_hz=200.0, serial=None):
    """Make the trees under `root` and start the sensor writer thread; returns the writer."""
    make_board, make_sensors = BOARDS[kind]
    if serial:
        make_board(root, serial=serial)
    else:
        make_board(root)
    tree = make_sensors(root) if kind == "x86" else make_sensors(root, watts=watts)
    return emulated_sensors.WaveformWriter(tree, waveform(watts), update_hz=update_hz).start()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m artifact.device.emulation",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(BOARDS))
    parser.add_argument("root", help="directory to write the emulated sysfs/procfs tree into")
    parser.add_argument("--watts", type=float, default=5.0, help="mean power of the emulated total rail")
    parser.add_argument("--update-hz", type=float, default=200.0, help="sensor update rate")
    parser.add_argument("--serial", default=None, help="the board's serial number (default EMU-<KIND>-0000)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: until killed)")
    parser.epilog = ("-- COMMAND...: run COMMAND against the board (ARTIFACT_SYSFS_ROOT=ROOT); the emulator stops "
                     "when it ends and exits with its status")
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else []   # type: List[str]
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if command and args.seconds:
        parser.error("--seconds or a command after --, not both")
    done = threading.Event()
    child = []  # type: List[subprocess.Popen]

    def stop(signum, _frame):
        done.set()
        for proc in child:   # a container stopped (docker stop): the run is told first
            proc.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    start(args.kind, args.root, args.watts, args.update_hz, args.serial)
    print("EMULATED {} board and sensors under {} (ARTIFACT_SYSFS_ROOT={})".format(args.kind, args.root, args.root))
    sys.stdout.flush()
    if command:
        env = dict(os.environ, ARTIFACT_SYSFS_ROOT=args.root)
        try:
            child.append(subprocess.Popen(command, env=env))
        except OSError as error:
            print("emulate: cannot run {}: {}".format(command[0], error), file=sys.stderr)
            return 127
        if done.is_set():   # stopped while it started
            child[0].terminate()
        return child[0].wait()
    done.wait(args.seconds or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
