"""Memory footprint of one deployed variant, measured in a fresh process.

    python -m artifact.device.run.memory_probe <deployable file> <model name> <inferences>

Imports TensorFlow and builds the task's inputs first (they are not the model's footprint), then
two phases, each starting with a peak reset (VmHWM, `clear_refs`): load the deployable file, then
run `inferences` inferences on real inputs. It prints one JSON line: the footprint is the peak RSS
of the inference phase minus the RSS before loading (the loaded model while it runs, without the
loader's transient buffers), plus TensorFlow's GPU allocator peak of that phase when a GPU is used
(device memory, or nvmap buffers on a Jetson, is not in RSS); the load phase's own peak is reported
beside it, and so is the system view: the drop of MemAvailable and, on a Jetson, the growth of
NvMapMemUsed during inference (system-wide, so other processes move them too). A
fresh process per variant means no allocator reuse from the baseline or an earlier variant, so
the figures of different variants compare. Inputs (--imagenet ...) come from the ARTIFACT_*
environment variables the runner sets.
"""
import json
import sys
from typing import Any, Dict  # noqa: F401 (names of the type comments; typing has them on 3.6)


def probe(path, model_name, inferences, meminfo="/proc/meminfo"):
    # type: (str, str, int, str) -> Dict[str, Any]
    from artifact.core.inputs import inputs_from_env
    from artifact.device.compress.deploy import load_deployable
    from artifact.device.measure.memory import (
        MeminfoWatcher,
        current_rss_bytes,
        gpu_allocator,
        gpu_peak_bytes,
        peak_rss_bytes,
        reset_gpu_peak,
        reset_peak,
    )
    from artifact.device.measure.timing import materialise
    from artifact.device.models.tasks import task_for

    inputs = inputs_from_env()
    inputs.pop("eval_samples", None)
    task = task_for(model_name, inputs)
    samples = task.timing_inputs(inferences)
    device, no_gpu = gpu_allocator()
    reset_ok = reset_peak()
    reset_gpu_peak(device)
    before = current_rss_bytes() or 0
    model = load_deployable(path)
    fn = task.predict_fn(model)
    load_peak, load_gpu = peak_rss_bytes(), gpu_peak_bytes(device)
    reset_ok = reset_peak() and reset_ok  # without clear_refs the peak keeps the load phase: say so
    reset_gpu_peak(device)
    watcher = MeminfoWatcher(meminfo).start()
    for i in range(inferences):
        materialise(fn(samples[i % len(samples)]))
    system = watcher.stop()
    peak, gpu = peak_rss_bytes(), gpu_peak_bytes(device)
    result = {"rss_peak_delta_bytes": peak - before, "rss_before_bytes": before, "inference_peak_rss_bytes": peak,
              "load_peak_delta_bytes": load_peak - before, "peak_reset_with_clear_refs": reset_ok,
              "inferences": inferences, "footprint": "rss"}
    result.update(system)
    if device is None:
        result["tf_gpu_allocator"] = no_gpu
        result["peak_delta_bytes"] = result["rss_peak_delta_bytes"]
    else:  # device memory (or nvmap buffers on a Jetson) is not in RSS: the footprint adds the allocator peak
        result.update(tf_gpu_peak_bytes=gpu, tf_gpu_load_peak_bytes=load_gpu, footprint="rss + tf_gpu_peak")
        result["peak_delta_bytes"] = result["rss_peak_delta_bytes"] + gpu
    return result


if __name__ == "__main__":
    result = probe(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    print("MEMORY " + json.dumps(result), flush=True)
