"""The training-set readers of `retrain` (ILSVRC2012 train, WMT16 en-de) on tiny sets in the layouts people have."""
import hashlib
import os

import numpy as np
import pytest

from artifact.core.errors import FormatError, MissingInputError
from artifact.device.models.data.imagenet_train import ImageNetTrain, preprocess_for_train
from artifact.device.models.data.wmt_train import WMTTrain, masked_sequence_loss
from tests.helpers import training_sets as ts


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return ts.imagenet_train_folders(tmp_path_factory.mktemp("kaggle"))


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    return ts.imagenet_train_shards(tmp_path_factory.mktemp("slim"))


def _labels(train, num_classes=1000, batches=4):
    found = []
    for _, (_images, y) in zip(range(batches), train.dataset("vgg", 64, 6, num_classes, seed=0)):
        found += list(y.numpy())
    return found


# ---------------------------------------------------------------- ILSVRC2012 train

def test_class_folders_are_labelled_by_their_place_among_the_1000_synsets(folders):
    train = ImageNetTrain(folders)
    assert train.layout == "folders" and train.directory == os.path.join(folders, "train")
    assert len(train) == 3 * ts.IMAGES_PER_CLASS
    assert sorted(set(train.labels)) == [997, 998, 999]   # not 0..2: the subset sits at the end of the 1000
    assert "LOC_synset_mapping.txt" in train.description and "a subset" in train.description
    assert set(_labels(train)) == {997, 998, 999}
    assert set(_labels(train, 1001)) == {998, 999, 1000}   # slim's 1001-class models: background is class 0


def test_tfrecord_shards_give_the_same_examples_and_labels_as_the_folders(folders, shards):
    train = ImageNetTrain(shards)
    assert train.layout == "tfrecord" and "2 TF-Slim TFRecord shards" in train.description
    labels = _labels(train, batches=2)
    assert set(labels) == {997, 998, 999} and len(labels) == 12   # records are 1-based: shifted for 1000 classes
    assert set(_labels(train, 1001, batches=2)) == {998, 999, 1000}
    with pytest.raises(TypeError):
        len(train)   # unknown without reading every shard: the package says "None", never a guess


@pytest.mark.parametrize("style, low, high", [("inception", -1.0, 1.0), ("vgg", -123.68, 255 - 103.94)])
def test_training_batches_are_augmented_as_slim_trains_and_repeatable(folders, style, low, high):
    train = ImageNetTrain(folders)
    first = [b for _, b in zip(range(2), train.dataset(style, 224, 4, 1000, seed=3))]
    again = [b for _, b in zip(range(2), train.dataset(style, 224, 4, 1000, seed=3))]
    other = next(iter(train.dataset(style, 224, 4, 1000, seed=4)))
    x = first[0][0].numpy()
    assert x.shape == (4, 224, 224, 3) and x.dtype == np.float32
    assert low - 1e-4 <= x.min() and x.max() <= high + 1e-4
    for (xa, ya), (xb, yb) in zip(first, again):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
    assert not np.array_equal(other[0].numpy(), x)   # another seed (a resumed run): other crops, flips, order


def test_vgg_training_crop_is_a_random_window_of_the_resized_photo():
    """With its seed fixed, slim's vgg training preprocessing is a crop of the aspect-preserving resize: every
    pixel of the output, plus the channel means, is a pixel value of the photo's range (no colour distortion)."""
    import tensorflow as tf

    photo = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (300, 2, 3))   # a horizontal ramp 300x512
    out = preprocess_for_train(tf.constant(photo), "vgg", 224, tf.constant([1, 2])).numpy()
    restored = out + np.array([123.68, 116.78, 103.94], np.float32)
    assert restored.min() >= -1e-3 and restored.max() <= 255 + 1e-3
    columns = restored[0, :, 0]
    assert np.all(np.diff(columns) >= -1e-3) or np.all(np.diff(columns) <= 1e-3)   # a ramp stays a ramp (or flips)
    np.testing.assert_allclose(restored[:, :, 0], restored[:, :, 1], atol=1e-3)     # grey stays grey


def test_the_index_checksum_changes_when_the_training_set_does(tmp_path):
    root = ts.imagenet_train_folders(tmp_path / "a")
    before = ImageNetTrain(root).index_checksum()
    assert ImageNetTrain(root).index_checksum() == before
    extra = os.path.join(root, "train", ts.WNIDS[0], "extra.JPEG")
    with open(os.path.join(root, "train", ts.WNIDS[0], ts.WNIDS[0] + "_100.JPEG"), "rb") as handle:
        data = handle.read()
    with open(extra, "wb") as handle:
        handle.write(data)
    assert ImageNetTrain(root).index_checksum() != before


def test_a_subset_of_class_folders_without_a_synset_list_is_refused(tmp_path):
    root = ts.imagenet_train_folders(tmp_path / "subset", mapping=False)
    with pytest.raises(MissingInputError) as error:
        ImageNetTrain(root)
    message = str(error.value)
    assert "3 class folders, not ILSVRC2012's 1000" in message and "LOC_synset_mapping.txt" in message
    assert "imagenet_lsvrc_2015_synsets.txt" in message and os.path.join(root, "train") in message
    ts.synset_mapping(os.path.join(root, "train", "LOC_synset_mapping.txt"))   # one level below works too
    assert sorted(set(ImageNetTrain(root).labels)) == [997, 998, 999]


def test_slim_labels_file_places_the_folders_too(tmp_path):
    root = ts.imagenet_train_folders(tmp_path / "slim-labels", mapping=False, subdir="")
    with open(os.path.join(root, "imagenet_lsvrc_2015_synsets.txt"), "w") as handle:
        handle.write("\n".join(sorted(ts.FILLER + ts.WNIDS)) + "\n")
    train = ImageNetTrain(root)
    assert train.directory == root and sorted(set(train.labels)) == [997, 998, 999]


def test_missing_shard_is_named(tmp_path):
    root = ts.imagenet_train_shards(tmp_path / "partial", shards=3)
    os.remove(os.path.join(root, "train-00001-of-00003"))
    with pytest.raises(MissingInputError, match="train-00001-of-00003: missing, one of 1 of the 3 shards"):
        ImageNetTrain(root)


@pytest.mark.parametrize("damage, error, message", [
    ("nothing", MissingInputError, "no ImageNet training set found; looked for TF-Slim TFRecord shards"),
    ("empty_class", MissingInputError, "class folder without images"),
    ("not_an_image", FormatError, "cannot be decoded as an image"),
    ("not_a_shard", FormatError, "not a TF-Slim ImageNet TFRecord shard"),
    ("no_directory", MissingInputError, "--imagenet-train"),
])
def test_bad_training_sets_are_one_line_naming_the_file(tmp_path, damage, error, message):
    root = str(tmp_path / "data")
    os.makedirs(root)
    if damage in ("empty_class", "not_an_image"):
        ts.imagenet_train_folders(root)
        first = os.path.join(root, "train", ts.WNIDS[0])
        for name in sorted(os.listdir(first)):
            if damage == "empty_class":
                os.remove(os.path.join(first, name))
            else:
                with open(os.path.join(first, name), "wb") as handle:
                    handle.write(b"not a jpeg")
    elif damage == "not_a_shard":
        with open(os.path.join(root, "train-00000-of-00001"), "wb") as handle:
            handle.write(b"\x00" * 64)
    elif damage == "no_directory":
        root = str(tmp_path / "nowhere")
    with pytest.raises(error) as raised:
        ImageNetTrain(root)
    text = str(raised.value)
    assert message in text and "\n" not in text and (root in text or damage == "not_an_image")


# ---------------------------------------------------------------- WMT16 en-de

@pytest.fixture(scope="module")
def wmt(tmp_path_factory):
    return ts.wmt_train_dir(tmp_path_factory.mktemp("wmt16"))


def test_wmt_batches_are_nmts_inputs_one_source_length_each(wmt):
    train = WMTTrain.for_model(wmt)
    assert len(train) == len(ts.NUMBERS) and "120 sentence pairs" in train.description
    src_vocab, tgt_vocab = train.src_vocab, train.tgt_vocab
    pairs = dict(ts.number_pairs())
    seen = 0
    for _, ((src, tgt_in), tgt_out, weights) in zip(range(12), train.dataset(8, seed=0)):
        src, tgt_in, tgt_out, weights = src.numpy(), tgt_in.numpy(), tgt_out.numpy(), weights.numpy()
        assert src.shape[0] == 8 and tgt_in.shape == tgt_out.shape == weights.shape
        assert (src != tgt_vocab.eos_id).all()            # no source padding: one source length per batch
        assert (tgt_in[:, 0] == tgt_vocab.sos_id).all()
        for row in range(8):
            length = int(weights[row].sum())
            english = " ".join(src_vocab.tokens(src[row]))
            german = pairs[english].split(" ")
            assert tgt_vocab.tokens(tgt_out[row][:length]) == german + ["</s>"]
            assert tgt_vocab.tokens(tgt_in[row][1:length]) == german
            assert (tgt_out[row][length:] == tgt_vocab.eos_id).all() and (weights[row][length:] == 0).all()
            seen += 1
    assert seen == 96


def test_wmt_sentences_are_cut_and_unknown_words_are_unk(tmp_path):
    long = ("one " * 60).strip()
    root = ts.wmt_train_dir(tmp_path / "wmt", pairs=[(long, "eins zwei"), ("one zzz", "eins")] * 4)
    train = WMTTrain.for_model(root)
    batches = [b for _, b in zip(range(4), train.dataset(4, seed=0))]
    lengths = sorted(set(int(b[0][0].shape[1]) for b in batches))
    assert lengths == [2, 50]
    short = [b for b in batches if b[0][0].shape[1] == 2][0]
    assert (short[0][0].numpy()[:, 1] == 0).all()   # zzz: not in the vocabulary -> <unk>, id 0


def test_masked_sequence_loss_is_nmts_sum_over_real_tokens_over_the_batch():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    y = np.array([[1, 2, 3], [4, 0, 0]], "int32")
    w = np.array([[1, 1, 1], [1, 0, 0]], "float32")
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -sum(log_softmax[b, t, y[b, t]] for b in range(2) for t in range(3) if w[b, t]) / 2
    assert float(masked_sequence_loss(tf.constant(y), tf.constant(logits), tf.constant(w))) == pytest.approx(
        expected, rel=1e-5)


def test_wmt_training_files_and_vocabularies_are_checked(tmp_path, wmt):
    from artifact.device.models.data.nmt_data import load_vocabulary

    with pytest.raises(MissingInputError, match="no such directory"):
        WMTTrain.for_model(str(tmp_path / "nowhere"))
    uneven = ts.wmt_train_dir(tmp_path / "uneven")
    ts.write_lines(os.path.join(uneven, "train.tok.clean.bpe.32000.de"), ["eins"])
    with pytest.raises(FormatError, match="differ in length: .*train.tok.clean.bpe.32000.en has 120 lines"):
        WMTTrain.for_model(uneven)
    bare = ts.wmt_train_dir(tmp_path / "bare", vocabularies=False)
    with pytest.raises(MissingInputError, match="vocab.bpe.32000.en not found; copy nmt's vocabularies"):
        WMTTrain.for_model(bare)

    class Model(object):   # what --nmt DIR gives: the model's own vocabularies and hparams
        hparams = {"src": "en", "tgt": "de"}
        directory = str(tmp_path / "model")
        src_vocab = load_vocabulary(os.path.join(wmt, "vocab.bpe.32000.en"))
        tgt_vocab = load_vocabulary(os.path.join(wmt, "vocab.bpe.32000.de"))

    assert WMTTrain.for_model(bare, nmt_data=Model()).tgt_vocab is Model.tgt_vocab
    assert "--nmt " + Model.directory in WMTTrain.for_model(bare, nmt_data=Model()).description
    other = ts.wmt_train_dir(tmp_path / "other")
    ts.write_lines(os.path.join(other, "vocab.bpe.32000.de"), ["<unk>", "<s>", "</s>", "eins"])
    with pytest.raises(FormatError, match="vocab.bpe.32000.de: 4 tokens, not the 123 of the model's vocabulary"):
        WMTTrain.for_model(other, nmt_data=Model())


def test_wmt_index_checksum_covers_the_text(tmp_path):
    root = ts.wmt_train_dir(tmp_path / "wmt")
    before = WMTTrain.for_model(root).index_checksum()
    assert before == WMTTrain.for_model(root).index_checksum()
    path = os.path.join(root, "train.tok.clean.bpe.32000.de")
    with open(path, encoding="utf-8") as handle:
        text = handle.read().replace("eins", "zwei", 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    assert WMTTrain.for_model(root).index_checksum() != before
    assert len(before) == len(hashlib.sha256().hexdigest())


def _fine_tune_on(dataset, path, tmp_path):
    from artifact.device.compat import keras
    from artifact.device.models.tasks.common import TrainingSource, classification_loss
    from artifact.device.train.loop import fine_tune

    inputs = keras.Input((1,))   # never called: the stream fails on its first batch
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    source = TrainingSource(dataset, classification_loss(True), None, "the training data", path, "0" * 64)
    settings = {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 2, "steps": 3, "checkpoint_every": 1}
    return fine_tune(model, source, settings, str(tmp_path / "work"))


def test_training_files_without_one_usable_pair_stop_with_one_line(tmp_path):
    root = ts.wmt_train_dir(tmp_path / "wmt", pairs=[("one two", ""), ("", "eins")] * 3)
    train = WMTTrain.for_model(root)
    with pytest.raises(FormatError) as error:
        _fine_tune_on(lambda batch, seed: train.dataset(batch, seed), root, tmp_path)
    assert "{}: the training data gave no example at step 0".format(root) in str(error.value)


def test_an_unreadable_image_met_while_training_is_one_line_naming_the_data(folders, tmp_path):
    root = str(tmp_path / "imagenet")
    ts.imagenet_train_folders(root)
    last = os.path.join(root, "train", ts.WNIDS[-1])
    with open(os.path.join(last, sorted(os.listdir(last))[-1]), "wb") as handle:
        handle.write(b"not a jpeg at all")
    train = ImageNetTrain(root)   # only the first image is decoded up front
    with pytest.raises(FormatError) as error:
        _fine_tune_on(lambda batch, seed: train.dataset("vgg", 32, 12, 1000, seed).map(
            lambda x, y: (tf_zeros_ids(x), y % 3, y * 0 + 1)), root, tmp_path)
    message = str(error.value)
    assert message.startswith(root + ": a training example could not be read at step 0") and "\n" not in message


def tf_zeros_ids(images):
    import tensorflow as tf

    return tf.zeros([tf.shape(images)[0], 1], tf.int32)
