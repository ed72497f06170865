"""tensorflow/nmt GNMT checkpoints <-> the Keras GNMT of `paper_architectures.gnmt`, and decoding.

Variable names (training graph of nmt at tensorflow/nmt@0be8642, `nmt.py` -> `train.py` ->
`model_helper.create_train_model(scope=None)`; H = num_units, V = vocabulary sizes, N = layers):

    embeddings/encoder/embedding_encoder                                  [V_src, H]
    embeddings/decoder/embedding_decoder                                  [V_tgt, H]
    dynamic_seq2seq/encoder/bidirectional_rnn/fw/basic_lstm_cell/kernel   [2H, 4H]   (+ /bias [4H])
    dynamic_seq2seq/encoder/bidirectional_rnn/bw/basic_lstm_cell/kernel   [2H, 4H]
    dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel  [3H, 4H]
    dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_i/basic_lstm_cell/kernel  [2H, 4H]  i = 1..N-2
        (N = 2: a single unidirectional layer is no MultiRNNCell: .../encoder/rnn/basic_lstm_cell/)
    dynamic_seq2seq/decoder/memory_layer/kernel                           [H, H]
    dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/basic_lstm_cell/kernel [3H, 4H]
    dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/
        query_layer/kernel [H, H], attention_v [H], attention_g [], attention_b [H]
    dynamic_seq2seq/decoder/multi_rnn_cell/cell_i/basic_lstm_cell/kernel  [3H, 4H]  i = 1..N-1
    dynamic_seq2seq/decoder/output_projection/kernel                      [H, V_tgt]

Where each comes from (checked in the sources, not against a released checkpoint):
- Embeddings: `model_helper.create_emb_for_encoder_and_decoder` opens
  ``variable_scope(scope or "embeddings")`` then "encoder"/"decoder"; `BaseModel.init_embeddings`
  passes the model's scope, None in nmt.py's training. (nmt's own model_test.py builds its models
  with scope="dynamic_seq2seq" and therefore expects ``dynamic_seq2seq/encoder/embedding_encoder``;
  nmt.py checkpoints have ``embeddings/...``.) With share_vocab=true the single matrix is
  ``embeddings/embedding_share``, which this module does not map (`build_gnmt_from_hparams`
  refuses it).
- Encoder: `GNMTModel._build_encoder` ("encoder" scope inside "dynamic_seq2seq"),
  `_build_bidirectional_rnn` -> `tf.nn.bidirectional_dynamic_rnn` (scopes
  "bidirectional_rnn/fw|bw"), `_build_all_encoder_layers` -> `tf.nn.dynamic_rnn` (scope "rnn")
  over `model_helper.create_rnn_cell`, a `MultiRNNCell` ("multi_rnn_cell/cell_i") unless there is
  a single layer. The GNMT list of nmt's model_test.py (`_testGNMTModel`, residual layers
  included) has exactly these encoder names.
- Wrappers: `DropoutWrapper`, `ResidualWrapper` and `DeviceWrapper` (TF1 rnn_cell_impl.py)
  override ``__call__`` and call the wrapped cell with the same `scope`, so residual layers keep
  the plain ``basic_lstm_cell`` names (also what model_test.py's GNMT list shows).
- Decoder: `BaseModel._build_decoder` ("decoder" scope, re-entered by `dynamic_decode`),
  `GNMTAttentionMultiCell.__call__` ("multi_rnn_cell", "cell_0_attention", "cell_i"),
  `AttentionWrapper(name="attention")` around the bottom `BasicLSTMCell`; memory layer and query
  layer from `BahdanauAttention` (contrib/seq2seq attention_wrapper.py): ``memory_layer`` is
  applied when the mechanism is built (in the "decoder" scope), ``query_layer`` and
  ``attention_v/g/b`` inside ``variable_scope(None, "bahdanau_attention")`` when it is called from
  the wrapper. model_test.py confirms ``.../cell_0_attention/attention/basic_lstm_cell`` and
  ``.../cell_0_attention/attention/luong_attention/attention_g`` (GNMT) and
  ``.../attention/bahdanau_attention/{query_layer/kernel,attention_v,attention_g,attention_b}``
  (standard architecture, normed_bahdanau); the GNMT + normed_bahdanau names above combine the
  two and are inferred, not seen in one list.
- Output projection: a ``tf.layers.Dense(name="output_projection", use_bias=False)`` that gets
  its variable scope when first called, inside "dynamic_seq2seq/decoder" (model_test.py:
  ``dynamic_seq2seq/decoder/output_projection/kernel``).

LSTM conversion: nmt's cells are TF1 ``BasicLSTMCell`` (unit_type=lstm, `model_helper._single_cell`):
one kernel [input + H, 4H] applied to ``concat([inputs, h])``, bias [4H], gates split as
``i, j, f, o`` and ``c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)``,
``h' = tanh(c') * sigmoid(o)`` with forget_bias (hparams, 1.0) added at run time. Keras' LSTM
has kernel [input, 4H] + recurrent_kernel [H, 4H], gates ``i, f, c, o``, the same activations
(sigmoid / tanh) and no run-time forget bias. So: rows split at `input`, column blocks reordered
(i, j, f, o) -> (i, f, j, o), forget_bias added to the f block of the bias (`tf1_lstm_to_keras`;
`keras_lstm_to_tf1` is the inverse). The bottom decoder cell's input is
``concat([embedding, previous attention])`` in nmt (AttentionWrapper's default `cell_input_fn`)
and in `NormedBahdanauAttentionCell`, whose ``basic_lstm_cell`` is a Keras `LSTMCell`, whose
``query_layer`` is a bias-free Dense [H, H] and whose ``attention_v`` [H], ``attention_g`` [] and
``attention_b`` [H] are stored exactly like nmt's: those copy unchanged.

Decoding (`GreedyTranslator`): greedy search with the teacher-forced Keras model. nmt's standard
hparams decode with beam search (beam_width 10, length_penalty_weight 1.0), which gives a
slightly higher BLEU than greedy; BLEU measured here is therefore a little below nmt's.

Python 3.6 compatible (Jetson TX2, TF 2.7): no dataclasses, no walrus, no postponed annotations.
"""
import collections
import os
from typing import Dict, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import ConfigError, FormatError, MissingInputError, UnsupportedError
from artifact.device.compat import keras, tf
from artifact.device.models.architectures.paper_architectures import gnmt, keras_name
from artifact.device.models.data import nmt_data

NmtWeight = collections.namedtuple("NmtWeight", [
    "nmt_name",    # checkpoint variable name
    "nmt_shape",   # its shape in the checkpoint (tuple)
    "variables",   # Keras variables it fills: (kernel, recurrent_kernel) for "lstm_kernel"
    "kind",        # "copy", "lstm_kernel" (split rows + reorder gates), "lstm_bias" (reorder +
                   # forget bias)
    "input_dim",   # LSTM input width (rows of the Keras kernel); None for "copy"
])

ENCODER = "dynamic_seq2seq/encoder/"
DECODER = "dynamic_seq2seq/decoder/"
ATTENTION_CELL = DECODER + "multi_rnn_cell/cell_0_attention"
ATTENTION_SCOPE = ATTENTION_CELL + "/attention/"
OUTPUT_PROJECTION = DECODER + "output_projection"
SUPPORTED_HPARAMS = collections.OrderedDict([
    ("encoder_type", "gnmt"),
    ("attention", "normed_bahdanau"),
    ("attention_architecture", "gnmt_v2"),
    ("unit_type", "lstm"),
    ("residual", True),
    ("pass_hidden_state", True),
    ("share_vocab", False),
])
"""What the Keras GNMT implements; `build_gnmt_from_hparams` refuses any other value."""

_GATE_BLOCKS = (0, 2, 1, 3)  # (i, j, f, o) <-> (i, f, c=j, o); the permutation is its own inverse


# --------------------------------------------------------------------------- LSTM conversion


def _gate_columns(units):
    # type: (int) -> np.ndarray
    return np.concatenate([np.arange(b * units, (b + 1) * units) for b in _GATE_BLOCKS])


def _tf1_kernel_to_keras(kernel, input_dim):
    reordered = np.asarray(kernel)[:, _gate_columns(np.asarray(kernel).shape[1] // 4)]
    return reordered[:input_dim], reordered[input_dim:]


def _tf1_bias_to_keras(bias, forget_bias):
    bias = np.asarray(bias)
    units = bias.shape[0] // 4
    result = np.array(bias[_gate_columns(units)], dtype=np.float64)
    result[units:2 * units] += forget_bias
    return result.astype(bias.dtype)


def _keras_kernel_to_tf1(kernel, recurrent_kernel):
    stacked = np.concatenate([np.asarray(kernel), np.asarray(recurrent_kernel)], axis=0)
    return stacked[:, _gate_columns(stacked.shape[1] // 4)]


def _keras_bias_to_tf1(bias, forget_bias):
    bias = np.asarray(bias)
    units = bias.shape[0] // 4
    result = np.array(bias, dtype=np.float64)
    result[units:2 * units] -= forget_bias
    return result[_gate_columns(units)].astype(bias.dtype)


def tf1_lstm_to_keras(kernel, bias, input_dim, forget_bias=1.0):
    # type: (np.ndarray, np.ndarray, int, float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]
    """TF1 BasicLSTMCell (kernel [in+H, 4H], bias [4H], gates i,j,f,o) -> Keras LSTM weights.

    Returns (kernel [in, 4H], recurrent_kernel [H, 4H], bias [4H]) with gates i,f,c,o and
    `forget_bias` folded into the forget-gate bias.
    """
    kernel_in, kernel_rec = _tf1_kernel_to_keras(kernel, input_dim)
    return kernel_in, kernel_rec, _tf1_bias_to_keras(bias, forget_bias)


def keras_lstm_to_tf1(kernel, recurrent_kernel, bias, forget_bias=1.0):
    # type: (np.ndarray, np.ndarray, np.ndarray, float) -> Tuple[np.ndarray, np.ndarray]
    """Inverse of `tf1_lstm_to_keras`: (kernel [in+H, 4H], bias [4H]) in nmt's layout."""
    return _keras_kernel_to_tf1(kernel, recurrent_kernel), _keras_bias_to_tf1(bias, forget_bias)


# --------------------------------------------------------------------------- variable map


def _get_layer(model, scope):
    try:
        return model.get_layer(keras_name(scope))
    except ValueError:
        raise UnsupportedError("model {!r} has no layer {!r} (nmt scope {}); only models built by "
                               "paper_architectures.gnmt can be mapped to nmt checkpoints".format(
                                   model.name, keras_name(scope), scope))


def _count_layers(model, prefix, first=0):
    # type: (keras.Model, str, int) -> int
    """Number of consecutive layers named prefix + "first", prefix + "first+1", ..."""
    count = first
    while True:
        try:
            model.get_layer(keras_name(prefix + str(count)))
        except ValueError:
            return count - first
        count += 1


def nmt_variable_map(model):
    # type: (keras.Model) -> collections.OrderedDict
    """nmt checkpoint name -> `NmtWeight` for every Keras weight of a `gnmt(...)` model.

    Each `NmtWeight` gives the checkpoint variable's name and shape, the Keras variable(s) it
    fills and the transformation ("copy", or the LSTM kernel/bias conversion described in the
    module docstring). Every weight of `model` appears exactly once (else UnsupportedError).
    """
    entries = collections.OrderedDict()

    def copy(name, variable):
        entries[name] = NmtWeight(name, tuple(int(d) for d in variable.shape), (variable,),
                                  "copy", None)

    def lstm(scope, cell):
        kernel, recurrent, bias = cell.kernel, cell.recurrent_kernel, cell.bias
        input_dim, units = int(kernel.shape[0]), int(recurrent.shape[0])
        entries[scope + "/kernel"] = NmtWeight(scope + "/kernel", (input_dim + units, 4 * units),
                                               (kernel, recurrent), "lstm_kernel", input_dim)
        entries[scope + "/bias"] = NmtWeight(scope + "/bias", (4 * units,), (bias,), "lstm_bias",
                                             input_dim)

    copy("embeddings/encoder/embedding_encoder",
         _get_layer(model, "embeddings/encoder/embedding_encoder").embeddings)
    copy("embeddings/decoder/embedding_decoder",
         _get_layer(model, "embeddings/decoder/embedding_decoder").embeddings)
    bidirectional = _get_layer(model, ENCODER + "bidirectional_rnn")
    lstm(ENCODER + "bidirectional_rnn/fw/basic_lstm_cell", bidirectional.forward_layer.cell)
    lstm(ENCODER + "bidirectional_rnn/bw/basic_lstm_cell", bidirectional.backward_layer.cell)
    num_uni = _count_layers(model, ENCODER + "rnn/multi_rnn_cell/cell_")
    if num_uni == 0:
        _get_layer(model, ENCODER + "rnn/multi_rnn_cell/cell_0")  # raises UnsupportedError
    for i in range(num_uni):
        # nmt's create_rnn_cell returns the bare cell (no MultiRNNCell) for a single layer.
        scope = ENCODER + ("rnn/multi_rnn_cell/cell_{}".format(i) if num_uni > 1 else "rnn")
        layer = _get_layer(model, ENCODER + "rnn/multi_rnn_cell/cell_{}".format(i))
        lstm(scope + "/basic_lstm_cell", layer.cell)

    copy(DECODER + "memory_layer/kernel", _get_layer(model, DECODER + "memory_layer").kernel)
    cell = _get_layer(model, ATTENTION_CELL).cell
    for attribute in ("lstm", "query_layer", "attention_v", "attention_g", "attention_b"):
        if not hasattr(cell, attribute):
            raise UnsupportedError("layer {!r} is not a NormedBahdanauAttentionCell RNN (no {}); "
                                   "build the model with paper_architectures.gnmt".format(
                                       keras_name(ATTENTION_CELL), attribute))
    lstm(ATTENTION_SCOPE + "basic_lstm_cell", cell.lstm)
    attention = ATTENTION_SCOPE + "bahdanau_attention/"
    copy(attention + "query_layer/kernel", cell.query_layer.kernel)
    copy(attention + "attention_v", cell.attention_v)
    copy(attention + "attention_g", cell.attention_g)
    copy(attention + "attention_b", cell.attention_b)
    for i in range(1, 1 + _count_layers(model, DECODER + "multi_rnn_cell/cell_", first=1)):
        scope = DECODER + "multi_rnn_cell/cell_{}".format(i)
        lstm(scope + "/basic_lstm_cell", _get_layer(model, scope).cell)
    copy(OUTPUT_PROJECTION + "/kernel", _get_layer(model, OUTPUT_PROJECTION).kernel)

    mapped = {}
    for entry in entries.values():
        for variable in entry.variables:
            mapped[id(variable)] = entry.nmt_name
    unmapped = [w.name for w in model.weights if id(w) not in mapped]
    if unmapped or len(mapped) != len(model.weights):
        raise UnsupportedError("model {!r} has weights without an nmt counterpart ({}); only "
                               "models built by paper_architectures.gnmt can be mapped".format(
                                   model.name, ", ".join(unmapped) or "duplicates"))
    return entries


def nmt_checkpoint_shapes(model):
    # type: (keras.Model) -> Dict[str, Tuple[int, ...]]
    """nmt checkpoint variable name -> shape, for the checkpoint `model` can load."""
    return collections.OrderedDict((n, e.nmt_shape) for n, e in nmt_variable_map(model).items())


# --------------------------------------------------------------------------- load / write


def _shape_text(shape):
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def load_nmt_checkpoint(model, checkpoint_prefix, forget_bias=1.0):
    # type: (keras.Model, str, float) -> dict
    """Fill a `gnmt(...)` model from a tensorflow/nmt checkpoint (read with tf.train.load_checkpoint).

    All variables are checked before any is assigned. Checkpoint variables the model does not use
    (global_step, optimizer slots such as ``.../Adam``, learning-rate state) are ignored and
    listed. Returns {"checkpoint", "assigned" (nmt variables), "keras_weights", "parameters",
    "unused" (sorted names)}.
    """
    checkpoint_prefix = os.fspath(checkpoint_prefix)
    if not os.path.isfile(checkpoint_prefix + ".index"):
        raise MissingInputError("nmt checkpoint {}: {}.index not found; give the prefix of a "
                                "tensorflow/nmt checkpoint such as DIR/translate.ckpt-340000".format(
                                    checkpoint_prefix, checkpoint_prefix))
    try:
        reader = tf.train.load_checkpoint(checkpoint_prefix)
        shapes = reader.get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as exc:
        raise FormatError("nmt checkpoint {}: cannot be read ({}); give an intact TF "
                          "checkpoint".format(checkpoint_prefix, str(exc).splitlines()[0]))
    entries = nmt_variable_map(model)
    for name, entry in entries.items():
        if name not in shapes:
            raise FormatError("nmt checkpoint {}: variable {} (expected shape {}) is missing; the "
                              "checkpoint must come from nmt's GNMT (encoder_type=gnmt, "
                              "attention=normed_bahdanau, gnmt_v2) with {} layers".format(
                                  checkpoint_prefix, name, _shape_text(entry.nmt_shape),
                                  _num_layers(entries)))
        found = tuple(int(d) for d in shapes[name])
        if found != entry.nmt_shape:
            raise FormatError("nmt checkpoint {}: variable {} has shape {}, the model expects {}; "
                              "build the model with the checkpoint's num_units and vocabulary "
                              "sizes".format(checkpoint_prefix, name, _shape_text(found),
                                             _shape_text(entry.nmt_shape)))
    values = []
    for name, entry in entries.items():
        tensor = reader.get_tensor(name)
        if entry.kind == "copy":
            values.append((entry.variables[0], tensor))
        elif entry.kind == "lstm_kernel":
            kernel_in, kernel_rec = _tf1_kernel_to_keras(tensor, entry.input_dim)
            values.append((entry.variables[0], kernel_in))
            values.append((entry.variables[1], kernel_rec))
        else:  # lstm_bias
            values.append((entry.variables[0], _tf1_bias_to_keras(tensor, forget_bias)))
    for variable, value in values:
        variable.assign(np.asarray(value, dtype=variable.dtype.as_numpy_dtype))
    return {
        "checkpoint": checkpoint_prefix,
        "assigned": len(entries),
        "keras_weights": len(values),
        "parameters": int(sum(int(np.prod(e.nmt_shape)) for e in entries.values())),
        "unused": sorted(set(shapes) - set(entries)),
    }


def _num_layers(entries):
    return 1 + sum(1 for name in entries if name.startswith(DECODER + "multi_rnn_cell/cell_")
                   and name.endswith("/kernel") and "attention" not in name)


def nmt_tensors(model, forget_bias=1.0):
    # type: (keras.Model, float) -> collections.OrderedDict
    """nmt checkpoint name -> numpy value of `model`'s weights in nmt's layout."""
    result = collections.OrderedDict()
    for name, entry in nmt_variable_map(model).items():
        if entry.kind == "copy":
            result[name] = entry.variables[0].numpy()
        elif entry.kind == "lstm_kernel":
            result[name] = _keras_kernel_to_tf1(entry.variables[0].numpy(),
                                                entry.variables[1].numpy())
        else:
            result[name] = _keras_bias_to_tf1(entry.variables[0].numpy(), forget_bias)
    return result


def write_nmt_checkpoint(model, prefix, forget_bias=1.0):
    # type: (keras.Model, str, float) -> str
    """Write `model`'s weights as a TF checkpoint with nmt's names and layout (tf.raw_ops.SaveV2).

    Inverse of `load_nmt_checkpoint` (same `forget_bias`). Writes ``prefix.index`` and
    ``prefix.data-00000-of-00001``; returns `prefix`.
    """
    prefix = os.fspath(prefix)
    parent = os.path.dirname(os.path.abspath(prefix))
    if not os.path.isdir(parent):
        os.makedirs(parent)
    tensors = nmt_tensors(model, forget_bias)
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(tensors[n]) for n in names])
    return prefix


# --------------------------------------------------------------------------- hparams


def build_gnmt_from_hparams(hparams, src_vocab_size, tgt_vocab_size, where="nmt hparams"):
    # type: (dict, int, int, str) -> keras.Model
    """The Keras GNMT for nmt hparams (dropout 0: inference).

    Missing fields take `nmt_data.STANDARD_HPARAMS` (wmt16_gnmt_4_layer.json). Values the Keras
    model does not implement (`SUPPORTED_HPARAMS`: encoder_type gnmt, attention normed_bahdanau,
    attention_architecture gnmt_v2, unit_type lstm, residual, pass_hidden_state, no shared
    vocabulary), unequal encoder/decoder depths and non-integer sizes raise ConfigError; `where`
    (the hparams file) starts the message.
    """
    merged = dict(nmt_data.STANDARD_HPARAMS)
    merged.update(hparams)
    for field, supported in SUPPORTED_HPARAMS.items():
        if merged.get(field) != supported:
            raise ConfigError("{}: field {} = {!r} is not supported; the Keras GNMT implements "
                              "{} = {!r} only (use a model trained with those hparams)".format(
                                  where, field, merged.get(field), field, supported))
    layers = {}
    for field in ("num_encoder_layers", "num_decoder_layers"):
        value = hparams.get(field)
        if value is None:
            value = hparams.get("num_layers", merged[field])
        layers[field] = value
    if layers["num_encoder_layers"] != layers["num_decoder_layers"]:
        raise ConfigError("{}: fields num_encoder_layers = {!r} and num_decoder_layers = {!r} "
                          "differ; the Keras GNMT needs equal depths".format(
                              where, layers["num_encoder_layers"], layers["num_decoder_layers"]))
    num_layers, num_units = layers["num_encoder_layers"], merged.get("num_units")
    for field, value in (("num_layers", num_layers), ("num_units", num_units)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError("{}: field {} = {!r} must be a positive integer; fix it".format(
                where, field, value))
    assert isinstance(num_units, int)  # checked just above
    return gnmt(src_vocab_size=int(src_vocab_size), tgt_vocab_size=int(tgt_vocab_size),
                num_units=num_units, num_layers=num_layers, dropout=0.0)


def load_gnmt(data):
    # type: (nmt_data.NmtData) -> Tuple[keras.Model, dict]
    """Build the GNMT of `data.hparams` and load `data.checkpoint_prefix`; (model, load report)."""
    if data.checkpoint_prefix is None:
        raise MissingInputError("no nmt checkpoint in {}; copy the trained model "
                                "(translate.ckpt-*) there".format(data.directory))
    model = build_gnmt_from_hparams(data.hparams, len(data.src_vocab), len(data.tgt_vocab),
                                    data.hparams_path or "nmt hparams (wmt16_gnmt_4_layer.json assumed)")
    forget_bias = data.hparams.get("forget_bias", 1.0)
    return model, load_nmt_checkpoint(model, data.checkpoint_prefix, forget_bias)


# --------------------------------------------------------------------------- decoding


class GreedyTranslator(object):
    """Greedy decoding with the teacher-forced Keras GNMT.

    Each step runs the model on (source, ``<s>`` + tokens so far) and takes the argmax of the
    last position's logits, until every sentence has produced ``</s>`` or `max_length` tokens
    (nmt's GreedyEmbeddingHelper; the decoder is causal, so positions already decided do not
    change). Sentences are batched by equal source length, so no padding reaches the encoder or
    the attention: the Keras model has no sequence lengths, nmt masks with them. `max_length`
    None follows nmt (`_get_infer_maximum_iterations`): hparams tgt_max_len_infer if set, else
    round(2 * source length). Every step re-runs the whole model (quadratic in the output length,
    simple and valid for compressed variants of the model with the same inputs/outputs); the
    output projection is applied to the last position only when the model has nmt's
    ``output_projection`` layer. nmt's standard hparams decode with beam search (beam_width 10),
    which scores slightly higher BLEU than this greedy search.
    """

    def __init__(self, model, src_vocab, tgt_vocab, max_length=None, batch_size=32,
                 subword_option="bpe", use_tf_function=True):
        # type: (keras.Model, nmt_data.Vocabulary, nmt_data.Vocabulary, Optional[int], int, Optional[str], bool) -> None  # noqa: E501
        for field, value in (("max_length", max_length), ("batch_size", batch_size)):
            if value is None and field == "max_length":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError("GreedyTranslator {} must be a positive integer, got {!r}".format(
                    field, value))
        self.model = model
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.max_length = max_length
        self.batch_size = batch_size
        self.subword_option = subword_option
        self._body, self._projection = self._split_projection(model)
        if use_tf_function:
            spec = tf.TensorSpec([None, None], tf.int32)
            self._next_ids = tf.function(self._argmax_last, input_signature=[spec, spec])
        else:
            self._next_ids = self._argmax_last

    @classmethod
    def from_nmt_data(cls, model, data, max_length=None, batch_size=32, use_tf_function=True):
        # type: (keras.Model, nmt_data.NmtData, Optional[int], int, bool) -> GreedyTranslator
        """Translator with `data`'s vocabularies, subword_option and tgt_max_len_infer."""
        if max_length is None:
            max_length = data.hparams.get("tgt_max_len_infer") or None
        return cls(model, data.src_vocab, data.tgt_vocab, max_length, batch_size,
                   data.subword_option, use_tf_function)

    @staticmethod
    def _split_projection(model):
        try:
            projection = model.get_layer(keras_name(OUTPUT_PROJECTION))
            body = keras.Model(model.inputs, projection.input)
        except (ValueError, AttributeError, TypeError):
            return None, None
        return body, projection

    def _argmax_last(self, source, target):
        if self._body is not None:
            hidden = self._body([source, target], training=False)
            logits = self._projection(hidden[:, -1:, :])[:, 0, :]
        else:
            logits = self.model([source, target], training=False)[:, -1, :]
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def translate_ids(self, source_ids):
        # type: (List[List[int]]) -> List[List[int]]
        """Greedy target ids (without ``</s>``) for source id lists."""
        results = [[] for _ in source_ids]  # type: List[List[int]]
        by_length = collections.OrderedDict()  # type: Dict[int, List[int]]
        for index, ids in enumerate(source_ids):
            by_length.setdefault(len(ids), []).append(index)
        eos = self.tgt_vocab.eos_id
        for length in sorted(by_length):
            indexes = by_length[length]
            if length == 0:
                for index in indexes:
                    results[index] = []
                continue
            limit = self.max_length if self.max_length is not None else int(round(2.0 * length))
            for start in range(0, len(indexes), self.batch_size):
                chunk = indexes[start:start + self.batch_size]
                source = tf.constant(np.array([source_ids[i] for i in chunk], dtype=np.int32))
                target = np.full((len(chunk), 1), self.tgt_vocab.sos_id, dtype=np.int32)
                finished = np.zeros(len(chunk), dtype=bool)
                for _ in range(limit):
                    next_ids = self._next_ids(source, tf.constant(target)).numpy()
                    target = np.concatenate([target, next_ids[:, None].astype(np.int32)], axis=1)
                    finished |= next_ids == eos
                    if finished.all():
                        break
                for row, index in enumerate(chunk):
                    output = target[row, 1:].tolist()
                    results[index] = output[:output.index(eos)] if eos in output else output
        return results

    def translate(self, sentences):
        # type: (List[List[str]]) -> List[List[str]]
        """Greedy translations (token lists, BPE pieces as produced, no ``</s>``)."""
        ids = self.translate_ids([self.src_vocab.ids(tokens) for tokens in sentences])
        return [self.tgt_vocab.tokens(row) for row in ids]

    def translate_text(self, sentences):
        # type: (List[List[str]]) -> List[str]
        """Translations as nmt writes them for BLEU (BPE merged, `nmt_data.tokens_to_text`)."""
        return [nmt_data.tokens_to_text(tokens, self.subword_option)
                for tokens in self.translate(sentences)]
