"""Memory footprint of one deployed variant, measured in a fresh process.

    python -m artifact.measure.memory_probe <deployable file> <model name> <inferences>

Imports TensorFlow and builds the task's inputs first (they are not the model's footprint), then
two phases, each starting with a peak reset (VmHWM, `clear_refs`): load the deployable file, then
run `inferences` inferences on real inputs. It prints one JSON line: the footprint is the peak RSS
of the inference phase minus the RSS before loading (the loaded model while it runs, without the
loader's transient buffers); the load phase's own peak is reported beside it. A
fresh process per variant means no allocator reuse from the baseline or an earlier variant, so
the figures of different variants compare. Inputs (--imagenet ...) come from the ARTIFACT_*
environment variables the runner sets.
"""
import json
import sys


def probe(path, model_name, inferences):
    # type: (str, str, int) -> Dict[str, Any]
    import numpy as np

    from artifact.compress.deploy import load_deployable
    from artifact.measure.memory import current_rss_bytes, peak_rss_bytes, reset_peak
    from artifact.models.tasks import task_for
    from artifact.runner import inputs_from_env

    inputs = inputs_from_env()
    inputs.pop("eval_samples", None)
    task = task_for(model_name, inputs)
    samples = task.timing_inputs(inferences)
    reset_ok = reset_peak()
    before = current_rss_bytes() or 0
    model = load_deployable(path)
    fn = task.predict_fn(model)
    load_peak = peak_rss_bytes()
    reset_ok = reset_peak() and reset_ok  # without clear_refs the peak keeps the load phase: say so
    for i in range(inferences):
        out = fn(samples[i % len(samples)])
        np.asarray(out.numpy() if hasattr(out, "numpy") else out)
    peak = peak_rss_bytes()
    return {"peak_delta_bytes": peak - before, "rss_before_bytes": before, "inference_peak_rss_bytes": peak,
            "load_peak_delta_bytes": load_peak - before, "peak_reset_with_clear_refs": reset_ok,
            "inferences": inferences}


if __name__ == "__main__":
    result = probe(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    print("MEMORY " + json.dumps(result), flush=True)
