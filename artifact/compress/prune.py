"""Filter and neuron pruning by L1 norm (Li et al., ICLR'17), removed physically.

The pruned model is a smaller dense model: for each prunable layer (Conv2D filters, Dense
neurons, LSTM units, Embedding dimensions) the `threshold` fraction with the lowest L1 norm is
removed, together with the matching input channels of every layer that consumes them.

Channels are tracked as *spaces*: a Conv2D/Dense/LSTM/Embedding output opens a space; pass-through
layers (BN, activations, pooling, depthwise conv) keep it; `Add`, `Attention` and LSTM initial
states tie spaces together (pruned with one shared index set, so residual shapes still add up);
`Concatenate` and `Flatten` compose them. Spaces that reach a model output or come from an input
are frozen. Retraining (fine-tuning) is the caller's job (`artifact.compress.techniques`).
"""

import numpy as np

from artifact.compat import keras
from artifact.errors import UnsupportedError

PASS_THROUGH = {"BatchNormalization", "Activation", "ReLU", "Dropout", "MaxPooling2D",
                "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
                "DepthwiseConv2D", "Softmax", "LeakyReLU"}
TIE_INPUTS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Attention"}
OPENS_SPACE = {"Conv2D": "filters", "Dense": "units", "LSTM": "units", "Embedding": "output_dim"}


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


def _plain(desc, where):
    if desc[0] != "space":
        raise UnsupportedError("{}: cannot tie a concatenated or flattened tensor".format(where))
    return desc[1]


def _inbound(config_layer):
    nodes = config_layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise UnsupportedError("layer {} is called more than once (shared layers are not supported)".format(
            config_layer["config"]["name"]))
    return [(t[0], t[2]) for t in nodes[0]] if nodes else []


def _analyse(model):
    """Descriptor of every tensor: ("space", id) | ("concat", [desc]) | ("flat", desc, positions)."""
    spaces, tensors = _Spaces(), {}
    config = model.get_config()
    if "layers" not in config or "input_layers" not in config:
        raise UnsupportedError("model {}: only functional Keras models can be pruned".format(model.name))
    for entry in config["layers"]:
        name, cls = entry["config"]["name"], entry["class_name"]
        layer = model.get_layer(name)
        inputs = [tensors[t] for t in _inbound(entry)]
        where = "layer {} ({})".format(name, cls)
        if cls == "InputLayer":
            shape = layer.output_shape[0] if isinstance(layer.output_shape, list) else layer.output_shape
            out = ("space", spaces.new(int(shape[-1] or 1), frozen=True))
        elif cls in OPENS_SPACE:
            out = ("space", spaces.new(int(entry["config"][OPENS_SPACE[cls]]), (name, cls)))
            if cls == "LSTM":
                for state in inputs[1:]:
                    spaces.union(out[1], _plain(state, where), where)
        elif cls in PASS_THROUGH:
            if cls == "DepthwiseConv2D" and entry["config"].get("depth_multiplier", 1) != 1:
                raise UnsupportedError("{}: depth_multiplier != 1 is not supported".format(where))
            out = inputs[0]
        elif cls in TIE_INPUTS:
            s = _plain(inputs[0], where)
            for other in inputs[1:]:
                s = spaces.union(s, _plain(other, where), where)
            out = ("space", s)
        elif cls == "Concatenate":
            if entry["config"].get("axis", -1) not in (-1, len(layer.output_shape) - 1):
                raise UnsupportedError("{}: only channel-axis concatenation is supported".format(where))
            out = ("concat", inputs)
        elif cls == "Flatten":
            out = ("flat", inputs[0], int(np.prod(layer.input_shape[1:-1])))
        else:
            raise UnsupportedError("{}: no pruning rule for this layer type; supported: {}".format(
                where, ", ".join(sorted(set(OPENS_SPACE) | PASS_THROUGH | TIE_INPUTS | {"Concatenate", "Flatten"}))))
        for index in range(3 if cls == "LSTM" else 1):
            tensors[(name, index)] = out
    for name, index in [(t[0], t[2]) for t in config["output_layers"]]:
        _freeze(spaces, tensors[(name, index)])
    return config, spaces, tensors


def _freeze(spaces, desc):
    if desc[0] == "space":
        spaces.frozen[spaces.find(desc[1])] = True
    elif desc[0] == "concat":
        for d in desc[1]:
            _freeze(spaces, d)
    else:
        _freeze(spaces, desc[1])


def _unit_l1(layer, cls):
    """L1 norm of the weights that produce each output channel of a layer, normalised to mean 1."""
    w = layer.get_weights()[0]
    if cls == "Conv2D":
        score = np.abs(w).sum(axis=(0, 1, 2))
    elif cls == "Dense" or cls == "Embedding":
        score = np.abs(w).sum(axis=0)
    else:  # LSTM: kernel and recurrent kernel columns of the four gates of each unit
        units = layer.units
        kernel, recurrent = np.abs(layer.get_weights()[0]), np.abs(layer.get_weights()[1])
        score = sum(kernel[:, g * units:(g + 1) * units].sum(0) + recurrent[:, g * units:(g + 1) * units].sum(0)
                    for g in range(4))
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


def prune_model(model, threshold):
    """A new, physically smaller model with the lowest-L1 `threshold` of each free space removed."""
    threshold = check_threshold(threshold)
    config, spaces, tensors = _analyse(model)
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
        remove = min(int(round(size * threshold)), size - 1)
        kept[root] = np.sort(np.argsort(score, kind="stable")[remove:])
    new_sizes = {}
    for entry in config["layers"]:
        name, cls = entry["config"]["name"], entry["class_name"]
        if cls in OPENS_SPACE:
            size = len(_kept(spaces, kept, tensors[(name, 0)]))
            entry["config"][OPENS_SPACE[cls]] = size
            new_sizes[name] = size
    pruned = keras.Model.from_config(config)
    for entry in config["layers"]:
        name, cls = entry["config"]["name"], entry["class_name"]
        old = model.get_layer(name)
        if not old.weights:
            continue
        inbound = _inbound(entry)
        in_kept = _kept(spaces, kept, tensors[inbound[0]]) if inbound else None
        out_kept = _kept(spaces, kept, tensors[(name, 0)])
        pruned.get_layer(name).set_weights(_slice(cls, old, in_kept, out_kept, name))
    return pruned


def _slice(cls, layer, in_kept, out_kept, name):
    w = layer.get_weights()
    if cls == "Conv2D":
        return [w[0][:, :, in_kept][..., out_kept]] + [b[out_kept] for b in w[1:]]
    if cls == "Dense":
        return [w[0][in_kept][:, out_kept]] + [b[out_kept] for b in w[1:]]
    if cls == "Embedding":
        return [w[0][:, out_kept]]
    if cls == "LSTM":
        cols = _gates(out_kept, layer.units)
        return [w[0][in_kept][:, cols], w[1][out_kept][:, cols]] + [b[cols] for b in w[2:]]
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


__all__ = ["prune_model", "check_threshold", "pruned_fraction"]
