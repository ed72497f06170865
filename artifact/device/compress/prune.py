"""Filter and neuron pruning by L1 norm (Li et al., ICLR'17), removed physically.

The pruned model is a smaller dense model: for each prunable layer (Conv2D filters, Dense
neurons, LSTM units, Embedding dimensions) the `threshold` fraction with the lowest L1 norm is
removed, together with the matching input channels of every layer that consumes them.

Channels are tracked as *spaces*: a Conv2D/Dense/LSTM/Embedding output opens a space; pass-through
layers (BN, activations, pooling, depthwise conv) keep it; `Add`, `Attention` and LSTM initial
states tie spaces together (pruned with one shared index set, so residual shapes still add up);
`Concatenate` and `Flatten` compose them. Spaces that reach a model output or come from an input
are frozen. A space is ranked by the L1 norm of the weights producing each channel (for an LSTM
unit: its kernel and recurrent kernel columns of the four gates i, f, c, o), normalised to mean 1
per producing layer and summed over all producers of a tied group. Retraining (fine-tuning) is the
caller's job (`artifact.device.compress.techniques`).

GNMT (`artifact.device.models.architectures.paper_architectures.gnmt`) adds these rules:

- `Bidirectional(LSTM)`: the forward and the backward LSTM each open a space (pruned separately;
  the backward layer gets its own config when the two widths differ); the sequence output is
  concat(forward, backward) (sum/ave/mul merges tie the two), the states are [h, c] of each.
- The attention RNN (`RNN` of `NormedBahdanauAttentionCell`) opens three spaces: the LSTM units
  (tied with its initial [h, c], i.e. the backward encoder states under pass_hidden_state), the
  attention depth (tied with the keys constant, i.e. the output of `memory_layer`; query_layer,
  v and b follow it) and the memory width (tied with the initial attention from `ZeroState` and
  with the memory constant, i.e. the top encoder output). Its output is concat(h, attention). The
  LSTM kernel's rows are concat(input, attention). When attention channels are removed the norm
  gain g is rescaled by |v_kept| / |v| so that the kept channels score exactly as before.
- `SliceLast(begin, size)` selects the components of a concatenated space that it covers exactly;
  its begin/size are recomputed from the kept channels.
- `ZeroState(units)` opens a weightless space (its width is its config); `SequenceMask` outputs a
  [batch, time] mask (a frozen space, its input is not tied).
- Residual `Add`s and pass_hidden_state tie every unidirectional encoder layer, the encoder memory,
  every upper decoder layer and the attention (memory) width into one group, pruned as a whole.

Frozen (not pruned): spaces from a model input or reaching a model output (GNMT: the target
vocabulary of the output projection), the mask, and every space involved in a tie that cannot be
pruned consistently: a tie (`Add`, recurrent initial state, attention constant) between tensors of
which one is concatenated or flattened, or a `SliceLast` that does not cover whole components. On
the GNMT builds of `gnmt()` no tie is of that kind, so all of its embedding, LSTM, attention-depth
and memory spaces are prunable; only the vocabulary (and the scalar gain g) stay as they are.
"""

import collections
import copy
from typing import Dict, List  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import UnsupportedError
from artifact.device.compat import keras

PASS_THROUGH = {"BatchNormalization", "Activation", "ReLU", "Dropout", "MaxPooling2D",
                "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
                "DepthwiseConv2D", "Softmax", "LeakyReLU"}
TIE_INPUTS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Attention"}
OPENS_SPACE = {"Conv2D": "filters", "Dense": "units", "LSTM": "units", "Embedding": "output_dim"}
ATTENTION_CELL = "NormedBahdanauAttentionCell"
OTHER_RULES = {"Concatenate", "Flatten", "Bidirectional", "RNN", "SliceLast", "SequenceMask", "ZeroState"}


def check_threshold(threshold):
    if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) < 1.0:
        raise UnsupportedError("pruning threshold must be a fraction in (0, 1), got {!r}".format(threshold))
    return float(threshold)


class _Spaces(object):
    """Union-find over channel spaces."""

    def __init__(self):
        self.parent, self.size, self.frozen, self.producers = [], [], [], []

    def new(self, size, producer=None, frozen=False):
        self.parent.append(len(self.parent))
        self.size.append(size)
        self.frozen.append(frozen)
        self.producers.append([producer] if producer else [])
        return len(self.parent) - 1

    def find(self, s):
        while self.parent[s] != s:
            self.parent[s] = self.parent[self.parent[s]]
            s = self.parent[s]
        return s

    def union(self, a, b, where):
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if self.size[a] != self.size[b]:
            raise UnsupportedError("{}: tied inputs have {} and {} channels".format(where, self.size[a], self.size[b]))
        self.parent[b] = a
        self.frozen[a] = self.frozen[a] or self.frozen[b]
        self.producers[a] += self.producers[b]
        return a


def _class_name(entry):
    """Class name of a serialized layer, without a registration package ("artifact>ZeroState")."""
    return entry["class_name"].split(">")[-1]


def _tie(spaces, space, desc, where):
    """Tie `desc` to the plain space `space`; freeze both if `desc` is concatenated or flattened."""
    if desc[0] == "space":
        return spaces.union(space, desc[1], where)
    spaces.frozen[spaces.find(space)] = True
    _freeze(spaces, desc)
    return spaces.find(space)


def _tie_all(spaces, inputs, where):
    """Output of an element-wise op: one tied space, or a frozen one if an input is composed."""
    if all(d[0] == "space" for d in inputs):
        s = inputs[0][1]
        for other in inputs[1:]:
            s = spaces.union(s, other[1], where)
        return ("space", s)
    for d in inputs:
        _freeze(spaces, d)
    return ("space", spaces.new(_size(spaces, inputs[-1]), frozen=True))


def _inbound(config_layer):
    nodes = config_layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise UnsupportedError("layer {} is called more than once (shared layers are not supported)".format(
            config_layer["config"]["name"]))
    return [(t[0], t[2]) for t in nodes[0]] if nodes else []


def _components(desc):
    if desc[0] == "concat":
        return [c for d in desc[1] for c in _components(d)]
    return [desc]


def _slice_last(spaces, desc, begin, size):
    """Descriptor of x[..., begin:begin + size]: the components it covers exactly, else frozen."""
    parts, offset, total = [], 0, _size(spaces, desc)
    end = min(begin + size, total)
    for part in _components(desc):
        width = _size(spaces, part)
        if begin <= offset and offset + width <= end:
            parts.append(part)
        elif offset < end and begin < offset + width:
            parts = None
            break
        offset += width
    if parts:
        return parts[0] if len(parts) == 1 else ("concat", parts)
    _freeze(spaces, desc)
    return ("space", spaces.new(max(end - begin, 0), frozen=True))


def _bidirectional(spaces, entry, inputs, where, extra):
    config, name = entry["config"], entry["config"]["name"]
    inner, back = config["layer"], config.get("backward_layer")
    if _class_name(inner) != "LSTM" or (back is not None and _class_name(back) != "LSTM"):
        raise UnsupportedError("{}: only Bidirectional(LSTM) can be pruned".format(where))
    if config.get("num_constants"):
        raise UnsupportedError("{}: constants of a Bidirectional layer are not supported".format(where))
    fw = spaces.new(int(inner["config"]["units"]), (name, "Bidirectional/forward"))
    bw = spaces.new(int((back or inner)["config"]["units"]), (name, "Bidirectional/backward"))
    states = inputs[1:]
    for i, state in enumerate(states):
        _tie(spaces, fw if i < len(states) // 2 else bw, state, where)
    extra[name] = {"forward": fw, "backward": bw}
    mode = config.get("merge_mode")
    if mode == "concat":
        sequence = ("concat", [("space", fw), ("space", bw)])
    elif mode in ("sum", "ave", "mul"):
        sequence = ("space", spaces.union(fw, bw, where))
    else:
        raise UnsupportedError("{}: merge_mode {!r} is not supported".format(where, mode))
    return [sequence, ("space", fw), ("space", fw), ("space", bw), ("space", bw)]


def _attention_rnn(spaces, entry, inputs, where, extra):
    config, name = entry["config"], entry["config"]["name"]
    cell = config["cell"]
    if _class_name(cell) != ATTENTION_CELL:
        raise UnsupportedError("{}: no pruning rule for an RNN of {}; supported: {}".format(
            where, _class_name(cell), ATTENTION_CELL))
    constants = int(config.get("num_constants") or 0)
    if constants != 3:
        raise UnsupportedError("{}: expected the constants [keys, memory, mask], got {}".format(where, constants))
    units = spaces.new(int(cell["config"]["units"]), (name, "AttentionCell/lstm"))
    depth = spaces.new(int(cell["config"]["attention_units"]), (name, "AttentionCell/query"))
    memory = spaces.new(int(cell["config"]["memory_units"]))
    states, (keys, values, _mask) = inputs[1:-3], inputs[-3:]
    for space, state in zip((units, units, memory), states):
        _tie(spaces, space, state, where)
    _tie(spaces, depth, keys, where)
    _tie(spaces, memory, values, where)
    extra[name] = {"units": units, "depth": depth, "memory": memory}
    return [("concat", [("space", units), ("space", memory)]), ("space", units), ("space", units),
            ("space", memory)]


def _analyse(model):
    """Descriptor of every tensor: ("space", id) | ("concat", [desc]) | ("flat", desc, positions)."""
    spaces, tensors, extra = _Spaces(), {}, {}
    config = model.get_config()
    if "layers" not in config or "input_layers" not in config:
        raise UnsupportedError("model {}: only functional Keras models can be pruned".format(model.name))
    for entry in config["layers"]:
        name, cls = entry["config"]["name"], _class_name(entry)
        layer = model.get_layer(name)
        inputs = [tensors[t] for t in _inbound(entry)]
        where = "layer {} ({})".format(name, cls)
        if cls == "InputLayer":
            shape = layer.output_shape[0] if isinstance(layer.output_shape, list) else layer.output_shape
            outs = [("space", spaces.new(int(shape[-1] or 1), frozen=True))]
        elif cls in OPENS_SPACE:
            out = ("space", spaces.new(int(entry["config"][OPENS_SPACE[cls]]), (name, cls)))
            if cls == "LSTM":
                for state in inputs[1:]:
                    _tie(spaces, out[1], state, where)
            outs = [out] * (3 if cls == "LSTM" else 1)
        elif cls in PASS_THROUGH:
            if cls == "DepthwiseConv2D" and entry["config"].get("depth_multiplier", 1) != 1:
                raise UnsupportedError("{}: depth_multiplier != 1 is not supported".format(where))
            outs = [inputs[0]]
        elif cls in TIE_INPUTS:
            outs = [_tie_all(spaces, inputs, where)]
        elif cls == "Concatenate":
            if entry["config"].get("axis", -1) not in (-1, len(layer.output_shape) - 1):
                raise UnsupportedError("{}: only channel-axis concatenation is supported".format(where))
            outs = [("concat", inputs)]
        elif cls == "Flatten":
            outs = [("flat", inputs[0], int(np.prod(layer.input_shape[1:-1])))]
        elif cls == "Bidirectional":
            outs = _bidirectional(spaces, entry, inputs, where, extra)
        elif cls == "RNN":
            outs = _attention_rnn(spaces, entry, inputs, where, extra)
        elif cls == "SliceLast":
            outs = [_slice_last(spaces, inputs[0], int(entry["config"]["begin"]), int(entry["config"]["size"]))]
        elif cls == "SequenceMask":
            outs = [("space", spaces.new(int(layer.output_shape[-1] or 1), frozen=True))]
        elif cls == "ZeroState":
            outs = [("space", spaces.new(int(entry["config"]["units"])))]
        else:
            raise UnsupportedError("{}: no pruning rule for this layer type; supported: {}".format(
                where, ", ".join(sorted(set(OPENS_SPACE) | PASS_THROUGH | TIE_INPUTS | OTHER_RULES))))
        for index, out in enumerate(outs):
            tensors[(name, index)] = out
    for name, index in [(t[0], t[2]) for t in config["output_layers"]]:
        _freeze(spaces, tensors[(name, index)])
    return config, spaces, tensors, extra


def _freeze(spaces, desc):
    if desc[0] == "space":
        spaces.frozen[spaces.find(desc[1])] = True
    elif desc[0] == "concat":
        for d in desc[1]:
            _freeze(spaces, d)
    else:
        _freeze(spaces, desc[1])


def _lstm_l1(kernel, recurrent, units):
    """Per unit: L1 of its kernel and recurrent kernel columns in the four gate blocks."""
    kernel, recurrent = np.abs(kernel), np.abs(recurrent)
    return sum(kernel[:, g * units:(g + 1) * units].sum(0) + recurrent[:, g * units:(g + 1) * units].sum(0)
               for g in range(4))


def _unit_l1(layer, kind):
    """L1 norm of the weights that produce each output channel of a layer, normalised to mean 1."""
    if kind == "Conv2D":
        score = np.abs(layer.get_weights()[0]).sum(axis=(0, 1, 2))
    elif kind == "Dense" or kind == "Embedding":
        score = np.abs(layer.get_weights()[0]).sum(axis=0)
    elif kind == "LSTM":
        score = _lstm_l1(layer.get_weights()[0], layer.get_weights()[1], layer.units)
    elif kind in ("Bidirectional/forward", "Bidirectional/backward"):
        sub = layer.forward_layer if kind.endswith("forward") else layer.backward_layer
        score = _lstm_l1(sub.get_weights()[0], sub.get_weights()[1], sub.units)
    elif kind == "AttentionCell/lstm":
        lstm = layer.cell.lstm
        score = _lstm_l1(lstm.kernel.numpy(), lstm.recurrent_kernel.numpy(), lstm.units)
    else:  # AttentionCell/query: the query layer's kernel columns of each attention channel
        score = np.abs(layer.cell.query_layer.kernel.numpy()).sum(axis=0)
    return score / max(float(score.mean()), 1e-12)


def _kept(spaces, tensors_kept, desc):
    if desc[0] == "space":
        return tensors_kept[spaces.find(desc[1])]
    if desc[0] == "concat":
        out, offset = [], 0
        for d in desc[1]:
            out.extend(offset + k for k in _kept(spaces, tensors_kept, d))
            offset += _size(spaces, d)
        return np.array(out, np.int64)
    channels, kept = _size(spaces, desc[1]), _kept(spaces, tensors_kept, desc[1])
    return (np.arange(desc[2])[:, None] * channels + kept[None, :]).reshape(-1)


def _size(spaces, desc):
    if desc[0] == "space":
        return spaces.size[spaces.find(desc[1])]
    if desc[0] == "concat":
        return sum(_size(spaces, d) for d in desc[1])
    return _size(spaces, desc[1]) * desc[2]


def _gates(kept, units):
    return np.concatenate([g * units + kept for g in range(4)])


def _resize(entry, cls, kept_of, tensors, extra):
    """Rewrite the config of a layer whose widths follow pruned spaces."""
    config, name = entry["config"], entry["config"]["name"]
    if cls in OPENS_SPACE:
        config[OPENS_SPACE[cls]] = len(kept_of(tensors[(name, 0)]))
    elif cls == "Bidirectional":
        fw, bw = len(kept_of(extra[name]["forward"])), len(kept_of(extra[name]["backward"]))
        config["layer"]["config"]["units"] = fw
        if "backward_layer" in config or bw != fw:
            if "backward_layer" not in config:
                back = copy.deepcopy(config["layer"])
                back["config"]["go_backwards"] = not back["config"].get("go_backwards", False)
                config["backward_layer"] = back
            config["backward_layer"]["config"]["units"] = bw
    elif cls == "RNN":
        cell = config["cell"]["config"]
        cell["units"] = len(kept_of(extra[name]["units"]))
        cell["attention_units"] = len(kept_of(extra[name]["depth"]))
        cell["memory_units"] = len(kept_of(extra[name]["memory"]))
    elif cls == "ZeroState":
        config["units"] = len(kept_of(tensors[(name, 0)]))
    elif cls == "SliceLast":
        in_kept = kept_of(tensors[_inbound(entry)[0]])
        begin, end = config["begin"], config["begin"] + config["size"]
        config["begin"] = int((in_kept < begin).sum())
        config["size"] = int(((in_kept >= begin) & (in_kept < end)).sum())


def check_block_fractions(fractions):
    """Per-block pruning fractions: each in [0, 1) (0 keeps a block whole), at least one above 0."""
    if (not isinstance(fractions, (list, tuple)) or not fractions
            or not all(isinstance(f, (int, float)) and 0.0 <= float(f) < 1.0 for f in fractions)
            or not any(float(f) > 0.0 for f in fractions)):
        raise UnsupportedError("per-block pruning fractions must each be in [0, 1), one above 0; got {!r}".format(
            fractions))
    return [float(f) for f in fractions]


def block_fractions(spaces, fractions):
    # type: (_Spaces, List[float]) -> Dict[int, float]
    """root of each free space -> its block's fraction: the free spaces, in the order their first layer appears
    in the model (input to output), cut into len(fractions) runs of (nearly) equal count."""
    roots = []  # type: List[int]
    for s in range(len(spaces.parent)):
        root = spaces.find(s)
        if root not in roots and not spaces.frozen[root] and spaces.producers[root]:
            roots.append(root)
    return {root: fractions[i * len(fractions) // len(roots)] for i, root in enumerate(roots)}


def prune_model(model, threshold):
    """A new, physically smaller model with the lowest-L1 `threshold` of each free space removed; `threshold` a list
    of fractions: one per block of free spaces (`block_fractions`), 0 keeping a block whole."""
    blocks = check_block_fractions(threshold) if isinstance(threshold, (list, tuple)) else None
    uniform = None if blocks else check_threshold(threshold)
    config, spaces, tensors, extra = _analyse(model)
    of_root = block_fractions(spaces, blocks) if blocks else collections.defaultdict(lambda: uniform)
    kept = {}  # type: Dict[int, np.ndarray]
    for s in range(len(spaces.parent)):
        root = spaces.find(s)
        if root in kept:
            continue
        size = spaces.size[root]
        if spaces.frozen[root] or not spaces.producers[root]:
            kept[root] = np.arange(size)
            continue
        score = sum(_unit_l1(model.get_layer(n), c) for n, c in spaces.producers[root])
        remove = min(int(round(size * of_root[root])), size - 1)
        kept[root] = np.sort(np.argsort(score, kind="stable")[remove:])

    def kept_of(desc):
        return _kept(spaces, kept, ("space", desc) if isinstance(desc, int) else desc)

    for entry in config["layers"]:
        entry.pop("build_config", None)  # input shapes of the unpruned model; layers build on call
        _resize(entry, _class_name(entry), kept_of, tensors, extra)
        for key in entry["config"]:  # every weight is overwritten below: skip random initialisation
            if key.endswith("_initializer") and entry["config"][key] is not None:
                entry["config"][key] = {"class_name": "Zeros", "config": {}}
    pruned = keras.Model.from_config(config)
    for entry in config["layers"]:
        name, cls = entry["config"]["name"], _class_name(entry)
        old = model.get_layer(name)
        if not old.weights:
            continue
        inbound = _inbound(entry)
        in_kept = kept_of(tensors[inbound[0]]) if inbound else None
        out_kept = kept_of(tensors[(name, 0)])
        pruned.get_layer(name).set_weights(_slice(cls, old, in_kept, out_kept, name,
                                                  {k: kept_of(s) for k, s in extra.get(name, {}).items()}))
    return pruned


def _slice_lstm(w, in_kept, out_kept, units):
    cols = _gates(out_kept, units)
    return [w[0][in_kept][:, cols], w[1][out_kept][:, cols]] + [b[cols] for b in w[2:]]


def _slice_attention_rnn(layer, in_kept, kept):
    """Weights of the attention RNN in `layer.weights` order, cut to the kept channels."""
    cell = layer.cell
    units, depth, memory = kept["units"], kept["depth"], kept["memory"]
    input_dim = int(cell.lstm.kernel.shape[0]) - cell.memory_units
    rows = np.concatenate([in_kept, input_dim + memory])
    lstm = _slice_lstm([v.numpy() for v in cell.lstm.weights], rows, units, cell.units)
    v = cell.attention_v.numpy()
    norm = float(np.sqrt(np.square(v).sum()))
    gain = cell.attention_g.numpy() * (float(np.sqrt(np.square(v[depth]).sum())) / norm if norm > 0 else 1.0)
    values = list(zip(cell.lstm.weights, lstm)) + [
        (cell.query_layer.kernel, cell.query_layer.kernel.numpy()[units][:, depth]),
        (cell.attention_v, v[depth]),
        (cell.attention_g, np.asarray(gain, cell.attention_g.numpy().dtype)),
        (cell.attention_b, cell.attention_b.numpy()[depth]),
    ]
    out = []
    for weight in layer.weights:
        match = [value for variable, value in values if variable is weight]
        if len(match) != 1:
            raise UnsupportedError("layer {}: unexpected attention cell weight {}".format(layer.name, weight.name))
        out.append(match[0])
    return out


def _slice(cls, layer, in_kept, out_kept, name, kept):
    w = layer.get_weights()
    if cls == "Conv2D":  # one fancy-indexing copy of the kernel, no intermediate (VGG fc6: 411 MB)
        return [w[0][np.ix_(np.arange(w[0].shape[0]), np.arange(w[0].shape[1]), in_kept, out_kept)]] + [
            b[out_kept] for b in w[1:]]
    if cls == "Dense":
        return [w[0][np.ix_(in_kept, out_kept)]] + [b[out_kept] for b in w[1:]]
    if cls == "Embedding":
        return [w[0][:, out_kept]]
    if cls == "LSTM":
        return _slice_lstm(w, in_kept, out_kept, layer.units)
    if cls == "Bidirectional":
        return (_slice_lstm(layer.forward_layer.get_weights(), in_kept, kept["forward"], layer.forward_layer.units)
                + _slice_lstm(layer.backward_layer.get_weights(), in_kept, kept["backward"],
                              layer.backward_layer.units))
    if cls == "RNN":
        return _slice_attention_rnn(layer, in_kept, kept)
    if cls == "DepthwiseConv2D":
        return [w[0][:, :, in_kept]] + [b[in_kept] for b in w[1:]]
    if cls == "BatchNormalization":
        return [v[in_kept] for v in w]
    if cls == "Attention":
        return w
    raise UnsupportedError("layer {} ({}): has weights but no pruning rule".format(name, cls))


def pruned_fraction(original, pruned):
    # type: (keras.Model, keras.Model) -> float
    return 1.0 - pruned.count_params() / float(original.count_params())


__all__ = ["prune_model", "check_threshold", "check_block_fractions", "pruned_fraction"]
