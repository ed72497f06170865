"""Share of inference time per TensorFlow op type, from a real step-stats trace (Fig 6, Fig 28).

How: the model is traced to a concrete function, inlined with its control flow lowered (as TF's own
`convert_variables_to_constants_v2` does), imported into a `tf.compat.v1.Graph` whose weights are
variables (`VarHandleOp`, initialised once, read by `ReadVariableOp` at run time as in a TF 2
tf.function), and run in a `tf.compat.v1.Session` with `RunOptions(trace_level=FULL_TRACE)`;
`RunMetadata.step_stats` gives one record per executed node. This TF1-compat path exists unchanged on
TF 2.6, 2.11, 2.14 (the board twins) and 2.21.

Until 2026-12-02 the weights were frozen into constants. Grappler copies the GraphDef in each of its
passes, so with the weights inside it the first run cost 27 s on VGG-19 and 49 s on the GNMT (2 CPUs),
and its rewrites saw constant weights, which TF 2 inference never shows it (a MobileNet batch norm was
rewritten into Mul and Add). With variables, Grappler sees the graph the timed inference runs.

Constant folding is switched OFF (Grappler `rewrite_options.constant_folding` and the classic
graph optimizer's `do_constant_folding` / opt level L0) unless asked for, so that no run-time
dequantization (`tf.cast(q) * scale + min` under `tf.name_scope("dequantize")`) can be pre-computed
and hidden. Other Grappler rewrites (e.g. Conv2D+BiasAdd fusion)
stay on, as in normal inference, unless `fuse_ops=False` (turns the remapper off, so Conv2D,
BiasAdd, Relu, FusedBatchNormV3 are timed as separate ops; oneDNN builds still fuse Conv2D+BiasAdd
into Conv2DWithBias in their own pass). Op types are reported after stripping oneDNN / internal
prefixes (`_MklNativeFusedConv2D` -> `FusedConv2D`). The `VarHandleOp` nodes stand for the traced
function's captured variable arguments and are left out, like its `_Arg` nodes.

GPU traces (needs CUPTI): kernel times come from the `/device:GPU:N/stream:all` and
`/device:GPU:N/memcpy` pseudo-devices (node name `name:OpType`); the launch-side GPU device
records are used only if no `stream:all` record exists.
"""
import contextlib
import re
import time
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple  # noqa: F401 (Set: a name of a type comment)

from artifact.core.op_classes import OP_CLASSES, OTHER  # the mapping is data, shared with the report's Fig 6

CLASS_KEYS = tuple(sorted(OP_CLASSES)) + (OTHER,)
_CLASS_OF = {op: letter for letter, (_, ops) in OP_CLASSES.items() for op in ops}
_PSEUDO = frozenset(("_SOURCE", "_SINK", "_Arg", "_Retval", "_DeviceArg", "_DeviceRetval", "VarHandleOp"))
_LABEL_OP = re.compile(r"=\s*([A-Za-z_][\w]*)\(")


def normalize_op_type(op_type: str) -> str:
    """Strip oneDNN / internal prefixes: `_MklNativeFusedConv2D` -> `FusedConv2D`."""
    for prefix in ("_MklNative", "_Mkl", "_"):
        if op_type.startswith(prefix) and len(op_type) > len(prefix):
            return op_type[len(prefix):]
    return op_type


def is_dequantize_node(op_type: str, node_name: str) -> bool:
    """True for a `Dequantize` op or a node under a `dequantize*` name scope (a/dequantize_1/x)."""
    if normalize_op_type(op_type) == "Dequantize":
        return True
    scopes = node_name.split(":")[0].split("/")[:-1]
    return any(scope.lower().startswith("dequantize") for scope in scopes)


def classify_op(op_type: str, node_name: str = "") -> str:
    """Class letter A-G of one executed node, or OTHER; dequantize-scoped nodes are always G."""
    if is_dequantize_node(op_type, node_name):
        return "G"
    return _CLASS_OF.get(normalize_op_type(op_type), OTHER)


class OpProfile:
    """Mean per-run op time by op type and class, from `runs` traced inference runs."""

    def __init__(self, per_op_type_seconds: Dict[str, float], per_class_seconds: Dict[str, float],
                 dequantize_seconds: float, constant_folding: str, runs: int,
                 wall_seconds: float = 0.0, devices: Optional[List[str]] = None,
                 op_fusion: str = "on") -> None:
        self.per_op_type_seconds = dict(per_op_type_seconds)
        self.total_seconds = float(sum(self.per_op_type_seconds.values()))
        total = self.total_seconds or 1.0
        self.per_class_seconds = {k: float(per_class_seconds.get(k, 0.0)) for k in CLASS_KEYS}
        self.per_class_share = {k: v / total for k, v in self.per_class_seconds.items()}
        self.dequantize_seconds = float(dequantize_seconds)
        self.dequantize_share = self.dequantize_seconds / total
        self.constant_folding = constant_folding
        self.op_fusion = op_fusion
        self.weights = "variables"
        self.runs = runs
        self.wall_seconds = float(wall_seconds)
        self.devices = list(devices or [])

    def shares(self, min_share: float = 0.01) -> Dict[str, float]:
        """Op types taking >= `min_share` of the summed op time, largest first."""
        total = self.total_seconds or 1.0
        items = [(op, s / total) for op, s in self.per_op_type_seconds.items()]
        items.sort(key=lambda item: (-item[1], item[0]))
        return {op: share for op, share in items if share >= min_share and share > 0}

    def to_dict(self) -> Dict[str, Any]:
        """JSON-safe summary (seconds are means per run; shares are of the summed op time)."""
        return {
            "per_op_type_seconds": dict(sorted(self.per_op_type_seconds.items())),
            "per_op_type_class": {op: classify_op(op) for op in sorted(self.per_op_type_seconds)},
            "per_class_seconds": dict(self.per_class_seconds),
            "per_class_share": dict(self.per_class_share),
            "classes": {k: v[0] for k, v in sorted(OP_CLASSES.items())},
            "dequantize_seconds": self.dequantize_seconds,
            "dequantize_share": self.dequantize_share,
            "total_seconds": self.total_seconds,
            "wall_seconds": self.wall_seconds,
            "constant_folding": self.constant_folding,
            "op_fusion": self.op_fusion,
            "runs": self.runs,
            "devices": list(self.devices),
            "method": "tf.compat.v1.Session FULL_TRACE step_stats, " + (
                "weights as variables read at run time" if self.weights == "variables"
                else "weights frozen into constants"),
        }


def node_times(step_stats: Any) -> List[Tuple[str, str, float]]:
    """(node name, op type, seconds) for every executed node of one traced run.

    Skips the feed/fetch pseudo-nodes, the per-stream GPU duplicates and, when kernel times
    (`stream:all`) exist, the launch-side records of the GPU devices.
    """
    devices = [d.device for d in step_stats.dev_stats]
    have_kernels = any(d.endswith("/stream:all") for d in devices)
    out = []  # type: List[Tuple[str, str, float]]
    for dev in step_stats.dev_stats:
        name = dev.device
        kernel_dev = name.endswith(("/stream:all", "/memcpy"))
        if "/stream:" in name and not kernel_dev or name.endswith("/sync"):
            continue  # per-stream copies of stream:all, unknown streams, sync waits
        if not kernel_dev and "GPU:" in name.upper() and have_kernels:
            continue  # launch-side times of async GPU ops; kernels counted above
        for ns in dev.node_stats:
            micros = max(ns.all_end_rel_micros, ns.op_end_rel_micros)
            if kernel_dev:
                node, _, op = ns.node_name.partition(":")
                if not op:  # memcpy / kernel without a TF op: use the event name
                    op = ns.timeline_label.split(" ")[0] or node
            else:
                node = ns.node_name
                match = _LABEL_OP.search(ns.timeline_label)
                op = match.group(1) if match else node
            if node in _PSEUDO or op in _PSEUDO:
                continue
            out.append((node, normalize_op_type(op), micros * 1e-6))
    return out


def summarize(runs_nodes: List[List[Tuple[str, str, float]]], constant_folding: str = "off",
              wall_seconds: float = 0.0, devices: Optional[List[str]] = None) -> OpProfile:
    """Combine `node_times` lists of several runs into an OpProfile: each node's time is its median over the
    runs (a node that appears in only some runs counts 0 in the others), so one run in which the scheduler
    preempted an op cannot move its class ahead of another's; then summed per op type and per class."""
    n = max(len(runs_nodes), 1)
    per_node = {}  # type: Dict[Tuple[str, str], List[float]]
    for nodes in runs_nodes:
        for node, op, sec in nodes:
            per_node.setdefault((node, op), []).append(sec)
    by_op = {}  # type: Dict[str, float]
    by_class = {}  # type: Dict[str, float]
    deq = 0.0
    for (node, op), times in per_node.items():
        times = sorted(times + [0.0] * (n - len(times)))
        sec = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2.0
        by_op[op] = by_op.get(op, 0.0) + sec
        cls = classify_op(op, node)
        by_class[cls] = by_class.get(cls, 0.0) + sec
        if is_dequantize_node(op, node):
            deq += sec
    return OpProfile(by_op, by_class, deq, constant_folding, len(runs_nodes), wall_seconds,
                     devices)


def _concrete(fn: Any, arrays: List[Any], many: bool) -> Any:
    """The concrete function of `fn` for `arrays`' shapes and dtypes (a Keras model in inference mode)."""
    from artifact.device.compat import tf
    specs = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in arrays]
    arg = list(specs) if many else specs[0]
    if hasattr(fn, "get_concrete_function"):
        return fn.get_concrete_function(arg)
    if hasattr(fn, "layers") and hasattr(fn, "predict"):  # a Keras model: inference mode
        return tf.function(lambda x: fn(x, training=False)).get_concrete_function(arg)
    return tf.function(lambda x: fn(x)).get_concrete_function(arg)


def graph_with_variables(concrete: Any) -> Tuple[Any, List[str], Dict[str, Any]]:
    """(inlined GraphDef whose weights are variables, names of the inputs fed, {variable node: value}).

    The traced function is inlined and its control flow lowered as `convert_variables_to_constants_v2` does
    (its converter data does exactly that: the same private class on TF 2.6, 2.11, 2.14 and 2.21), but each
    captured variable becomes a `VarHandleOp` the session initialises once, not a constant. Grappler copies
    the GraphDef in each of its passes: with VGG-19's 548 MB of weights inside it that took 27 s before the
    first run (the GNMT: 49 s). A weight is then read by `ReadVariableOp` at run time, as in a TF 2
    tf.function, and a run-time dequantization cannot be constant-folded away. Other captured values (small
    tensors) become constants, as in the converter.
    """
    from tensorflow.core.framework import attr_value_pb2, types_pb2
    from tensorflow.python.framework import convert_to_constants as c2c

    from artifact.device.compat import tf
    data = c2c._FunctionConverterDataInEager(func=concrete, lower_control_flow=True, aggressive_inlining=False)
    graph_def = tf.compat.v1.GraphDef()
    graph_def.CopyFrom(data.graph_def)
    nodes = {node.name: node for node in graph_def.node}
    variables = {}  # type: Dict[str, Any]
    converted = set()
    for name, value in data.tensor_data.items():
        node = nodes[name]
        converted.add(value.index)
        device = node.device
        resource = node.attr["dtype"].type == types_pb2.DT_RESOURCE
        node.Clear()
        node.name, node.device = name, device
        node.attr["dtype"].type = value.dtype
        if resource:
            node.op = "VarHandleOp"
            node.attr["shape"].shape.CopyFrom(tf.TensorShape(value.numpy.shape).as_proto())
            node.attr["shared_name"].s = name.encode()
            node.attr["container"].s = b""
            variables[name] = value.numpy
        else:
            node.op = "Const"
            node.attr["value"].CopyFrom(attr_value_pb2.AttrValue(tensor=tf.make_tensor_proto(value.numpy)))
    captures = concrete.graph.internal_captures
    gone = {id(captures[index]) for index in converted if index is not None}
    feeds = [t.name for t in concrete.inputs if id(t) not in gone and t.dtype != tf.resource]
    return graph_def, feeds, variables


def graph_with_constants(concrete: Any) -> Tuple[Any, List[str], Dict[str, Any]]:
    """The method until 2026-12-02 (weights frozen into constants by `convert_variables_to_constants_v2`), kept
    so that benchmarks/speedups.py can measure how far today's `graph_with_variables` agrees with it."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from artifact.device.compat import tf
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.inputs if t.dtype != tf.resource], {}


WEIGHTS = {"variables": graph_with_variables, "constants": graph_with_constants}


def _trace(fn: Any, inputs: Any, weights: str = "variables"
           ) -> Tuple[Any, List[str], List[str], List[Any], Dict[str, Any]]:
    """Trace `fn(inputs)`: (GraphDef, input names, output names, arrays, {variable node: value})."""
    import numpy as np

    many = isinstance(inputs, (list, tuple))
    arrays = [np.asarray(x) for x in (inputs if many else [inputs])]
    concrete = _concrete(fn, arrays, many)
    graph_def, feeds, variables = WEIGHTS[weights](concrete)
    if len(feeds) != len(arrays):
        raise ValueError(f"profile_ops: traced function takes {len(feeds)} inputs, "
                         f"got {len(arrays)} arrays")
    fetches = [t.name for t in concrete.outputs]
    return graph_def, feeds, fetches, arrays, variables


def _initialise(sess: Any, graph: Any, variables: Dict[str, Any]) -> None:
    """Give every variable of the imported graph its value, in one run (not a profiled one)."""
    from artifact.device.compat import tf
    feeds, assigns = {}, []
    with graph.as_default():
        for name, value in variables.items():
            placeholder = tf.compat.v1.placeholder(tf.as_dtype(value.dtype), value.shape)
            assigns.append(tf.raw_ops.AssignVariableOp(resource=graph.get_tensor_by_name(name + ":0"),
                                                       value=placeholder))
            feeds[placeholder] = value
    if assigns:
        sess.run(assigns, feeds)


def session_config(constant_folding: bool = False, fuse_ops: bool = True) -> Any:
    """ConfigProto for the profiling session; folding OFF keeps run-time dequantization alive."""
    from tensorflow.core.protobuf import rewriter_config_pb2

    from artifact.device.compat import tf
    config = tf.compat.v1.ConfigProto()
    if not constant_folding:
        config.graph_options.rewrite_options.constant_folding = (
            rewriter_config_pb2.RewriterConfig.OFF)
        config.graph_options.optimizer_options.opt_level = tf.compat.v1.OptimizerOptions.L0
        config.graph_options.optimizer_options.do_constant_folding = False
    if not fuse_ops:
        config.graph_options.rewrite_options.remapping = rewriter_config_pb2.RewriterConfig.OFF
    return config


@contextlib.contextmanager
def traced_session(fn: Any, inputs: Any, config: Any = None, weights: str = "variables"
                   ) -> Iterator[Tuple[Any, List[str], Dict[str, Any]]]:
    """(session, fetches, feed dict) that run the traced graph of `fn(inputs)`, its variables initialised:
    what `profile_ops` traces, and what tests compare with the model's own outputs."""
    from artifact.device.compat import tf
    graph_def, feeds, fetches, arrays, variables = _trace(fn, inputs, weights)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph, config=config if config is not None else session_config()) as sess:
        _initialise(sess, graph, variables)
        yield sess, fetches, dict(zip(feeds, arrays))


def profile_ops(fn: Any, inputs: Any, runs: int = 5, warmup: int = 1,
                constant_folding: bool = False, fuse_ops: bool = True, weights: str = "variables") -> OpProfile:
    """Trace `runs` inference runs of `fn(inputs)` and return the per-op-type time (node medians, summed).

    `fn` is a tf.function, a Keras model (called with training=False) or any callable taking
    `inputs` (one array/tensor or a list of them). `warmup` untraced runs come first.
    `constant_folding=False` (default) keeps run-time dequantization; `fuse_ops=False` turns
    off Grappler's remapper (op fusion) for a per-primitive-op breakdown. `weights="constants"`: the method
    before 2026-12-02, for comparisons only.
    """
    if runs < 1 or warmup < 0:
        raise ValueError("profile_ops: runs must be >= 1 and warmup >= 0")
    from artifact.device.compat import tf
    options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
    all_nodes = []  # type: List[List[Tuple[str, str, float]]]
    devices = set()  # type: Set[str]
    wall = 0.0
    with traced_session(fn, inputs, session_config(constant_folding, fuse_ops), weights) as (sess, fetches, feeds):
        for _ in range(warmup):
            sess.run(fetches, feeds)
        for _ in range(runs):
            meta = tf.compat.v1.RunMetadata()
            start = time.perf_counter()
            sess.run(fetches, feeds, options=options, run_metadata=meta)
            wall += time.perf_counter() - start
            all_nodes.append(node_times(meta.step_stats))
            devices.update(d.device for d in meta.step_stats.dev_stats)
    prof = summarize(all_nodes, "on" if constant_folding else "off", wall / runs,
                     sorted(devices))
    prof.op_fusion = "on" if fuse_ops else "off"
    prof.weights = weights
    return prof
