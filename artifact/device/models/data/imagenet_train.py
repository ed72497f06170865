"""The ILSVRC2012 *training* set, read from a directory the user gives, augmented as TF-Slim trains.

`ImageNetTrain(root)` finds one of the two layouts people have (`retrain --imagenet-train DIR`):

1. TF-Slim's TFRecord shards, as research/slim/datasets/build_imagenet_data.py writes them:
   `train-00000-of-01024` ... in DIR or DIR/train/. Each record is a tf.train.Example with
   `image/encoded` (an RGB JPEG: the script re-encodes the PNG and CMYK files) and `image/class/label`
   (1..1000: the position of the synset in the sorted synset list, plus one; 0 is the background class).
   Every shard a name announces ("-of-01024") must be present: a partial copy is refused, not trained on.
2. Class folders, as the ILSVRC2012_img_train.tar archives unpack: `n01440764/n01440764_10026.JPEG`, in
   DIR, DIR/train/, DIR/ILSVRC/Data/CLS-LOC/train/ (Kaggle's download) or DIR/ILSVRC2012_img_train/.
   Labels are the position of the folder's WNID among the 1000 sorted WNIDs (TF-Slim's order). With all
   1000 folders the folders give the order; with fewer (a subset), the 1000 WNIDs come from
   `LOC_synset_mapping.txt` (Kaggle) or `imagenet_lsvrc_2015_synsets.txt` (TF-Slim's labels file) in DIR
   or one level below, and without one of them the subset is refused: its sorted order is not ImageNet's.

Slim's 1001-class checkpoints (Inception, MobileNet) keep class 0 for the background: labels are shifted as
`imagenet.label_offset` says, from the same 1-based / 0-based origin as the validation reader.

Preprocessing: a copy of TF-Slim's *training* preprocessing (research/slim/preprocessing/, `is_training=True`,
as train_image_classifier.py calls it, no bounding boxes):

- "inception" (inception_v1..v4, mobilenet_v1), inception_preprocessing.preprocess_for_train with its default
  fast_mode=True: `convert_image_dtype` to [0, 1]; a crop by `sample_distorted_bounding_box` of the whole image
  (min_object_covered 0.1, aspect ratio 0.75..1.33, area 5%..100%, 100 attempts); bilinear resize to
  size x size (TF1's kernel, as in evaluation); random left-right flip; random brightness (max delta 32/255)
  then random saturation (0.5..1.5), clipped to [0, 1]; then `(x - 0.5) * 2`.
- "vgg" (vgg_16, vgg_19, resnet_v1_*), vgg_preprocessing.preprocess_for_train: aspect-preserving resize of
  the smaller side to a random integer in [256, 512]; a random size x size crop; random left-right flip;
  the channel means subtracted.

Randomness is stateless and keyed by (seed, the example's position in the stream), so a run is repeatable
and a resumed run (reseeded by the training loop) draws new crops. The index checksum identifies what was
trained on: the sha256 of the list of files (class folders: relative paths; shards: names and sizes).
"""
import hashlib
import os
import re
from typing import Any, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import FormatError, MissingInputError
from artifact.device.compat import error_line, tf
from artifact.device.models.data.imagenet import (
    CHANNEL_MEANS,
    LOC_MAPPING,
    NUM_CLASSES,
    RESIZE_SIDE_MIN,
    _find_file,
    _read_synset_mapping,
    _resize_bilinear_tf1,
    check_style,
    label_offset,
    load_image,
)

RESIZE_SIDE_MAX = 512                      # vgg_preprocessing._RESIZE_SIDE_MAX
MIN_OBJECT_COVERED = 0.1                   # inception_preprocessing.distorted_bounding_box_crop
ASPECT_RATIO_RANGE = (0.75, 1.33)
AREA_RANGE = (0.05, 1.0)
MAX_ATTEMPTS = 100
BRIGHTNESS_DELTA = 32.0 / 255.0            # inception_preprocessing.distort_color, fast_mode, ordering 0
SATURATION_RANGE = (0.5, 1.5)
SLIM_SYNSETS = "imagenet_lsvrc_2015_synsets.txt"
SHUFFLE_EXAMPLES = 10000                   # records shuffled across shards (slim's reader queue: 20 x batch)

_WNID = re.compile(r"n\d{8}\Z")
_SHARD = re.compile(r"train-(\d{5})-of-(\d{5})\Z")
_IMAGE = re.compile(r".*\.(jpe?g|png)\Z", re.IGNORECASE)
_FOLDER_DIRS = ("", "train", "ILSVRC/Data/CLS-LOC/train", "ILSVRC2012_img_train")
_SHARD_DIRS = ("", "train")
_LAYOUTS = ("TF-Slim TFRecord shards train-00000-of-01024 ... in DIR or DIR/train/, or class folders "
            "n01440764/*.JPEG in DIR, DIR/train/, DIR/ILSVRC/Data/CLS-LOC/train/ or DIR/ILSVRC2012_img_train/")


# ---------------------------------------------------------------- preprocessing (TF-Slim, training)

def _seeds(seed, count):
    """`count` independent stateless seeds ([2] int64 each) from one [2] seed."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, num=count))


def _inception_train(image, size, seed):
    crop_seed, flip_seed, brightness_seed, saturation_seed = _seeds(seed, 4)
    image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.constant([0.0, 0.0, 1.0, 1.0], tf.float32, [1, 1, 4]),
        seed=crop_seed, min_object_covered=MIN_OBJECT_COVERED, aspect_ratio_range=ASPECT_RATIO_RANGE,
        area_range=AREA_RANGE, max_attempts=MAX_ATTEMPTS, use_image_if_no_bounding_boxes=True)
    image = tf.slice(image, begin, extent)
    image = _resize_bilinear_tf1(image, [size, size])
    image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    image = tf.image.stateless_random_brightness(image, BRIGHTNESS_DELTA, brightness_seed)
    image = tf.image.stateless_random_saturation(image, SATURATION_RANGE[0], SATURATION_RANGE[1], saturation_seed)
    image = tf.clip_by_value(image, 0.0, 1.0)
    return tf.multiply(tf.subtract(image, 0.5), 2.0)


def _vgg_train(image, size, seed):
    side_seed, row_seed, column_seed, flip_seed = _seeds(seed, 4)
    side = tf.random.stateless_uniform([], side_seed, RESIZE_SIDE_MIN, RESIZE_SIDE_MAX + 1, dtype=tf.int32)
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    smallest = tf.cast(side, tf.float32)
    scale = tf.where(tf.greater(height, width), smallest / width, smallest / height)
    new_height = tf.cast(tf.math.rint(height * scale), tf.int32)
    new_width = tf.cast(tf.math.rint(width * scale), tf.int32)
    image = _resize_bilinear_tf1(image, tf.stack([new_height, new_width]))
    top = tf.random.stateless_uniform([], row_seed, 0, new_height - size + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], column_seed, 0, new_width - size + 1, dtype=tf.int32)
    image = tf.slice(image, tf.stack([top, left, 0]), [size, size, 3])
    image = tf.image.stateless_random_flip_left_right(tf.cast(image, tf.float32), flip_seed)
    return image - tf.constant(CHANNEL_MEANS, tf.float32)


def preprocess_for_train(image, style, size, seed):
    # type: (Any, str, int, Any) -> Any
    """TF-Slim's training preprocessing of one uint8 HxWx3 image (a tensor) -> float32 [size, size, 3].
    `seed`: a [2] integer tensor; the same seed gives the same crop, flip and colours."""
    check_style(style, size)
    seed = tf.cast(seed, tf.int64)
    body = _inception_train if style == "inception" else _vgg_train
    out = body(image, int(size), seed)
    out.set_shape([int(size), int(size), 3])
    return out


def _decode(data):
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


# ---------------------------------------------------------------- discovery

def _subdirs(directory):
    # type: (str) -> List[str]
    try:
        return sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    except OSError:
        return []


def _find_shards(root):
    # type: (str) -> Tuple[Optional[str], List[str]]
    for relative in _SHARD_DIRS:
        directory = os.path.join(root, *relative.split("/")) if relative else root
        try:
            names = sorted(name for name in os.listdir(directory) if _SHARD.match(name))
        except OSError:
            continue
        if names:
            return directory, names
    return None, []


def _check_shards(directory, names):
    # type: (str, List[str]) -> None
    numbers = [(int(m.group(1)), int(m.group(2))) for m in (_SHARD.match(name) for name in names) if m]
    totals = sorted(set(total for _, total in numbers))
    if len(totals) > 1:
        raise FormatError("{}: shards of {} different sets are mixed (train-*-of-{}); keep the shards of one "
                          "build_imagenet_data.py run".format(directory, len(totals), " and -of-".join(
                              "{:05d}".format(t) for t in totals)))
    total = totals[0]
    have = set(index for index, _ in numbers)
    missing = [i for i in range(total) if i not in have]
    if missing:
        raise MissingInputError("{}: missing, one of {} of the {} shards the names announce; copy the whole "
                                "TFRecord set (or give the class folders instead)".format(
                                    os.path.join(directory, "train-{:05d}-of-{:05d}".format(missing[0], total)),
                                    len(missing), total))


def _find_class_folders(root):
    # type: (str) -> Tuple[Optional[str], List[str]]
    for relative in _FOLDER_DIRS:
        directory = os.path.join(root, *relative.split("/")) if relative else root
        wnids = [name for name in _subdirs(directory) if _WNID.match(name)]
        if wnids:
            return directory, wnids
    return None, []


def _read_slim_synsets(path):
    # type: (str) -> List[str]
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    bad = [line for line in lines if not _WNID.match(line)]
    if bad or len(set(lines)) != NUM_CLASSES:
        raise FormatError("{}: expected {} distinct WNIDs (nXXXXXXXX), one per line{}; use TF-Slim's "
                          "datasets/imagenet_lsvrc_2015_synsets.txt".format(
                              path, NUM_CLASSES, ", found {!r}".format(bad[0][:40]) if bad else
                              ", found {} distinct".format(len(set(lines)))))
    return sorted(lines)


def _all_wnids(root, folders, directory):
    # type: (str, List[str], str) -> Tuple[List[str], str]
    """The 1000 WNIDs in TF-Slim's (sorted) order, and where they came from."""
    for name, reader in ((LOC_MAPPING, lambda p: _read_synset_mapping(p)[0]), (SLIM_SYNSETS, _read_slim_synsets)):
        path = _find_file(root, name)
        if path:
            wnids = reader(path)
            unknown = sorted(set(folders) - set(wnids))
            if unknown:
                raise FormatError("{}: class folder {} is not one of the {} synsets of {}; remove it or give the "
                                  "synset list of the same download".format(directory, unknown[0], NUM_CLASSES, path))
            return wnids, name
    if len(folders) == NUM_CLASSES:
        return list(folders), "the {} class folders".format(NUM_CLASSES)
    raise MissingInputError(
        "{}: {} class folders, not ILSVRC2012's {}, and no {} or {} in {} to place them among the {} classes; "
        "put one of those files there (a subset's own sorted order is not ImageNet's labels)".format(
            directory, len(folders), NUM_CLASSES, LOC_MAPPING, SLIM_SYNSETS, root, NUM_CLASSES))


def _images_of(directory, wnid):
    # type: (str, str) -> List[str]
    folder = os.path.join(directory, wnid)
    names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file() and _IMAGE.match(entry.name))
    if not names:
        raise MissingInputError("{}: class folder without images (*.JPEG); extract its archive ({}.tar of "
                                "ILSVRC2012_img_train.tar) there or remove the folder".format(folder, wnid))
    return names


class ImageNetTrain(object):
    """ILSVRC2012 train in one of the two layouts; `dataset(...)` is the augmented, shuffled, repeated stream."""

    def __init__(self, root):
        # type: (str) -> None
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise MissingInputError("--imagenet-train {}: no such directory; give the ILSVRC2012 training set "
                                    "({})".format(root, _LAYOUTS))
        self.root = root
        self.paths = []    # type: List[str]
        self.labels = None  # type: Optional[np.ndarray]   # 0-based sorted-WNID index (class folders)
        shard_dir, shards = _find_shards(root)
        if shards and shard_dir is not None:
            _check_shards(shard_dir, shards)
            self.layout = "tfrecord"
            self.directory = shard_dir
            self.paths = [os.path.join(shard_dir, name) for name in shards]
            self.examples = None  # type: Optional[int]   # unknown without reading every shard
            self._index = ["{}\t{}".format(name, os.path.getsize(p)) for name, p in zip(shards, self.paths)]
            self.description = "ILSVRC2012 train, {} TF-Slim TFRecord shards in {}".format(len(shards), shard_dir)
            self._check_first_record()
            return
        folder_dir, folders = _find_class_folders(root)
        if not folders or folder_dir is None:
            raise MissingInputError("--imagenet-train {}: no ImageNet training set found; looked for {}".format(
                root, _LAYOUTS))
        wnids, order_from = _all_wnids(root, folders, folder_dir)
        index = {wnid: i for i, wnid in enumerate(wnids)}
        labels = []  # type: List[int]
        self._index = []
        for wnid in folders:
            for name in _images_of(folder_dir, wnid):
                self.paths.append(os.path.join(folder_dir, wnid, name))
                self._index.append(wnid + "/" + name)
                labels.append(index[wnid])
        self.layout = "folders"
        self.directory = folder_dir
        self.labels = np.array(labels, dtype=np.int64)
        self.examples = len(self.paths)
        self.description = "ILSVRC2012 train, {} images in {} class folders of {} (labels: {}{})".format(
            len(self.paths), len(folders), folder_dir, order_from,
            "" if len(folders) == NUM_CLASSES else "; a subset of the {} classes".format(NUM_CLASSES))
        load_image(self.paths[0])  # a directory of something else fails here, naming the file, not mid-training

    def _check_first_record(self):
        try:
            record = next(iter(tf.data.TFRecordDataset(self.paths[0]).take(1)))
            _parse_record(record)
        except StopIteration:
            raise FormatError("{}: an empty shard; re-run build_imagenet_data.py for it".format(self.paths[0]))
        except (tf.errors.OpError, ValueError) as error:
            raise FormatError("{}: not a TF-Slim ImageNet TFRecord shard ({}); give the shards "
                              "build_imagenet_data.py writes".format(self.paths[0], error_line(error)))

    def __len__(self):
        if self.examples is None:
            raise TypeError("the number of examples in TFRecord shards is not known without reading them all")
        return self.examples

    def index_checksum(self):
        # type: () -> str
        digest = hashlib.sha256()
        for line in self._index:
            digest.update(line.encode("utf-8") + b"\n")
        return digest.hexdigest()

    def dataset(self, style, size, batch, num_classes, seed=0):
        # type: (str, int, int, int, int) -> Any
        """Repeated batches (images float32 [batch, size, size, 3], labels int64 [batch]) for a model of
        `num_classes` outputs (1001: background class 0 kept), shuffled with `seed`, augmented as slim trains."""
        check_style(style, size)
        offset = label_offset(num_classes)
        autotune = tf.data.experimental.AUTOTUNE
        if self.layout == "folders":
            labels = tf.constant(np.asarray(self.labels) + offset)  # set for class folders
            data = tf.data.Dataset.from_tensor_slices((tf.constant(self.paths), labels))
            data = data.shuffle(len(self.paths), seed=seed, reshuffle_each_iteration=True).repeat()
            data = data.map(lambda path, label: (_decode(tf.io.read_file(path)), label), num_parallel_calls=autotune)
        else:
            shards = tf.data.Dataset.from_tensor_slices(tf.constant(self.paths))
            shards = shards.shuffle(len(self.paths), seed=seed, reshuffle_each_iteration=True).repeat()
            data = shards.interleave(tf.data.TFRecordDataset, cycle_length=min(8, len(self.paths)),
                                     num_parallel_calls=autotune)
            data = data.shuffle(SHUFFLE_EXAMPLES, seed=seed, reshuffle_each_iteration=True)
            slim_offset = offset - 1  # the records' labels are 1-based (0 is the background class)
            data = data.map(lambda record: _labelled(record, slim_offset, num_classes), num_parallel_calls=autotune)

        def augment(position, example):
            image, label = example
            return preprocess_for_train(image, style, size, tf.stack([tf.cast(seed, tf.int64), position])), label

        data = data.enumerate().map(augment, num_parallel_calls=autotune)
        return data.batch(int(batch), drop_remainder=True).prefetch(autotune)


_FEATURES = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
             "image/class/label": tf.io.FixedLenFeature([], tf.int64)}


def _parse_record(record):
    return tf.io.parse_single_example(record, _FEATURES)


def _labelled(record, shift, num_classes):
    features = _parse_record(record)
    label = features["image/class/label"] + shift
    checks = [tf.debugging.assert_greater_equal(label, tf.constant(0, tf.int64), message="image/class/label "
                                                "below the model's classes: not a TF-Slim ImageNet shard"),
              tf.debugging.assert_less(label, tf.constant(num_classes, tf.int64), message="image/class/label "
                                       "beyond the model's classes: not a TF-Slim ImageNet shard")]
    with tf.control_dependencies(checks):
        return _decode(features["image/encoded"]), tf.identity(label)
