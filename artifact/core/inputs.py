"""The user's inputs (weights and data sets given as paths) and how they reach a worker process.

The command line (or the ARTIFACT_* environment variables) gives them; the parent passes them to
each worker and to the memory probe through the same variables; `inputs.json` in a results
directory pins them (`artifact.core.results`).
"""
import os
from typing import Any, Dict, Mapping, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

# what a profile's `requires` may name -> what to give
INPUTS = {
    "imagenet": "the ILSVRC2012 validation set: --imagenet DIR (50,000 JPEGs + LOC_val_solution.csv or the devkit)",
    "slim_checkpoints": "TF-Slim checkpoints: --checkpoints DIR (vgg_16.ckpt, resnet_v1_50.ckpt, ...)",
    "nmt_data": "NMT test set, vocabularies and checkpoint: --nmt DIR",
    "jetson": "a Jetson with INA3221 power sensors (run inside docker/jetson)",
}

# inputs given on the command line -> the environment variables a worker reads them from
INPUT_ENV = {"imagenet": "ARTIFACT_IMAGENET", "slim_checkpoints": "ARTIFACT_CHECKPOINTS",
             "nmt_data": "ARTIFACT_NMT", "eval_samples": "ARTIFACT_EVAL_SAMPLES"}


# `run --retrained DIR`: the model packages to measure (artifact.core.packages), for the workers; not pinned in
# inputs.json (each record names the package it measured)
RETRAINED_ENV = "ARTIFACT_RETRAINED"
# what `retrain` trains on (read in its own process, never by a worker): --imagenet-train, --nmt-train
TRAINING_INPUTS = {
    "imagenet_train": "ILSVRC2012 train: --imagenet-train DIR (class folders n01440764/*.JPEG or TF-Slim's "
                      "train-00000-of-01024 TFRecord shards)",
    "nmt_train": "WMT16 en-de training files in tensorflow/nmt's layout: --nmt-train DIR "
                 "(train.tok.clean.bpe.32000.{en,de}, vocab.bpe.32000.{en,de})",
}


def inputs_from_env(environ=None):
    # type: (Optional[Mapping[str, str]]) -> Dict[str, Optional[str]]
    environ = os.environ if environ is None else environ
    return {name: environ.get(var) or None for name, var in INPUT_ENV.items()}


def environment_for_worker(inputs, environ=None):
    # type: (Mapping[str, Any], Optional[Mapping[str, str]]) -> Dict[str, str]
    """This process's environment with the ARTIFACT_* input variables set to `inputs` (and only those)."""
    env = dict(os.environ if environ is None else environ)
    for name, var in INPUT_ENV.items():
        env.pop(var, None)
        if inputs.get(name):
            env[var] = str(inputs[name])
    env.pop(RETRAINED_ENV, None)
    if inputs.get("retrained"):
        env[RETRAINED_ENV] = os.path.abspath(str(inputs["retrained"]))
    return env


def pinned(inputs):
    # type: (Mapping[str, Any]) -> Dict[str, Any]
    """What inputs.json records: absolute paths (a path is the same input wherever it was typed from)."""
    return {k: (os.path.abspath(v) if v and k != "eval_samples" else v)
            for k, v in sorted(inputs.items()) if k in INPUT_ENV}


def sysfs_root():
    # type: () -> str
    """Where /sys, /proc and /etc are read from: "/" on a real machine, an emulated tree in tests
    (ARTIFACT_SYSFS_ROOT; the jetson container sets /host, where the board's /sys and /etc are mounted)."""
    return os.environ.get("ARTIFACT_SYSFS_ROOT", "/")


def on_jetson(root=None):
    # type: (Optional[str]) -> bool
    """Is the board a Jetson? Read under the sysfs root, as every other board fact is."""
    return os.path.exists(os.path.join(sysfs_root() if root is None else root, "etc", "nv_tegra_release"))
