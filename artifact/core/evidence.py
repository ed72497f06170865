"""What a run's measurements stand on, from the facts its environment holds: never a flag a person sets.

The paper measured on an NVIDIA Jetson TX2, inferring on its GPU (§III-A). A run's platform is:
  "paper board"  a real Jetson TX2 (aarch64, no emulated tree) with a GPU visible to TensorFlow;
  "other board"  any other real machine with an accelerator or an ARM board: another Jetson, a TX2 on
                 its CPU, an x86 server with a GPU;
  "x86 CPU"      an x86 machine inferring on its CPU.
An EMULATED sensor tree (the tests' stand-in for a Jetson's sysfs) never makes a run a Jetson's: the
board fields read from it describe the tree, the platform is the machine the run really ran on.

`describe_platform` is the sentence the device side writes into every environment (run.json, records);
`platform_of` is what the host grades on, and it is re-derived from the same facts for runs recorded
before the sentence existed (the committed references). Python 3.6-safe, stdlib only.
"""
from typing import Any, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)

PAPER_BOARD, OTHER_BOARD, X86_CPU = "paper board", "other board", "x86 CPU"
PLATFORMS = (PAPER_BOARD, OTHER_BOARD, X86_CPU)  # best first
PAPER_BOARD_MODEL = "Jetson TX2"
X86_MACHINES = ("x86_64", "amd64", "i386", "i686")


def emulated(environment):
    # type: (Dict[str, Any]) -> bool
    """Was the board or sensor tree the run read an emulated one (board_state writes "yes (...)")?"""
    return str(environment.get("emulated") or "no").strip().lower().startswith("yes")


def _has_gpu(environment):
    # type: (Dict[str, Any]) -> bool
    gpus = environment.get("tf_gpus")
    return bool(gpus) and not str(gpus).startswith("unreadable")


def platform_of(environment):
    # type: (Dict[str, Any]) -> str
    """PAPER_BOARD, OTHER_BOARD or X86_CPU (see the module docstring); an unknown machine is never the paper's."""
    machine = str(environment.get("machine") or "").lower()
    if machine in X86_MACHINES or not machine:
        return OTHER_BOARD if _has_gpu(environment) and machine else X86_CPU
    jetson = environment.get("board") == "jetson" and not emulated(environment)
    if jetson and PAPER_BOARD_MODEL in str(environment.get("jetson_model") or "") and _has_gpu(environment):
        return PAPER_BOARD
    return OTHER_BOARD


def describe_platform(environment):
    # type: (Dict[str, Any]) -> str
    """One sentence: the platform, the machine and processor, and what an emulated tree was."""
    kind = platform_of(environment)
    machine = environment.get("machine") or "unknown machine"
    if kind == PAPER_BOARD:
        text = "paper board: {} ({}), GPU {}".format(environment.get("jetson_model"), machine,
                                                      environment.get("tf_gpus"))
    elif kind == X86_CPU:
        text = "x86 CPU: {} ({}), no GPU used".format(environment.get("cpu_model") or "CPU", machine)
    else:
        what = environment.get("jetson_model") or environment.get("gpu") or environment.get("cpu_model") or "machine"
        processor = "GPU {}".format(environment.get("tf_gpus")) if _has_gpu(environment) else "its CPU"
        text = "other board: {} ({}), {}".format(what, machine, processor)
    if emulated(environment):
        text += "; the Jetson sensor and board files read were an EMULATED tree, not hardware"
    return text


__all__ = ["OTHER_BOARD", "PAPER_BOARD", "PLATFORMS", "X86_CPU", "describe_platform", "emulated", "platform_of"]
