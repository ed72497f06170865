"""Tests for artifact.device.measure.op_profile: real step-stats traces of tiny models (CPU, < 30 s)."""
import json

import numpy as np
import pytest

from artifact.device.compat import keras, tf
from artifact.device.measure.op_profile import (
    CLASS_KEYS,
    OP_CLASSES,
    OTHER,
    OpProfile,
    classify_op,
    normalize_op_type,
    profile_ops,
    summarize,
)


def _check_shares(prof):
    assert prof.total_seconds > 0
    assert set(prof.per_class_share) == set(CLASS_KEYS)
    assert sum(prof.per_class_share.values()) == pytest.approx(1.0)
    listed = prof.shares()
    assert listed
    for op, share in listed.items():
        assert share >= 0.01
        assert prof.per_op_type_seconds[op] / prof.total_seconds == pytest.approx(share)
    for op, sec in prof.per_op_type_seconds.items():
        if sec / prof.total_seconds < 0.01:
            assert op not in listed
    json.dumps(prof.to_dict())


def _conv_net():
    return keras.Sequential([
        keras.layers.Input((48, 48, 16)),
        keras.layers.Conv2D(64, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.MaxPool2D(),
        keras.layers.Conv2D(64, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10),
    ])


def test_conv_net_convolution_dominates():
    x = np.random.rand(4, 48, 48, 16).astype(np.float32)
    prof = profile_ops(_conv_net(), x, runs=3)
    _check_shares(prof)
    assert prof.constant_folding == "off"
    assert prof.op_fusion == "on"
    assert max(prof.per_class_share, key=prof.per_class_share.get) == "A"
    assert prof.dequantize_share == 0.0


def test_conv_net_unfused_ops():
    x = np.random.rand(4, 48, 48, 16).astype(np.float32)
    prof = profile_ops(_conv_net(), x, runs=5, fuse_ops=False)
    _check_shares(prof)
    assert prof.to_dict()["op_fusion"] == "off"
    ops = set(prof.per_op_type_seconds)
    assert "Relu" in ops and "FusedBatchNormV3" in ops
    # oneDNN builds (x86) still fuse Conv2D+BiasAdd in their own graph pass
    assert ops & {"Conv2D", "Conv2DWithBias"} and "FusedConv2D" not in ops
    assert max(prof.per_class_share, key=prof.per_class_share.get) == "A"


def test_dense_model_matmul_dominates():
    model = keras.Sequential([
        keras.layers.Input((1024,)),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(10),
    ])
    x = np.random.rand(32, 1024).astype(np.float32)
    prof = profile_ops(model, x, runs=3)
    _check_shares(prof)
    assert max(prof.per_class_share, key=prof.per_class_share.get) == "B"
    top_op = next(iter(prof.shares()))
    assert classify_op(top_op) == "B"


def _dequant_fns():
    rng = np.random.RandomState(0)
    q = tf.Variable(rng.randint(0, 256, (1024, 1024)).astype(np.uint8))
    w = tf.Variable(rng.rand(1024, 1024).astype(np.float32))
    scale, minimum = tf.constant(0.01), tf.constant(-1.28)

    @tf.function
    def quantized(x):
        with tf.name_scope("dequantize"):
            kernel = tf.cast(q, tf.float32) * scale + minimum
        return tf.matmul(x, kernel)

    @tf.function
    def plain(x):
        return tf.matmul(x, w)

    return quantized, plain


def test_dequantize_share_attributed_to_g():
    quantized, plain = _dequant_fns()
    x = np.random.rand(64, 1024).astype(np.float32)
    prof = profile_ops(quantized, x, runs=3)
    _check_shares(prof)
    assert prof.dequantize_share > 0
    assert "Cast" in prof.per_op_type_seconds  # not folded away
    assert prof.per_class_share["G"] >= prof.dequantize_share - 1e-12
    assert prof.to_dict()["dequantize_share"] == prof.dequantize_share

    base = profile_ops(plain, x, runs=2)
    assert base.dequantize_share == 0.0
    assert base.per_class_share["G"] == 0.0


def test_dequantization_survives_constant_folding_because_weights_are_variables():
    # with the weights frozen into constants (the method before 2026-12-02) folding pre-computed the
    # dequantization and hid it; read from variables at run time, it cannot be folded
    quantized, _ = _dequant_fns()
    x = np.random.rand(8, 1024).astype(np.float32)
    prof = profile_ops(quantized, x, runs=1, constant_folding=True)
    assert prof.constant_folding == "on"
    assert "Cast" in prof.per_op_type_seconds and prof.dequantize_share > 0
    assert "ReadVariableOp" in prof.per_op_type_seconds
    assert "VarHandleOp" not in prof.per_op_type_seconds  # the stand-in for the captured handles is left out


def _session_outputs(fn, x):
    """(the traced graph's outputs, how many variables it holds)."""
    from artifact.device.measure.op_profile import traced_session

    with traced_session(fn, x) as (sess, fetches, feeds):
        held = sum(op.type == "VarHandleOp" for op in sess.graph.get_operations())
        return sess.run(fetches, feeds), held


def test_the_profiled_graph_computes_what_the_model_computes():
    # the session runs the model with its own weights: a wrong or missing initialisation would show here
    inputs = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.DepthwiseConv2D(3)(keras.layers.ReLU()(h))
    outputs = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs, outputs)
    for layer in model.layers:  # batch-norm statistics that are not the defaults
        for weight in layer.weights:
            weight.assign(np.random.RandomState(len(weight.name)).rand(*weight.shape).astype(np.float32))
    x = np.random.RandomState(1).rand(2, 16, 16, 3).astype(np.float32)
    (out,), variables = _session_outputs(model, x)
    assert variables == len(model.weights)
    np.testing.assert_allclose(out, model(x, training=False).numpy(), rtol=1e-4, atol=1e-5)
    quantized, _ = _dequant_fns()
    v = np.random.RandomState(2).rand(1, 1024).astype(np.float32)
    (out,), _ = _session_outputs(quantized, v)
    np.testing.assert_allclose(out, quantized(v).numpy(), rtol=1e-4)


def test_list_inputs_and_plain_callable():
    a = np.random.rand(16, 256).astype(np.float32)
    b = np.random.rand(256, 256).astype(np.float32)
    prof = profile_ops(lambda xs: tf.matmul(xs[0], xs[1]), [a, b], runs=2, warmup=0)
    assert "MatMul" in prof.per_op_type_seconds or "FusedMatMul" in prof.per_op_type_seconds
    assert prof.runs == 2


def test_classify_op_units():
    assert classify_op("Conv2D", "model/conv2d/Conv2D") == "A"
    assert classify_op("_MklNativeFusedConv2D", "conv/BiasAdd") == "A"
    assert classify_op("DepthwiseConv2dNative", "dw") == "A"
    assert classify_op("MatMul", "dense/MatMul") == "B"
    assert classify_op("BatchMatMulV2", "attn/einsum") == "B"
    assert classify_op("Relu", "relu") == "C"
    assert classify_op("FusedBatchNormV3", "bn") == "D"
    assert classify_op("MaxPool", "pool") == "E"
    assert classify_op("Mean", "gap") == "E"
    assert classify_op("Reshape", "flatten/Reshape") == "F"
    assert classify_op("Cast", "cast") == "G"
    assert classify_op("Dequantize", "x") == "G"
    # name scope wins over op type
    assert classify_op("Mul", "dense/dequantize/mul") == "G"
    assert classify_op("AddV2", "StatefulPartitionedCall/dequantize_1/add") == "G"
    assert classify_op("Const", "dequantize/Cast:Cast") == "G"
    # the op's own name is not a scope; unknown types go to OTHER
    assert classify_op("Mul", "dequantize") == "C"
    assert classify_op("NoOp", "NoOp") == OTHER
    assert classify_op("SomeCustomOp", "foo") == OTHER
    assert normalize_op_type("_MklMatMul") == "MatMul"
    assert normalize_op_type("_FusedMatMul") == "FusedMatMul"
    assert len(set(OP_CLASSES)) == 7


def test_summarize_means_and_other_bucket():
    runs = [[("c", "Conv2D", 3.0), ("n", "NoOp", 1.0), ("dequantize/Cast", "Cast", 0.0)],
            [("c", "Conv2D", 1.0), ("n", "NoOp", 1.0)]]
    prof = summarize(runs)
    assert isinstance(prof, OpProfile)
    assert prof.per_op_type_seconds["Conv2D"] == pytest.approx(2.0)
    assert prof.total_seconds == pytest.approx(3.0)
    assert prof.per_class_share["A"] == pytest.approx(2.0 / 3)
    assert prof.per_class_share[OTHER] == pytest.approx(1.0 / 3)
    assert prof.shares(min_share=0.5) == {"Conv2D": pytest.approx(2.0 / 3)}


def test_one_preempted_run_cannot_reorder_the_classes():
    """Each node's time is its median over the runs: an op the scheduler preempted in one run (a 50 ms Relu)
    does not move its class ahead of the convolutions (it did with the mean, under load)."""
    from artifact.device.measure.op_profile import classify_op, summarize

    runs = [[("conv", "Conv2D", 0.004), ("relu", "Relu", 0.001)] for _ in range(3)]
    runs[1][1] = ("relu", "Relu", 0.050)
    prof = summarize(runs)
    conv_class, relu_class = classify_op("Conv2D", "conv"), classify_op("Relu", "relu")
    assert prof.per_class_share[conv_class] > prof.per_class_share[relu_class]
    assert prof.per_op_type_seconds["Relu"] == pytest.approx(0.001)
