"""NMT inputs (artifact.device.models.data.nmt_data) and nmt GNMT checkpoints
(artifact.device.models.checkpoints.gnmt_checkpoint).

Everything runs on files the tests write into tmp_path: a tiny GNMT (8 units, 4 layers) is saved
with nmt's variable names and layout and loaded back; a numpy transcription of nmt's GNMT
(BasicLSTMCell, bidirectional encoder, normed Bahdanau attention, gnmt_v2) run on the checkpoint
tensors checks that the names carry the right meaning, not only that the mapping round-trips.
"""
import json
import os

import numpy as np
import pytest

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.device.compat import tf
from artifact.device.models.architectures import paper_architectures as pa
from artifact.device.models.checkpoints import gnmt_checkpoint as gc
from artifact.device.models.data import nmt_data as nd

SRC_V, TGT_V, UNITS, LAYERS = 19, 21, 8, 4
SRC_WORDS = ["s{}".format(i) for i in range(SRC_V - 3)]
TGT_WORDS = ["t{}".format(i) for i in range(TGT_V - 9)] + ["new@@", "s", "paper", "the", "a@@", "b"]


def _randomize(model, seed):
    rng = np.random.RandomState(seed)
    for weight in model.weights:
        weight.assign(rng.uniform(-0.5, 0.5, size=weight.shape).astype(np.float32))
    return model


def _tiny(seed, num_layers=LAYERS):
    model = pa.gnmt(src_vocab_size=SRC_V, tgt_vocab_size=TGT_V, num_units=UNITS,
                    num_layers=num_layers, dropout=0.0)
    return _randomize(model, seed)


@pytest.fixture(scope="module")
def model():
    return _tiny(1)


@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory):
    prefix = str(tmp_path_factory.mktemp("ckpt") / "translate.ckpt-7")
    return gc.write_nmt_checkpoint(model, prefix, forget_bias=1.0)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.RandomState(0)
    return (rng.randint(0, SRC_V, size=(3, 5)).astype(np.int32),
            rng.randint(0, TGT_V, size=(3, 4)).astype(np.int32))


def _logits(model, batch):
    return model([tf.constant(batch[0]), tf.constant(batch[1])], training=False).numpy()


def _save(prefix, tensors):
    names = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(tensors[n]) for n in names])
    return prefix


# --------------------------------------------------------------------------- variable map

EXPECTED_NAMES = [
    "embeddings/encoder/embedding_encoder",
    "embeddings/decoder/embedding_decoder",
    "dynamic_seq2seq/encoder/bidirectional_rnn/fw/basic_lstm_cell/kernel",
    "dynamic_seq2seq/encoder/bidirectional_rnn/fw/basic_lstm_cell/bias",
    "dynamic_seq2seq/encoder/bidirectional_rnn/bw/basic_lstm_cell/kernel",
    "dynamic_seq2seq/encoder/bidirectional_rnn/bw/basic_lstm_cell/bias",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_2/basic_lstm_cell/kernel",
    "dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_2/basic_lstm_cell/bias",
    "dynamic_seq2seq/decoder/memory_layer/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/basic_lstm_cell/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/basic_lstm_cell/bias",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/"
    "query_layer/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/attention_v",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/attention_g",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/attention_b",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_1/basic_lstm_cell/bias",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_2/basic_lstm_cell/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_2/basic_lstm_cell/bias",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_3/basic_lstm_cell/kernel",
    "dynamic_seq2seq/decoder/multi_rnn_cell/cell_3/basic_lstm_cell/bias",
    "dynamic_seq2seq/decoder/output_projection/kernel",
]


def test_variable_map_names_every_weight_with_nmt_shapes(model):
    entries = gc.nmt_variable_map(model)
    assert sorted(entries) == sorted(EXPECTED_NAMES)
    covered = [id(v) for e in entries.values() for v in e.variables]
    assert sorted(covered) == sorted(id(w) for w in model.weights)
    h = UNITS
    shapes = gc.nmt_checkpoint_shapes(model)
    assert shapes["embeddings/encoder/embedding_encoder"] == (SRC_V, h)
    assert shapes["dynamic_seq2seq/encoder/bidirectional_rnn/fw/basic_lstm_cell/kernel"] == (2 * h, 4 * h)
    assert shapes["dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel"] == (3 * h, 4 * h)
    assert shapes["dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel"] == (2 * h, 4 * h)
    assert shapes["dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/basic_lstm_cell/"
                  "kernel"] == (3 * h, 4 * h)
    assert shapes["dynamic_seq2seq/decoder/multi_rnn_cell/cell_2/basic_lstm_cell/bias"] == (4 * h,)
    assert shapes["dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/"
                  "bahdanau_attention/attention_g"] == ()
    assert shapes["dynamic_seq2seq/decoder/output_projection/kernel"] == (h, TGT_V)
    assert sum(int(np.prod(s)) for s in shapes.values()) == pa.gnmt_param_count(SRC_V, TGT_V, h, LAYERS)


def test_two_layer_model_has_a_single_unidirectional_encoder_cell_without_multi_rnn_cell():
    names = set(gc.nmt_variable_map(_tiny(2, num_layers=2)))
    assert "dynamic_seq2seq/encoder/rnn/basic_lstm_cell/kernel" in names
    assert not any("encoder/rnn/multi_rnn_cell" in n for n in names)
    assert "dynamic_seq2seq/decoder/multi_rnn_cell/cell_1/basic_lstm_cell/kernel" in names


# --------------------------------------------------------------------------- round trip


def test_write_then_load_gives_identical_logits(model, checkpoint, batch):
    other = _tiny(99)
    assert not np.allclose(_logits(other, batch), _logits(model, batch))
    report = gc.load_nmt_checkpoint(other, checkpoint, forget_bias=1.0)
    assert report["assigned"] == len(EXPECTED_NAMES)
    assert report["keras_weights"] == len(model.weights)
    assert report["parameters"] == pa.gnmt_param_count(SRC_V, TGT_V, UNITS, LAYERS)
    assert report["unused"] == []
    np.testing.assert_allclose(_logits(other, batch), _logits(model, batch), rtol=1e-5, atol=1e-6)


def test_checkpoint_is_in_nmt_layout_and_unused_variables_are_reported(model, checkpoint, tmp_path):
    reader = tf.train.load_checkpoint(checkpoint)
    cell = model.get_layer("dynamic_seq2seq__encoder__rnn__multi_rnn_cell__cell_1").cell
    kernel = reader.get_tensor("dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel")
    bias = reader.get_tensor("dynamic_seq2seq/encoder/rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias")
    u = UNITS
    keras_kernel = np.concatenate([cell.kernel.numpy(), cell.recurrent_kernel.numpy()], axis=0)
    keras_bias = cell.bias.numpy()
    # nmt (i, j, f, o) vs Keras (i, f, c, o); forget bias folded into Keras' f bias.
    np.testing.assert_array_equal(kernel[:, :u], keras_kernel[:, :u])
    np.testing.assert_array_equal(kernel[:, u:2 * u], keras_kernel[:, 2 * u:3 * u])
    np.testing.assert_array_equal(kernel[:, 2 * u:3 * u], keras_kernel[:, u:2 * u])
    np.testing.assert_array_equal(kernel[:, 3 * u:], keras_kernel[:, 3 * u:])
    np.testing.assert_allclose(bias[2 * u:3 * u] + 1.0, keras_bias[u:2 * u], rtol=1e-6)

    tensors = dict(gc.nmt_tensors(model))
    tensors["global_step"] = np.array(340000, np.int64)
    tensors["dynamic_seq2seq/decoder/output_projection/kernel/Adam"] = np.zeros((UNITS, TGT_V), np.float32)
    prefix = _save(str(tmp_path / "translate.ckpt-340000"), tensors)
    report = gc.load_nmt_checkpoint(_tiny(5), prefix)
    assert report["unused"] == ["dynamic_seq2seq/decoder/output_projection/kernel/Adam", "global_step"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _tf1_step(x, h, c, kernel, bias, forget_bias):
    """One TF1 BasicLSTMCell step: concat([x, h]) @ kernel + bias split as i, j, f, o."""
    i, j, f, o = np.split(np.concatenate([x, h], axis=1) @ kernel + bias, 4, axis=1)
    c = c * _sigmoid(f + forget_bias) + _sigmoid(i) * np.tanh(j)
    return np.tanh(c) * _sigmoid(o), c


@pytest.mark.parametrize("forget_bias", [1.0, 0.3])
def test_one_lstm_step_matches_tf1_basic_lstm_cell(model, tmp_path, forget_bias):
    prefix = gc.write_nmt_checkpoint(model, str(tmp_path / "fb.ckpt"), forget_bias=forget_bias)
    target = _tiny(7)
    gc.load_nmt_checkpoint(target, prefix, forget_bias=forget_bias)
    reader = tf.train.load_checkpoint(prefix)
    scope = "dynamic_seq2seq/decoder/multi_rnn_cell/cell_2/basic_lstm_cell/"
    kernel, bias = reader.get_tensor(scope + "kernel"), reader.get_tensor(scope + "bias")
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (2, 2 * UNITS)).astype(np.float32)
    h = rng.uniform(-1, 1, (2, UNITS)).astype(np.float32)
    c = rng.uniform(-1, 1, (2, UNITS)).astype(np.float32)
    want_h, want_c = _tf1_step(x, h, c, kernel.astype(np.float64), bias.astype(np.float64), forget_bias)
    cell = target.get_layer("dynamic_seq2seq__decoder__multi_rnn_cell__cell_2").cell
    out, (got_h, got_c) = cell(tf.constant(x), [tf.constant(h), tf.constant(c)])
    np.testing.assert_allclose(got_h.numpy(), want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_c.numpy(), want_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), want_h, rtol=1e-5, atol=1e-6)


def _nmt_gnmt_reference(t, source, target, num_layers, forget_bias=1.0):
    """nmt's GNMT (gnmt_model.py, encoder_type=gnmt, normed_bahdanau, gnmt_v2) in numpy on
    checkpoint tensors `t`, full-length sequences."""
    t = {k: np.asarray(v, np.float64) for k, v in t.items()}

    def run(xs, scope, state=None):
        kernel, bias = t[scope + "/basic_lstm_cell/kernel"], t[scope + "/basic_lstm_cell/bias"]
        units = bias.shape[0] // 4
        h, c = state if state is not None else (np.zeros((xs.shape[0], units)),) * 2
        outputs = []
        for step in range(xs.shape[1]):
            h, c = _tf1_step(xs[:, step], h, c, kernel, bias, forget_bias)
            outputs.append(h)
        return np.stack(outputs, 1), (h, c)

    enc = "dynamic_seq2seq/encoder/"
    emb = t["embeddings/encoder/embedding_encoder"][source]
    fw, _ = run(emb, enc + "bidirectional_rnn/fw")
    bw, bw_state = run(emb[:, ::-1], enc + "bidirectional_rnn/bw")
    x = np.concatenate([fw, bw[:, ::-1]], axis=-1)
    states = [bw_state]  # gnmt: decoder layer 0 starts from the backward state
    for i in range(num_layers - 1):
        y, state = run(x, enc + "rnn/multi_rnn_cell/cell_{}".format(i))
        x = y + x if i >= 1 else y  # num_encoder_residual_layers = num_layers - 2
        states.append(state)
    memory = x
    dec = "dynamic_seq2seq/decoder/"
    att_scope = dec + "multi_rnn_cell/cell_0_attention/attention/"
    keys = memory @ t[dec + "memory_layer/kernel"]
    v, g = t[att_scope + "bahdanau_attention/attention_v"], t[att_scope + "bahdanau_attention/attention_g"]
    b = t[att_scope + "bahdanau_attention/attention_b"]
    normed_v = g * v / np.sqrt(np.sum(v * v))
    emb = t["embeddings/decoder/embedding_decoder"][target]
    attention = np.zeros((source.shape[0], memory.shape[-1]))
    cell_states = list(states)
    logits = []
    for step in range(target.shape[1]):
        kernel, bias = t[att_scope + "basic_lstm_cell/kernel"], t[att_scope + "basic_lstm_cell/bias"]
        h, c = _tf1_step(np.concatenate([emb[:, step], attention], 1), *cell_states[0], kernel, bias,
                         forget_bias)
        cell_states[0] = (h, c)
        query = h @ t[att_scope + "bahdanau_attention/query_layer/kernel"]
        score = np.sum(normed_v * np.tanh(keys + query[:, None, :] + b), axis=2)
        weights = np.exp(score - score.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        attention = np.einsum("bs,bsh->bh", weights, memory)
        x = h
        for i in range(1, num_layers):
            scope = dec + "multi_rnn_cell/cell_{}/basic_lstm_cell/".format(i)
            h_i, c_i = _tf1_step(np.concatenate([x, attention], 1), *cell_states[i], t[scope + "kernel"],
                                 t[scope + "bias"], forget_bias)
            cell_states[i] = (h_i, c_i)
            x = h_i + x if i >= 2 else h_i  # gnmt_residual_fn on num_layers - 2 top layers
        logits.append(x @ t[dec + "output_projection/kernel"])
    return np.stack(logits, 1)


def test_loaded_model_computes_nmts_gnmt_from_the_checkpoint_tensors(model, checkpoint, batch):
    reader = tf.train.load_checkpoint(checkpoint)
    tensors = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    loaded = _tiny(11)
    gc.load_nmt_checkpoint(loaded, checkpoint)
    want = _nmt_gnmt_reference(tensors, batch[0], batch[1], LAYERS)
    np.testing.assert_allclose(_logits(loaded, batch), want, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- errors


def test_missing_variable_is_named(model, tmp_path):
    tensors = dict(gc.nmt_tensors(model))
    missing = "dynamic_seq2seq/decoder/multi_rnn_cell/cell_0_attention/attention/bahdanau_attention/attention_b"
    del tensors[missing]
    prefix = _save(str(tmp_path / "broken.ckpt"), tensors)
    with pytest.raises(FormatError) as info:
        gc.load_nmt_checkpoint(_tiny(3), prefix)
    message = str(info.value)
    assert missing in message and "[8]" in message and prefix in message and "\n" not in message


def test_misshaped_variable_names_both_shapes(model, tmp_path):
    tensors = dict(gc.nmt_tensors(model))
    name = "embeddings/decoder/embedding_decoder"
    tensors[name] = np.zeros((TGT_V + 3, UNITS), np.float32)
    prefix = _save(str(tmp_path / "shape.ckpt"), tensors)
    with pytest.raises(FormatError) as info:
        gc.load_nmt_checkpoint(_tiny(3), prefix)
    message = str(info.value)
    assert name in message and "[24, 8]" in message and "[21, 8]" in message and prefix in message


def test_absent_checkpoint_is_a_missing_input(tmp_path, model):
    with pytest.raises(MissingInputError, match="nope.ckpt.index"):
        gc.load_nmt_checkpoint(model, str(tmp_path / "nope.ckpt"))


@pytest.mark.parametrize("field, value", [("attention", "luong"), ("encoder_type", "bi"),
                                          ("attention_architecture", "standard"), ("unit_type", "gru")])
def test_unsupported_hparams_are_refused(field, value):
    with pytest.raises(ConfigError) as info:
        gc.build_gnmt_from_hparams({field: value}, SRC_V, TGT_V)
    assert field in str(info.value) and repr(value) in str(info.value)


def test_unknown_attention_in_an_hparams_file_names_the_file(tmp_path, model):
    directory = _nmt_dir(tmp_path / "nmt", model)
    path = os.path.join(directory, "hparams")
    with open(path) as handle:
        hparams = json.load(handle)
    hparams["attention"] = "scaled_luong"
    with open(path, "w") as handle:
        json.dump(hparams, handle)
    with pytest.raises(ConfigError) as info:
        gc.load_gnmt(nd.load_nmt_data(directory))
    assert path in str(info.value) and "attention = 'scaled_luong'" in str(info.value)


def test_build_from_hparams_uses_num_units_and_layers():
    built = gc.build_gnmt_from_hparams({"num_units": UNITS, "num_encoder_layers": 3,
                                        "num_decoder_layers": 3}, SRC_V, TGT_V)
    assert pa.count_params(built) == pa.gnmt_param_count(SRC_V, TGT_V, UNITS, 3)
    assert all(getattr(layer, "rate", 0.0) == 0.0 for layer in built.layers)
    with pytest.raises(ConfigError, match="num_decoder_layers"):
        gc.build_gnmt_from_hparams({"num_units": UNITS, "num_encoder_layers": 3,
                                    "num_decoder_layers": 4}, SRC_V, TGT_V)


# --------------------------------------------------------------------------- vocabulary & text


def _write(path, lines):
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    return str(path)


def test_vocabulary_with_and_without_special_tokens(tmp_path):
    plain = nd.load_vocabulary(_write(tmp_path / "v.en", ["the", "house", "tree"]))
    assert plain.prepended and len(plain) == 6
    assert plain.words[:3] == ["<unk>", "<s>", "</s>"]
    assert plain.ids(["the", "house", "garden"]) == [3, 4, 0]
    assert (plain.sos_id, plain.eos_id, plain.unk_id) == (1, 2, 0)
    assert plain.tokens([3, 4, 2, 99]) == ["the", "house", "</s>", "<unk>"]
    special = nd.load_vocabulary(_write(tmp_path / "w.en", ["<unk>", "<s>", "</s>", "the"]))
    assert not special.prepended and len(special) == 4 and special.ids(["the", "x"]) == [3, 0]


def test_vocabulary_errors(tmp_path):
    with pytest.raises(MissingInputError, match="absent.en"):
        nd.load_vocabulary(str(tmp_path / "absent.en"))
    with pytest.raises(FormatError, match="at least 3"):
        nd.load_vocabulary(_write(tmp_path / "short.en", ["a", "b"]))
    with pytest.raises(FormatError, match="repeats the token 'a'"):
        nd.load_vocabulary(_write(tmp_path / "dup.en", ["a", "b", "a"]))


def test_bpe_merge_like_nmt():
    assert nd.merge_bpe("new@@ s paper") == "news paper"
    assert nd.clean_text("  new@@ s paper \n", "bpe") == "news paper"
    assert nd.clean_text("new@@ s", None) == "new@@ s"
    assert nd.tokens_to_text(["new@@", "s", "paper"], "bpe") == "news paper"
    assert nd.tokens_to_text(["a@@", "b@@", "c", "d@@"], "bpe") == "abc"  # format_bpe_text drops "d@@"
    assert nd.tokens_to_text(["\u2581new", "s", "\u2581paper"], "spm") == "news paper"
    assert nd.split_tokens(" a  b\tc ") == ["a", "b\tc"]


def test_parallel_files_line_counts_and_limit(tmp_path):
    src = _write(tmp_path / "t.en", ["a b", "c", "d e f"])
    tgt = _write(tmp_path / "t.de", ["x", "y z", "w"])
    sources, references = nd.read_parallel(src, tgt)
    assert sources == [["a", "b"], ["c"], ["d", "e", "f"]] and references[1] == ["y", "z"]
    assert nd.read_parallel(src, tgt, limit=2) == ([["a", "b"], ["c"]], [["x"], ["y", "z"]])
    short = _write(tmp_path / "s.de", ["x", "y"])
    with pytest.raises(FormatError) as info:
        nd.read_parallel(src, short)
    assert src in str(info.value) and short in str(info.value) and "3 lines" in str(info.value)
    assert "has 2" in str(info.value)
    with pytest.raises(ConfigError, match="limit"):
        nd.read_parallel(src, tgt, limit=0)


def test_bleu_of_references_against_themselves_is_100():
    refs = ["the news paper is here today", "a small house with a big garden"]
    assert nd.bleu(refs, refs) == pytest.approx(100.0)
    assert nd.bleu([r.split() for r in refs], refs) == pytest.approx(100.0)
    assert nd.bleu(["x y z w v u", "q r s t u v w"], refs) == 0.0
    with pytest.raises(ConfigError):
        nd.bleu(refs, refs[:1])


# --------------------------------------------------------------------------- discovery


def _nmt_dir(root, model, hparams=True, state=True):
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "vocab.bpe.32000.en", SRC_WORDS)  # nmt prepends <unk> <s> </s>
    _write(root / "vocab.bpe.32000.de", ["<unk>", "<s>", "</s>"] + TGT_WORDS)
    _write(root / "newstest2015.tok.bpe.32000.en", ["s1 s2 s3", "s4 s5", "s6 s7 s8 s9", "s0 zzz"])
    _write(root / "newstest2015.tok.bpe.32000.de", ["the new@@ s paper", "t1 t2", "a@@ b t3", "t4"])
    gc.write_nmt_checkpoint(model, str(root / "translate.ckpt-12000"))
    if state:
        _write(root / "checkpoint", ['model_checkpoint_path: "/home/trainer/gnmt/translate.ckpt-12000"',
                                     'all_model_checkpoint_paths: "/home/trainer/gnmt/translate.ckpt-12000"'])
    if hparams:
        with open(str(root / "hparams"), "w") as handle:
            json.dump({"src": "en", "tgt": "de", "num_units": UNITS, "num_layers": LAYERS,
                       "num_encoder_layers": LAYERS, "num_decoder_layers": LAYERS,
                       "encoder_type": "gnmt", "attention": "normed_bahdanau",
                       "attention_architecture": "gnmt_v2", "unit_type": "lstm", "residual": True,
                       "vocab_prefix": "/data/wmt16/vocab.bpe.32000",
                       "test_prefix": "/data/wmt16/newstest2015.tok.bpe.32000",
                       "out_dir": "/home/trainer/gnmt", "subword_option": "bpe",
                       "tgt_max_len_infer": 6, "beam_width": 10, "forget_bias": 1.0}, handle)
    return str(root)


def test_discovery_with_hparams_vocab_test_set_and_checkpoint(tmp_path, model, batch):
    directory = _nmt_dir(tmp_path / "nmt", model)
    data = nd.load_nmt_data(directory)
    assert (data.src, data.tgt) == ("en", "de")
    assert len(data.src_vocab) == SRC_V and data.src_vocab.prepended
    assert len(data.tgt_vocab) == TGT_V and not data.tgt_vocab.prepended
    assert data.sources[3] == ["s0", "zzz"] and data.src_vocab.ids(data.sources[3])[1] == 0
    assert data.references[0] == ["the", "new@@", "s", "paper"]
    assert data.reference_texts()[0] == "the news paper"
    assert data.checkpoint_prefix == os.path.join(directory, "translate.ckpt-12000")
    assert data.hparams["num_units"] == UNITS and data.hparams["beam_width"] == 10
    assert data.hparams_path == os.path.join(directory, "hparams")
    assert "\n" not in data.description and "4 sentences" in data.description
    assert "translate.ckpt-12000" in data.description
    assert len(nd.load_nmt_data(directory, limit=2)) == 2

    loaded, report = gc.load_gnmt(data)
    assert report["assigned"] == len(EXPECTED_NAMES)
    np.testing.assert_allclose(_logits(loaded, batch), _logits(model, batch), rtol=1e-5, atol=1e-6)
    translator = gc.GreedyTranslator.from_nmt_data(loaded, data)
    assert translator.max_length == 6 and translator.subword_option == "bpe"


def test_discovery_without_hparams_or_state_file_uses_defaults(tmp_path, model):
    directory = _nmt_dir(tmp_path / "bare", model, hparams=False, state=False)
    data = nd.load_nmt_data(directory)
    assert data.hparams_path is None and data.hparams["num_units"] == 1024
    assert data.checkpoint_prefix == os.path.join(directory, "translate.ckpt-12000")
    assert "wmt16_gnmt_4_layer.json assumed" in data.description
    gc.write_nmt_checkpoint(model, os.path.join(directory, "translate.ckpt-13000"))
    with pytest.raises(ConfigError, match="nmt.toml"):
        nd.load_nmt_data(directory)


def test_nmt_toml_overrides_languages_prefixes_and_checkpoint(tmp_path, model):
    directory = _nmt_dir(tmp_path / "nmt", model)
    os.makedirs(os.path.join(directory, "data"))
    os.makedirs(os.path.join(directory, "best_bleu"))
    _write(os.path.join(directory, "data", "vocab.de"), TGT_WORDS)
    _write(os.path.join(directory, "data", "vocab.en"), SRC_WORDS)
    _write(os.path.join(directory, "data", "test.de"), ["t1 t2", "t3"])
    _write(os.path.join(directory, "data", "test.en"), ["s1", "s2 s3"])
    gc.write_nmt_checkpoint(model, os.path.join(directory, "best_bleu", "translate.ckpt-9"))
    _write(os.path.join(directory, "nmt.toml"), [
        'src = "de"', 'tgt = "en"', 'vocab_prefix = "data/vocab"', 'test_prefix = "data/test"',
        'checkpoint = "best_bleu/translate.ckpt-9"'])
    data = nd.load_nmt_data(directory)
    assert (data.src, data.tgt) == ("de", "en") and data.hparams["src"] == "de"
    assert data.sources == [["t1", "t2"], ["t3"]] and data.references == [["s1"], ["s2", "s3"]]
    assert len(data.src_vocab) == len(TGT_WORDS) + 3
    assert data.checkpoint_prefix == os.path.join(directory, "best_bleu", "translate.ckpt-9")
    _write(os.path.join(directory, "nmt.toml"), ['model = "x"'])
    with pytest.raises(ConfigError, match="unknown key 'model'"):
        nd.load_nmt_data(directory)


def test_missing_vocabulary_names_the_path(tmp_path, model):
    directory = _nmt_dir(tmp_path / "nmt", model)
    os.remove(os.path.join(directory, "vocab.bpe.32000.de"))
    with pytest.raises(MissingInputError) as info:
        nd.load_nmt_data(directory)
    assert os.path.join(directory, "vocab.bpe.32000.de") in str(info.value)
    with pytest.raises(MissingInputError, match="no such directory"):
        nd.load_nmt_data(str(tmp_path / "elsewhere"))


def test_state_file_pointing_to_an_absent_checkpoint(tmp_path, model):
    directory = _nmt_dir(tmp_path / "nmt", model)
    _write(os.path.join(directory, "checkpoint"), ['model_checkpoint_path: "/x/translate.ckpt-5"'])
    with pytest.raises(MissingInputError, match="translate.ckpt-5"):
        nd.load_nmt_data(directory)
    assert nd.load_nmt_data(directory, require_checkpoint=False).checkpoint_prefix is None


# --------------------------------------------------------------------------- decoding


def _vocabs():
    return (nd.Vocabulary(["<unk>", "<s>", "</s>"] + SRC_WORDS),
            nd.Vocabulary(["<unk>", "<s>", "</s>"] + TGT_WORDS))


def _manual_greedy(model, source_ids, sos, eos, limit):
    target = [sos]
    for _ in range(limit):
        logits = model([tf.constant([source_ids], tf.int32), tf.constant([target], tf.int32)],
                       training=False).numpy()
        target.append(int(np.argmax(logits[0, -1])))
        if target[-1] == eos:
            break
    output = target[1:]
    return output[:output.index(eos)] if eos in output else output


def test_greedy_translator_matches_step_by_step_argmax_and_is_bounded(model):
    src_vocab, tgt_vocab = _vocabs()
    sentences = [["s1", "s2", "s3"], ["s4"], ["s5", "s6", "s7"], ["s8", "unknown"], [],
                 ["s9", "s10", "s11"]]
    translator = gc.GreedyTranslator(model, src_vocab, tgt_vocab, max_length=5, batch_size=2)
    ids = translator.translate_ids([src_vocab.ids(s) for s in sentences])
    assert ids[4] == []
    for sentence, got in zip(sentences, ids):
        assert len(got) <= 5 and tgt_vocab.eos_id not in got
        if sentence:
            assert got == _manual_greedy(model, src_vocab.ids(sentence), tgt_vocab.sos_id,
                                         tgt_vocab.eos_id, 5)
    tokens = translator.translate(sentences)
    assert [tgt_vocab.ids(t) for t in tokens] == ids
    texts = translator.translate_text(sentences)
    assert texts == [nd.tokens_to_text(t, "bpe") for t in tokens]
    default = gc.GreedyTranslator(model, src_vocab, tgt_vocab, use_tf_function=False)
    assert all(len(t) <= 2 * len(s) for s, t in zip(sentences, default.translate(sentences)))
    with pytest.raises(ConfigError, match="max_length"):
        gc.GreedyTranslator(model, src_vocab, tgt_vocab, max_length=0)
