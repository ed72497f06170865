"""Beyond the paper: which LiteRT variant is faster on this CPU, and why. `invoke bench --only litert`.

For MobileNet v1 and ResNet_50 (Table I architectures, initialised weights, the bundled photo as
input): median ms per image of each LiteRT mode, with the default XNNPACK delegate and with the
interpreter's built-in kernels only. If a mode is as slow with the delegate as without it, the
delegate did not take its kernels: that is the measured reason it is slower.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REPEATS = 30


def median_ms(interpreter, x):
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    for _ in range(3):
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        interpreter.get_tensor(out["index"])
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tabulate import tabulate

    from artifact.device.compat import keras, tf
    from artifact.device.compress import litert
    from artifact.device.models.architectures.paper_architectures import PAPER_MODELS, build_paper_model
    from artifact.device.models.data.imagenet import PREPROCESSING_FOR_FAMILY, sample_photos

    rows = []
    threads = os.cpu_count() or 1
    for name in ("mobilenet_v1", "resnet_v1_50"):
        info = PAPER_MODELS[name]
        keras.utils.set_random_seed(0)
        model = build_paper_model(name)
        photos = sample_photos(PREPROCESSING_FOR_FAMILY[info.family], info.input_size)
        fn = tf.function(lambda t, m=model: m(t, training=False))
        fn(photos[0])
        tf_times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fn(photos[0]).numpy()
            tf_times.append(time.perf_counter() - start)
        rows.append([name, "TensorFlow fp32 (tf.function)", "", f"{statistics.median(tf_times) * 1e3:.2f}", "", ""])
        base = None
        for mode in litert.MODES:
            variant = litert.convert(model, mode, photos * 8)
            with tempfile.NamedTemporaryFile(suffix=".tflite") as handle:
                handle.write(variant.flatbuffer)
                handle.flush()
                fast = median_ms(Interpreter(model_path=handle.name, num_threads=threads), photos[0])
                plain = median_ms(Interpreter(
                    model_path=handle.name, num_threads=threads,
                    experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES), photos[0])
            base = base or fast
            rows.append([name, f"LiteRT {mode}", f"{len(variant.flatbuffer) / 1e6:.1f}", f"{fast:.2f}",
                         f"{plain:.2f}", f"{fast / base:.2f}x"])
        print(f"{name}: done", flush=True)
    print(tabulate(rows, headers=["model", "variant", "MB", "ms/image (XNNPACK)", "ms/image (built-in kernels)",
                                  "vs LiteRT fp32"], tablefmt="github"))
    print(f"\n{threads} threads; median of {REPEATS} runs on one real photo; weights initialised (seed 0).")


if __name__ == "__main__":
    main()
