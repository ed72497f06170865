"""The ImageNet validation reader and TF-Slim preprocessing, on small real files written here."""
import os
import shutil

import numpy as np
import pytest
import scipy.io

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.device.compat import tf
from artifact.device.models.data import imagenet

# 1000 fake but well-formed WNIDs (sorted, as same-width strings) and their devkit ILSVRC2012_IDs,
# deliberately a permutation so that ID order is NOT sorted-WNID order.
WNIDS = ["n%08d" % (1440764 + 37 * i) for i in range(1000)]
ID_OF = {w: int(i) + 1 for w, i in zip(WNIDS, np.random.RandomState(0).permutation(1000))}
NAMES = {w: "thing {}, Thingus {}".format(i, i) for i, w in enumerate(WNIDS)}

# ILSVRC2012_val_0000000{k+1}.JPEG: shape and true class (index in sorted WNIDs)
SHAPES = [(40, 60, 3), (64, 48, 1), (30, 90, 3), (50, 50, 3), (33, 41, 3), (80, 20, 3)]
LABELS = np.array([5, 999, 0, 512, 5, 77])
STEMS = ["ILSVRC2012_val_%08d" % (k + 1) for k in range(len(SHAPES))]


def write_images(directory):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.RandomState(1)
    for stem, shape in zip(STEMS, SHAPES):
        pixels = rng.randint(0, 256, size=shape).astype(np.uint8)
        with open(os.path.join(directory, stem + ".JPEG"), "wb") as handle:
            handle.write(tf.io.encode_jpeg(tf.constant(pixels)).numpy())


def write_loc(directory, rows=None, mapping=True):
    os.makedirs(directory, exist_ok=True)
    if rows is None:   # out of order on purpose; several boxes per image like the real file
        rows = ["{},{} 1 2 30 40 {} 3 4 20 20".format(STEMS[k], WNIDS[LABELS[k]], WNIDS[LABELS[k]])
                for k in (3, 0, 5, 1, 4, 2)]
    with open(os.path.join(directory, imagenet.LOC_SOLUTION), "w") as handle:
        handle.write("ImageId,PredictionString\n" + "\n".join(rows) + "\n")
    if mapping:
        with open(os.path.join(directory, imagenet.LOC_MAPPING), "w") as handle:
            for w in reversed(WNIDS):
                handle.write("{} {}\n".format(w, NAMES[w]))


def write_devkit(directory):
    data = os.path.join(directory, "ILSVRC2012_devkit_t12", "data")
    os.makedirs(data)
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
              "num_train_images"]
    rows = sorted((ID_OF[w], w, 0) for w in WNIDS)                          # leaves, in ID order like meta.mat
    rows += [(1001, "n00001740", 2), (1002, "n00002137", 3)]                # two inner synsets
    synsets = np.zeros((len(rows), 1), dtype=[(f, "O") for f in fields])
    for r, (sid, wnid, children) in enumerate(rows):
        synsets[r, 0] = (np.array([[sid]], np.uint16), np.array([wnid]), np.array([NAMES.get(wnid, "entity")]),
                         np.array(["a gloss"]), np.array([[children]], np.uint8), np.zeros((1, children)),
                         np.array([[0]], np.uint8), np.array([[1300]], np.uint16))
    scipy.io.savemat(os.path.join(data, "meta.mat"), {"synsets": synsets})
    with open(os.path.join(data, "ILSVRC2012_validation_ground_truth.txt"), "w") as handle:
        handle.write("".join("{}\n".format(ID_OF[WNIDS[label]]) for label in LABELS))


@pytest.fixture
def loc_root(tmp_path):
    root = str(tmp_path / "kaggle")
    write_images(os.path.join(root, "ILSVRC", "Data", "CLS-LOC", "val"))
    write_loc(root)
    return root


@pytest.fixture
def devkit_root(tmp_path):
    root = str(tmp_path / "devkit")
    write_images(root)
    write_devkit(os.path.join(root, "downloads"))      # one level below the root
    return root


# ---------------------------------------------------------------- ground truth and labels

def test_loc_labels_are_sorted_wnid_positions(loc_root):
    val = imagenet.ImageNetVal(loc_root)
    assert len(val) == 6
    assert [os.path.basename(p) for p in val.paths] == [s + ".JPEG" for s in STEMS]
    assert val.labels.tolist() == LABELS.tolist()
    assert val.wnids == sorted(WNIDS)
    assert val.names[LABELS[3]] == NAMES[WNIDS[LABELS[3]]]
    assert val.ground_truth_source == os.path.join(loc_root, imagenet.LOC_SOLUTION)
    assert val.description == "ILSVRC2012 validation, all 6 images (LOC_val_solution.csv + LOC_synset_mapping.txt)"


def test_devkit_maps_ids_through_sorted_wnids_and_agrees_with_loc(devkit_root, loc_root):
    ids = [ID_OF[WNIDS[label]] for label in LABELS]
    assert ids != [label + 1 for label in LABELS]          # the ID order really differs from the sorted order
    val = imagenet.ImageNetVal(devkit_root)
    assert val.labels.tolist() == LABELS.tolist()
    assert val.labels.tolist() == imagenet.ImageNetVal(loc_root).labels.tolist()
    assert val.wnids == sorted(WNIDS)
    assert val.names[0] == NAMES[WNIDS[0]]
    assert val.ground_truth_source.endswith(os.path.join("ILSVRC2012_devkit_t12", "data",
                                                         "ILSVRC2012_validation_ground_truth.txt"))
    assert "meta.mat" in val.description and "all 6 images" in val.description


def test_loc_without_mapping_uses_the_sorted_wnids_of_the_csv(tmp_path):
    root = str(tmp_path)
    write_images(os.path.join(root, "val"))
    # all 1000 classes appear: the first six images as above, then one image per class
    rows = ["{},{} 1 1 2 2".format(STEMS[k], WNIDS[LABELS[k]]) for k in range(6)]
    rows += ["ILSVRC2012_val_%08d,%s 1 1 2 2" % (7 + i, w) for i, w in enumerate(WNIDS)]
    write_loc(root, rows=rows, mapping=False)
    val = imagenet.ImageNetVal(root, limit=6)
    assert val.labels.tolist() == LABELS.tolist() and val.names is None
    assert val.description == "ILSVRC2012 validation, first 6 of 1006 images (LOC_val_solution.csv)"
    with pytest.raises(MissingInputError, match=r"ILSVRC2012_val_00000007\.JPEG.*1000 of the 1006"):
        imagenet.ImageNetVal(root)


def test_loc_without_mapping_and_few_classes_asks_for_the_mapping(tmp_path):
    write_images(str(tmp_path))
    write_loc(str(tmp_path), mapping=False)
    with pytest.raises(FormatError, match=r"LOC_val_solution\.csv: only 5 distinct WNIDs.*add LOC_synset_mapping"):
        imagenet.ImageNetVal(str(tmp_path))


def test_limit_takes_the_first_images_by_file_name(loc_root):
    val = imagenet.ImageNetVal(loc_root, limit=3)
    assert len(val) == 3 and val.labels.tolist() == LABELS[:3].tolist()
    assert val.description == ("ILSVRC2012 validation, first 3 of 6 images "
                               "(LOC_val_solution.csv + LOC_synset_mapping.txt)")


def test_missing_image_is_named_unless_beyond_the_limit(loc_root):
    image_dir = os.path.join(loc_root, "ILSVRC", "Data", "CLS-LOC", "val")
    os.remove(os.path.join(image_dir, STEMS[3] + ".JPEG"))
    with pytest.raises(MissingInputError) as caught:
        imagenet.ImageNetVal(loc_root)
    message = str(caught.value)
    assert "ILSVRC2012_val_00000004.JPEG" in message and "1 of the 6" in message and "limit=3" in message
    assert "\n" not in message
    assert len(imagenet.ImageNetVal(loc_root, limit=3)) == 3
    with pytest.raises(MissingInputError, match="ILSVRC2012_val_00000004"):
        imagenet.ImageNetVal(loc_root, limit=5)


def test_images_without_ground_truth_are_ignored(loc_root):
    image_dir = os.path.join(loc_root, "ILSVRC", "Data", "CLS-LOC", "val")
    shutil.copy(os.path.join(image_dir, STEMS[0] + ".JPEG"), os.path.join(image_dir, "ILSVRC2012_val_00000099.JPEG"))
    assert len(imagenet.ImageNetVal(loc_root)) == 6


def test_malformed_csv_line_names_file_and_line(tmp_path):
    write_images(str(tmp_path))
    rows = ["{},{} 1 2 3 4".format(STEMS[0], WNIDS[0]), "{},tench 1 2 3 4".format(STEMS[1])]
    write_loc(str(tmp_path), rows=rows)
    with pytest.raises(FormatError, match=r"LOC_val_solution\.csv line 3: .*tench"):
        imagenet.ImageNetVal(str(tmp_path))


def test_malformed_devkit_line_names_file_and_line(devkit_root):
    path = os.path.join(devkit_root, "downloads", imagenet.DEVKIT_GROUND_TRUTH)
    with open(path, "a") as handle:
        handle.write("1001\n")
    with pytest.raises(FormatError, match=r"ILSVRC2012_validation_ground_truth\.txt line 7: .*'1001'"):
        imagenet.ImageNetVal(devkit_root)


def test_missing_ground_truth_says_what_was_looked_for(tmp_path):
    write_images(str(tmp_path / "val"))
    with pytest.raises(MissingInputError) as caught:
        imagenet.ImageNetVal(str(tmp_path))
    message = str(caught.value)
    assert "LOC_val_solution.csv" in message and "ILSVRC2012_validation_ground_truth.txt" in message
    assert str(tmp_path) in message and "\n" not in message


def test_missing_directory_and_images(tmp_path):
    with pytest.raises(MissingInputError, match="not found"):
        imagenet.ImageNetVal(str(tmp_path / "nowhere"))
    write_loc(str(tmp_path))
    with pytest.raises(MissingInputError, match=r"no ILSVRC2012_val_\*\.JPEG"):
        imagenet.ImageNetVal(str(tmp_path))


def test_undecodable_jpeg_is_named(loc_root):
    image_dir = os.path.join(loc_root, "ILSVRC", "Data", "CLS-LOC", "val")
    bad = os.path.join(image_dir, STEMS[2] + ".JPEG")
    with open(bad, "wb") as handle:
        handle.write(b"this is not a JPEG at all")
    with pytest.raises(FormatError) as caught:
        imagenet.load_image(bad)
    assert bad in str(caught.value) and "\n" not in str(caught.value)
    val = imagenet.ImageNetVal(loc_root)
    with pytest.raises(FormatError, match=STEMS[2]):
        list(val.batches("vgg", 32, batch_size=4))


def test_load_image_gives_rgb_for_grayscale(loc_root):
    val = imagenet.ImageNetVal(loc_root)
    gray = imagenet.load_image(val.paths[1])
    assert gray.shape == (64, 48, 3) and gray.dtype == np.uint8
    assert np.array_equal(gray[..., 0], gray[..., 2])


# ---------------------------------------------------------------- preprocessing arithmetic

def resize_bilinear_tf1(image, out_h, out_w):
    """NumPy copy of TF1 ResizeBilinear with align_corners=False, half_pixel_centers=False (float32)."""
    image = image.astype(np.float32)
    in_h, in_w = image.shape[:2]

    def axis(in_size, out_size):
        pos = np.arange(out_size, dtype=np.float32) * np.float32(np.float32(in_size) / np.float32(out_size))
        low = np.floor(pos)
        return low.astype(int), np.minimum(np.ceil(pos).astype(int), in_size - 1), (pos - low).astype(np.float32)

    y0, y1, ly = axis(in_h, out_h)
    x0, x1, lx = axis(in_w, out_w)
    lx, ly = lx[None, :, None], ly[:, None, None]
    top = image[y0][:, x0] + (image[y0][:, x1] - image[y0][:, x0]) * lx
    bottom = image[y1][:, x0] + (image[y1][:, x1] - image[y1][:, x0]) * lx
    return top + (bottom - top) * ly


def inception_reference(image, size):
    x = image.astype(np.float32) * np.float32(1.0 / 255.0)
    h, w = image.shape[:2]
    top, left = int((h - h * 0.875) / 2), int((w - w * 0.875) / 2)
    x = x[top:h - top, left:w - left]
    return (resize_bilinear_tf1(x, size, size) - np.float32(0.5)) * np.float32(2.0)


def vgg_reference(image, size):
    h, w = image.shape[:2]
    side = np.float32(256.0)
    scale = side / np.float32(w) if h > w else side / np.float32(h)
    new_h, new_w = int(np.rint(np.float32(h) * scale)), int(np.rint(np.float32(w) * scale))
    x = resize_bilinear_tf1(image, new_h, new_w)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return x[top:top + size, left:left + size] - np.array([123.68, 116.78, 103.94], np.float32)


def random_image(shape, seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=shape).astype(np.uint8)


def test_constant_colour_gives_the_exact_values():
    colour = np.array([200, 100, 7], np.uint8)
    image = np.tile(colour, (37, 53, 1))
    got = imagenet.preprocess(image, "inception", 29)
    assert got.dtype == np.float32 and got.shape == (29, 29, 3)
    np.testing.assert_allclose(got, np.broadcast_to((colour / 255.0 - 0.5) * 2.0, got.shape), atol=1e-6)
    got = imagenet.preprocess(image, "vgg", 224)
    assert got.dtype == np.float32 and got.shape == (224, 224, 3)
    np.testing.assert_allclose(got, np.broadcast_to(colour - np.array([123.68, 116.78, 103.94]), got.shape),
                               atol=1e-4)


@pytest.mark.parametrize("shape", [(30, 90, 3), (90, 30, 3), (333, 500, 3), (150, 229, 3)])
def test_shapes_and_agreement_with_a_numpy_copy_of_slim(shape):
    image = random_image(shape)
    for style, size, reference, tolerance in (("inception", 299, inception_reference, 1e-6),
                                              ("inception", 224, inception_reference, 1e-6),
                                              ("vgg", 224, vgg_reference, 1e-4)):
        got = imagenet.preprocess(image, style, size)
        assert got.shape == (size, size, 3) and got.dtype == np.float32
        np.testing.assert_allclose(got, reference(image, size), atol=tolerance, rtol=0)


def test_inception_matches_a_direct_tf_composition():
    image = random_image((123, 77, 3), seed=3)
    x = tf.image.convert_image_dtype(tf.constant(image), tf.float32)
    x = tf.image.central_crop(x, central_fraction=0.875)
    x = tf.compat.v1.image.resize_bilinear(x[None], [224, 224], align_corners=False)[0]
    expected = ((x - 0.5) * 2.0).numpy()
    np.testing.assert_allclose(imagenet.preprocess(image, "inception", 224), expected, atol=1e-6, rtol=0)
    assert imagenet.preprocess(image, "inception", 224).min() >= -1.0


def test_vgg_crop_is_central():
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, 150:] = 255                      # left half black, right half white
    got = imagenet.preprocess(image, "vgg", 224)[..., 0] + 123.68
    # resized to 256x768 (boundary between columns 381 and 384), cropped at column (768 - 224) // 2 = 272
    np.testing.assert_allclose(got[:, :110], 0.0, atol=1e-4)
    np.testing.assert_allclose(got[:, 112:], 255.0, atol=1e-4)
    assert np.all((got[:, 110:112] > 1) & (got[:, 110:112] < 254))


def test_unknown_style_and_bad_sizes_are_config_errors():
    image = random_image((20, 20, 3))
    with pytest.raises(ConfigError, match="inception, vgg"):
        imagenet.preprocess(image, "resnet", 224)
    with pytest.raises(ConfigError, match="vgg"):
        imagenet.preprocess(image, "vgg", 299)
    assert imagenet.PREPROCESSING_FOR_FAMILY == {"inception": "inception", "mobilenet": "inception",
                                                 "vgg": "vgg", "resnet": "vgg"}


# ---------------------------------------------------------------- batches, evaluation, photos

def test_batches_and_timing_images(loc_root):
    val = imagenet.ImageNetVal(loc_root)
    batches = list(val.batches("inception", 32, batch_size=4))
    assert [x.shape for x, _ in batches] == [(4, 32, 32, 3), (2, 32, 32, 3)]
    assert all(x.dtype == np.float32 for x, _ in batches)
    assert np.concatenate([y for _, y in batches]).tolist() == LABELS.tolist()
    np.testing.assert_allclose(batches[1][0][0], imagenet.preprocess(imagenet.load_image(val.paths[4]),
                                                                     "inception", 32))
    singles = val.images("vgg", 32, count=3)
    assert len(singles) == 3 and all(x.shape == (1, 32, 32, 3) for x in singles)


def test_label_offset_and_background_column():
    assert imagenet.label_offset(1001) == 1 and imagenet.label_offset(1000) == 0
    with pytest.raises(ConfigError, match="1000 or 1001"):
        imagenet.label_offset(10)
    logits = np.arange(2 * 1001).reshape(2, 1001)
    assert np.array_equal(imagenet.logits_to_imagenet_1000(logits, 1001), logits[:, 1:])
    assert imagenet.logits_to_imagenet_1000(tf.constant(logits[:, 1:]), 1000).shape == (2, 1000)


def fake_slim_classifier(shift):
    """1001-class logits (class 0 = background) that put the maximum on the true label + shift."""
    seen = {"count": 0}

    def predict(x):
        n = len(x)
        truth = LABELS[seen["count"]:seen["count"] + n]
        seen["count"] += n
        logits = np.zeros((n, 1001), np.float32)
        logits[np.arange(n), truth + 1] = -10.0
        logits[np.arange(n), (truth + shift) % 1000 + 1] = 10.0
        return tf.constant(logits)

    return predict


def test_evaluate_classifier(devkit_root):
    val = imagenet.ImageNetVal(devkit_root)
    calls = []
    metrics = imagenet.evaluate_classifier(fake_slim_classifier(0), val, "inception", 16, 1001, batch_size=4,
                                           progress=lambda done, total: calls.append((done, total)))
    assert metrics["top1"] == 1.0 and metrics["top5"] == 1.0
    assert set(metrics) == {"top1", "top5", "precision", "recall", "f1", "scored"}
    assert metrics["scored"] == 6  # n for the judge's binomial standard error
    assert calls == [(4, 6), (6, 6)]
    metrics = imagenet.evaluate_classifier(fake_slim_classifier(1), val, "inception", 16, 1001, batch_size=4)
    assert metrics["top1"] == 0.0 and metrics["top5"] == 0.0


def test_sample_photos_are_a_real_photo():
    photos = imagenet.sample_photos("inception", 224)
    assert len(photos) == 2 and all(p.shape == (1, 224, 224, 3) and p.dtype == np.float32 for p in photos)
    assert photos[0].std() > 0.1 and photos[0].min() >= -1.0 and photos[0].max() <= 1.0
    assert not np.array_equal(photos[0], photos[1])
    vgg = imagenet.sample_photos("vgg", 224)
    assert vgg[0].shape == (1, 224, 224, 3) and vgg[0].std() > 10
