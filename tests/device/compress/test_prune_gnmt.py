"""Physical L1 pruning of the GNMT translator (Bidirectional encoder, attention cell, residual ties)."""
import numpy as np
import pytest

from artifact.core.errors import UnsupportedError
from artifact.device.compat import keras
from artifact.device.compress.prune import prune_model
from artifact.device.compress.storage import load_model_file, parameter_count, save_model_file
from artifact.device.models.architectures import mini_zoo
from artifact.device.models.architectures.paper_architectures import SliceLast, gnmt

L = keras.layers
ENC = "dynamic_seq2seq__encoder__"
DEC = "dynamic_seq2seq__decoder__"
BI = ENC + "bidirectional_rnn"
ATTENTION = DEC + "multi_rnn_cell__cell_0_attention"
SRC_EMBEDDING = "embeddings__encoder__embedding_encoder"


def _build(num_layers):
    mini_zoo.seed_everything()
    return gnmt(30, 40, num_units=16, num_layers=num_layers, dropout=0.0)


@pytest.fixture(scope="module")
def model():
    return _build(4)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.RandomState(0)
    return [rng.randint(1, 30, (2, 5)).astype(np.int32), rng.randint(1, 40, (2, 6)).astype(np.int32)]


def _weights(model):
    return [w.numpy().copy() for w in model.weights]


def _gates(kept, units):
    return np.concatenate([g * units + kept for g in range(4)])


def _lstm_l1(kernel, recurrent, units):
    k, r = np.abs(kernel), np.abs(recurrent)
    return np.array([sum(k[:, g * units + u].sum() + r[:, g * units + u].sum() for g in range(4))
                     for u in range(units)])


def _lowest_removed(score, remove):
    return np.sort(np.argsort(score, kind="stable")[remove:])


@pytest.mark.parametrize("num_layers", [4, 2])
@pytest.mark.parametrize("threshold", [0.25, 0.5])
def test_pruned_gnmt_runs_shrinks_and_leaves_the_input_alone(num_layers, threshold, inputs):
    model = _build(num_layers)
    before = _weights(model)
    pruned = prune_model(model, threshold)
    assert pruned.predict(inputs, verbose=0).shape == (2, 6, 40)
    assert parameter_count(pruned) < parameter_count(model)
    after = _weights(model)
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    again = prune_model(model, threshold)
    for a, b in zip(pruned.weights, again.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    kept = 16 - int(round(16 * threshold))
    assert pruned.get_layer(BI).forward_layer.units == kept
    assert pruned.get_layer(BI).backward_layer.units == kept
    assert pruned.get_layer(SRC_EMBEDDING).output_dim == kept
    cell = pruned.get_layer(ATTENTION).cell
    assert (cell.units, cell.attention_units, cell.memory_units) == (kept, kept, kept)
    assert pruned.get_layer(DEC + "initial_attention").units == kept
    assert pruned.get_layer(DEC + "output_projection").units == 40


def test_kept_units_are_the_highest_l1(model):
    threshold, units = 0.25, 16
    remove = int(round(units * threshold))
    pruned = prune_model(model, threshold)

    # The encoder embedding and the forward encoder LSTM are untied: plain L1 ranking.
    emb = model.get_layer(SRC_EMBEDDING).get_weights()[0]
    emb_kept = _lowest_removed(np.abs(emb).sum(0), remove)
    np.testing.assert_array_equal(pruned.get_layer(SRC_EMBEDDING).get_weights()[0], emb[:, emb_kept])
    fw = model.get_layer(BI).forward_layer.get_weights()
    fw_kept = _lowest_removed(_lstm_l1(fw[0], fw[1], units), remove)
    new_fw = pruned.get_layer(BI).forward_layer.get_weights()
    np.testing.assert_array_equal(new_fw[0], fw[0][emb_kept][:, _gates(fw_kept, units)])
    np.testing.assert_array_equal(new_fw[1], fw[1][fw_kept][:, _gates(fw_kept, units)])
    np.testing.assert_array_equal(new_fw[2], fw[2][_gates(fw_kept, units)])

    # Encoder layer 0 is tied (residuals, pass_hidden_state, the attention memory) with encoder
    # layers 1-2 and decoder layers 1-3: ranked by the summed, per-layer normalised L1 of the group.
    group = [ENC + "rnn__multi_rnn_cell__cell_{}".format(i) for i in range(3)] + [
        DEC + "multi_rnn_cell__cell_{}".format(i) for i in range(1, 4)]
    score = 0
    for name in group:
        w = model.get_layer(name).get_weights()
        s = _lstm_l1(w[0], w[1], units)
        score = score + s / s.mean()
    kept = _lowest_removed(score, remove)
    old = model.get_layer(group[0]).get_weights()
    np.testing.assert_array_equal(pruned.get_layer(group[0]).get_weights()[1], old[1][kept][:, _gates(kept, units)])

    # The attention depth: memory_layer columns tied with the attention query layer's columns.
    memory = model.get_layer(DEC + "memory_layer").get_weights()[0]
    query = model.get_layer(ATTENTION).cell.query_layer.kernel.numpy()
    depth = np.abs(memory).sum(0) / np.abs(memory).sum(0).mean() + np.abs(query).sum(0) / np.abs(query).sum(0).mean()
    depth_kept = _lowest_removed(depth, remove)
    np.testing.assert_array_equal(pruned.get_layer(DEC + "memory_layer").get_weights()[0], memory[kept][:, depth_kept])


def test_attention_gain_keeps_kept_channels_exact(model):
    pruned = prune_model(model, 0.5)
    old, new = model.get_layer(ATTENTION).cell, pruned.get_layer(ATTENTION).cell
    v, g = old.attention_v.numpy(), old.attention_g.numpy()
    normed = g * v / np.linalg.norm(v)
    new_normed = new.attention_g.numpy() * new.attention_v.numpy() / np.linalg.norm(new.attention_v.numpy())
    kept = [int(np.flatnonzero(v == x)[0]) for x in new.attention_v.numpy()]
    np.testing.assert_allclose(new_normed, normed[kept], rtol=1e-5)


@pytest.mark.parametrize("num_layers", [4, 2])
def test_pruning_nothing_is_exact(num_layers, inputs):
    model = _build(num_layers)
    same = prune_model(model, 0.01)  # round(16 * 0.01) = 0 units removed anywhere
    assert parameter_count(same) == parameter_count(model)
    np.testing.assert_allclose(same.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6)


def test_pruned_gnmt_file_round_trip(tmp_path, model, inputs):
    pruned = prune_model(model, 0.5)
    path = str(tmp_path / "gnmt.model.zip")
    save_model_file(pruned, path)
    loaded, _ = load_model_file(path)
    assert parameter_count(loaded) == parameter_count(pruned)
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), pruned.predict(inputs, verbose=0))


def test_bidirectional_directions_pruned_to_different_widths(tmp_path):
    """Backward states tied to a model output stay whole while the forward direction shrinks."""
    mini_zoo.seed_everything()
    tokens = L.Input((5,), dtype="int32")
    x = L.Embedding(10, 6, name="emb")(tokens)
    seq, _fh, _fc, bh, bc = L.Bidirectional(L.LSTM(8, return_sequences=True, return_state=True), name="bi")(x)
    top = L.LSTM(8, return_sequences=True, name="top")(L.Dense(8, name="mix")(seq), initial_state=[bh, bc])
    model = keras.Model(tokens, top)
    pruned = prune_model(model, 0.5)
    assert (pruned.get_layer("bi").forward_layer.units, pruned.get_layer("bi").backward_layer.units) == (4, 8)
    assert pruned.get_layer("mix").get_weights()[0].shape == (12, 4)
    data = np.random.RandomState(0).randint(0, 10, (2, 5)).astype(np.int32)
    assert pruned.predict(data, verbose=0).shape == (2, 5, 8)
    path = str(tmp_path / "bi.model.zip")
    save_model_file(pruned, path)
    np.testing.assert_array_equal(load_model_file(path)[0].predict(data, verbose=0), pruned.predict(data, verbose=0))


def test_unaligned_slice_and_composed_tie_are_frozen_not_failed():
    inp = L.Input((6,))
    a = L.Dense(8, name="a")(inp)
    part = SliceLast(2, 4, name="part")(a)  # cuts inside the space of "a": "a" stays whole
    b = L.Dense(4, name="b")(inp)
    c = L.Dense(4, name="c")(inp)
    both = L.Concatenate(name="cat")([b, c])
    summed = L.Add(name="sum")([both, L.Dense(8, name="d")(inp)])  # a concat tied: all frozen
    out = L.Concatenate(name="out")([L.Dense(3, name="e")(part), L.Dense(3, name="f")(summed)])
    model = keras.Model(inp, out)
    pruned = prune_model(model, 0.5)
    assert [pruned.get_layer(n).units for n in "abcd"] == [8, 4, 4, 8]
    assert pruned.get_layer("part").get_config()["size"] == 4
    x = np.random.RandomState(0).rand(3, 6).astype(np.float32)
    np.testing.assert_allclose(pruned.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_rnn_of_another_cell_is_named():
    inp = L.Input((4, 3))
    out = L.RNN(L.GRUCell(4), name="gru_rnn")(inp)
    with pytest.raises(UnsupportedError, match="layer gru_rnn \\(RNN\\)"):
        prune_model(keras.Model(inp, out), 0.5)
