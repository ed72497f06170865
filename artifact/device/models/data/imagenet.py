"""The ILSVRC2012 validation set, read from a directory the user gives, preprocessed as TF-Slim does.

Nothing here downloads: the user points `ImageNetVal(root)` at a directory holding the 50,000
`ILSVRC2012_val_%08d.JPEG` files (in the root or a subdirectory such as `val/` or
`ILSVRC/Data/CLS-LOC/val/`) and one of two ground-truth forms (in the root or one level below):

1. Kaggle "ImageNet Object Localization" form: `LOC_val_solution.csv` (`ImageId,PredictionString`,
   the label is the WNID that starts PredictionString) and, optionally, `LOC_synset_mapping.txt`.
2. Devkit form: `ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt` (line i holds the
   ILSVRC2012_ID of `ILSVRC2012_val_%08d.JPEG` % i) and `ILSVRC2012_devkit_t12/data/meta.mat`.

Labels. Class index 0..999 is the position of the WNID in the sorted list of the 1000 WNIDs, which is
TF-Slim's order (datasets/build_imagenet_data.py and datasets/imagenet.py sort the synsets; slim's
Inception/MobileNet checkpoints add a background class 0 in front, see `label_offset`). The devkit's
ILSVRC2012_IDs are in a different order; they are mapped ID -> WNID -> sorted index.

Preprocessing. A copy of TF-Slim's evaluation preprocessing (research/slim/preprocessing/), chosen
per model family as preprocessing_factory.py does (`PREPROCESSING_FOR_FAMILY`):

- "inception" (inception_v1..v4, mobilenet_v1), inception_preprocessing.preprocess_for_eval:
  `convert_image_dtype` to float32 in [0, 1], `tf.image.central_crop(central_fraction=0.875)`,
  bilinear resize to size x size with TF1's `resize_bilinear(align_corners=False)` (here its kernel
  `tf.raw_ops.ResizeBilinear(align_corners=False, half_pixel_centers=False)`, identical to
  `tf.compat.v1.image.resize_bilinear`; TF2's `tf.image.resize` uses half-pixel centers and differs), then
  `(x - 0.5) * 2` into [-1, 1].
- "vgg" (vgg_16, vgg_19, resnet_v1_50/101/152), vgg_preprocessing.preprocess_for_eval: aspect-
  preserving resize of the uint8 image so that its smaller side is 256 (`_smallest_size_at_least`:
  float32 scale, new sides rounded with `rint`; same legacy `resize_bilinear(align_corners=False)`),
  central crop at offsets ((h - size) // 2, (w - size) // 2) (slim's `_central_crop`: true division
  then `to_int32`), then subtraction of the channel means R 123.68, G 116.78, B 103.94; no scaling.

Images are decoded with `tf.io.decode_image(channels=3, expand_animations=False)`, so the
grayscale JPEGs and the one PNG stored as .JPEG in the validation set decode to RGB, as slim's
build_imagenet_data.py conversion made them.
"""
import csv
import io
import os
import re
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

import numpy as np

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.device.compat import error_line, tf

PREPROCESSING_FOR_FAMILY = {"inception": "inception", "mobilenet": "inception", "vgg": "vgg", "resnet": "vgg"}
STYLES = ("inception", "vgg")

CENTRAL_FRACTION = 0.875                    # inception_preprocessing.preprocess_for_eval
RESIZE_SIDE_MIN = 256                       # vgg_preprocessing._RESIZE_SIDE_MIN
CHANNEL_MEANS = (123.68, 116.78, 103.94)    # vgg_preprocessing._R_MEAN, _G_MEAN, _B_MEAN

NUM_CLASSES = 1000
LOC_SOLUTION = "LOC_val_solution.csv"
LOC_MAPPING = "LOC_synset_mapping.txt"
DEVKIT_GROUND_TRUTH = "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt"
DEVKIT_META = "ILSVRC2012_devkit_t12/data/meta.mat"
IMAGE_STEM = "ILSVRC2012_val_%08d"

_WNID = re.compile(r"n\d{8}\Z")
_IMAGE_ID = re.compile(r"ILSVRC2012_val_\d{8}\Z")
_IMAGE_FILE = re.compile(r"(ILSVRC2012_val_\d{8})\.(jpe?g|png)\Z", re.IGNORECASE)
_SKIP_DIRS = ("train", "test")               # never search the 1.28M training images for val files
_KNOWN_IMAGE_DIRS = ("val", "ILSVRC2012_img_val", "ILSVRC/Data/CLS-LOC/val")
_SEARCH_DEPTH = 4


# ---------------------------------------------------------------- preprocessing (TF-Slim, eval)

def _resize_bilinear_tf1(image, size):
    """TF1's `tf.image.resize_bilinear(align_corners=False)` on one HxWxC image; float32 out."""
    # The kernel behind TF1's tf.image.resize_bilinear and tf.compat.v1.image.resize_bilinear (called
    # directly: the compat wrapper logs a deprecation warning on TF 2).
    return tf.raw_ops.ResizeBilinear(
        images=tf.expand_dims(image, 0), size=size, align_corners=False, half_pixel_centers=False)[0]


def _inception_eval(image, size):
    image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    image = tf.image.central_crop(image, central_fraction=CENTRAL_FRACTION)
    image = _resize_bilinear_tf1(image, [size, size])
    image = tf.subtract(image, 0.5)
    return tf.multiply(image, 2.0)


def _vgg_eval(image, size):
    shape = tf.shape(image)
    height = tf.cast(shape[0], tf.float32)
    width = tf.cast(shape[1], tf.float32)
    side = tf.constant(float(RESIZE_SIDE_MIN), tf.float32)
    scale = tf.where(tf.greater(height, width), side / width, side / height)
    new_height = tf.cast(tf.math.rint(height * scale), tf.int32)
    new_width = tf.cast(tf.math.rint(width * scale), tf.int32)
    image = _resize_bilinear_tf1(image, tf.stack([new_height, new_width]))   # uint8 in, float32 out
    offsets = tf.stack([(new_height - size) // 2, (new_width - size) // 2, 0])
    image = tf.slice(image, offsets, [size, size, 3])
    image = tf.cast(image, tf.float32)
    return image - tf.constant(CHANNEL_MEANS, tf.float32)


_PREPROCESSORS = {}  # type: Dict[Tuple[str, int], Any]


def check_style(style, size=None):
    # type: (str, Optional[int]) -> None
    if style not in STYLES:
        raise ConfigError("preprocessing style {!r} is unknown; use one of: {} (model family -> style: {})".format(
            style, ", ".join(STYLES), ", ".join("{}={}".format(k, v) for k, v in PREPROCESSING_FOR_FAMILY.items())))
    if size is not None and (int(size) < 1 or (style == "vgg" and int(size) > RESIZE_SIDE_MIN)):
        raise ConfigError("input size {} is not valid for {} preprocessing; use {}".format(
            size, style, "1..{} (it crops from a {}-pixel smaller side)".format(RESIZE_SIDE_MIN, RESIZE_SIDE_MIN)
            if style == "vgg" else "a positive size"))


def _preprocessor(style, size):
    check_style(style, size)
    key = (style, int(size))
    if key not in _PREPROCESSORS:
        body = _inception_eval if style == "inception" else _vgg_eval
        _PREPROCESSORS[key] = tf.function(
            lambda image: body(image, key[1]), input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    return _PREPROCESSORS[key]


def preprocess(image, style, size):
    # type: (Any, str, int) -> np.ndarray
    """TF-Slim's evaluation preprocessing of one uint8 HxWx3 image -> float32 [size, size, 3]."""
    fn = _preprocessor(style, size)
    image = tf.convert_to_tensor(image)
    if image.dtype != tf.uint8 or image.shape.rank != 3 or image.shape[-1] != 3:
        raise ValueError("preprocess expects a uint8 HxWx3 image, got {} {}".format(image.dtype.name, image.shape))
    return fn(image).numpy()


def load_image(path):
    # type: (str) -> np.ndarray
    """Decode an image file to uint8 HxWx3 RGB (grayscale and PNG-in-.JPEG files included)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingInputError("{}: image file not found; check the path of the ImageNet directory".format(path))
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    except tf.errors.OpError as error:
        raise FormatError("{}: cannot be decoded as an image ({}); replace it with the original file from the "
                          "ILSVRC2012 validation archive".format(path, error_line(error)))
    return image.numpy()


# ---------------------------------------------------------------- ground truth

class _GroundTruth(object):
    def __init__(self, stems, wnids_per_image, wnids, names, source, label):
        self.stems = stems                      # image file stems, one per ground-truth entry
        self.wnids_per_image = wnids_per_image
        self.wnids = wnids                      # the 1000 WNIDs, sorted
        self.names = names                      # human-readable names in the order of wnids, or None
        self.source = source                    # path of the ground-truth file
        self.label = label                      # short form for descriptions


def _find_file(root, relative):
    # type: (str, str) -> Optional[str]
    """`relative` in root, else in one of root's immediate subdirectories (sorted), else None."""
    relative = relative.replace("/", os.sep)
    candidate = os.path.join(root, relative)
    if os.path.isfile(candidate):
        return candidate
    for name in sorted(os.listdir(root)):
        candidate = os.path.join(root, name, relative)
        if os.path.isdir(os.path.join(root, name)) and os.path.isfile(candidate):
            return candidate
    return None


def _utf8(path, fix, encoding="utf-8"):
    # type: (str, str, str) -> str
    """A text file's contents; one that is not UTF-8 is one line naming it (not a UnicodeDecodeError)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FormatError("{}: not UTF-8 ({}); {}".format(path, exc, fix))


def _read_synset_mapping(path):
    # type: (str) -> Tuple[List[str], List[str]]
    names = {}
    text = _utf8(path, "use the LOC_synset_mapping.txt of the Kaggle ImageNet download")
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        if not _WNID.match(parts[0]):
            raise FormatError("{} line {}: expected 'nXXXXXXXX name', found {!r}; use the LOC_synset_mapping.txt "
                              "of the Kaggle ImageNet download".format(path, number, line.strip()[:60]))
        if parts[0] in names:
            raise FormatError("{} line {}: WNID {} appears twice; use the LOC_synset_mapping.txt of the Kaggle "
                              "ImageNet download".format(path, number, parts[0]))
        names[parts[0]] = parts[1] if len(parts) > 1 else ""
    if len(names) != NUM_CLASSES:
        raise FormatError("{}: {} synsets, expected {} lines 'nXXXXXXXX name'; use the LOC_synset_mapping.txt of "
                          "the Kaggle ImageNet download".format(path, len(names), NUM_CLASSES))
    wnids = sorted(names)
    return wnids, [names[w] for w in wnids]


def _read_loc(solution, root):
    # type: (str, str) -> _GroundTruth
    stems, labels, seen = [], [], set()
    fix = "use the LOC_val_solution.csv of the Kaggle ImageNet Object Localization download"
    with io.StringIO(_utf8(solution, fix, "utf-8-sig"), newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if [field.strip() for field in header or []] != ["ImageId", "PredictionString"]:
            raise FormatError("{} line 1: expected the header 'ImageId,PredictionString', found {!r}; {}".format(
                solution, ",".join(header or [])[:60], fix))
        for row in reader:
            line = reader.line_num
            if not row or not "".join(row).strip():
                continue
            tokens = row[1].split() if len(row) == 2 else []
            if len(row) != 2 or not _IMAGE_ID.match(row[0].strip()) or not tokens or not _WNID.match(tokens[0]):
                raise FormatError("{} line {}: expected 'ILSVRC2012_val_NNNNNNNN,nXXXXXXXX x1 y1 x2 y2 ...', found "
                                  "{!r}; {}".format(solution, line, ",".join(row)[:60], fix))
            stem = row[0].strip()
            if stem in seen:
                raise FormatError("{} line {}: ImageId {} appears twice; {}".format(solution, line, stem, fix))
            seen.add(stem)
            stems.append(stem)
            labels.append(tokens[0])
    if not stems:
        raise FormatError("{}: no images listed; {}".format(solution, fix))

    beside = os.path.join(os.path.dirname(solution), LOC_MAPPING)
    mapping = beside if os.path.isfile(beside) else _find_file(root, LOC_MAPPING)
    if mapping:
        wnids, names = _read_synset_mapping(mapping)
        known = set(wnids)
        for stem, wnid in zip(stems, labels):
            if wnid not in known:
                raise FormatError("{}: image {} has WNID {}, which is not in {}; use the LOC files of one and the "
                                  "same Kaggle download".format(solution, stem, wnid, mapping))
        label = "{} + {}".format(LOC_SOLUTION, LOC_MAPPING)
    else:
        wnids, names = sorted(set(labels)), None
        if len(wnids) != NUM_CLASSES:
            raise FormatError("{}: only {} distinct WNIDs, so the {}-class order cannot be derived from it; add {} "
                              "(from the Kaggle download) next to it".format(
                                  solution, len(wnids), NUM_CLASSES, LOC_MAPPING))
        label = LOC_SOLUTION
    return _GroundTruth(stems, labels, wnids, names, solution, label)


def _first(value):
    """The first scalar inside the nested arrays scipy.io.loadmat makes of MATLAB struct fields."""
    while isinstance(value, np.ndarray):
        if value.size == 0:
            return None
        value = value.ravel()[0]
    return value


def _read_meta(path):
    # type: (str) -> Tuple[Dict[int, str], Dict[str, str]]
    """ILSVRC2012_ID -> WNID and WNID -> words of the 1000 leaf synsets of the devkit's meta.mat."""
    from scipy.io import loadmat

    fix = "use the meta.mat of ILSVRC2012_devkit_t12.tar.gz"
    try:
        mat = loadmat(path)
    except Exception as error:  # scipy raises ValueError, TypeError, MatReadError... for a bad file
        raise FormatError("{}: cannot be read as a MATLAB file ({}); {}".format(path, error_line(error), fix))
    synsets = mat.get("synsets")
    fields = getattr(getattr(synsets, "dtype", None), "names", None) or ()
    for field in ("ILSVRC2012_ID", "WNID"):
        if field not in fields:
            raise FormatError("{}: variable 'synsets' {} field {}; {}".format(
                path, "is missing" if synsets is None else "has no", field, fix))
    id_to_wnid, words = {}, {}
    for synset in synsets.ravel():
        try:
            synset_id = int(_first(synset["ILSVRC2012_ID"]))
            children = int(_first(synset["num_children"])) if "num_children" in fields else 0
        except (TypeError, ValueError):
            raise FormatError("{}: synsets.ILSVRC2012_ID/num_children must be integers; {}".format(path, fix))
        if not 1 <= synset_id <= NUM_CLASSES or children != 0:
            continue
        wnid = str(_first(synset["WNID"]))
        if not _WNID.match(wnid) or synset_id in id_to_wnid:
            raise FormatError("{}: synset ILSVRC2012_ID {} has WNID {!r} (malformed or a repeated ID); {}".format(
                path, synset_id, wnid, fix))
        id_to_wnid[synset_id] = wnid
        words[wnid] = str(_first(synset["words"])) if "words" in fields else ""
    if len(id_to_wnid) != NUM_CLASSES or len(set(id_to_wnid.values())) != NUM_CLASSES:
        raise FormatError("{}: {} leaf synsets with ILSVRC2012_ID 1..{} and distinct WNIDs, expected {}; {}".format(
            path, len(id_to_wnid), NUM_CLASSES, NUM_CLASSES, fix))
    return id_to_wnid, words


def _read_devkit(ground_truth):
    # type: (str) -> _GroundTruth
    data_dir = os.path.dirname(ground_truth)
    meta = os.path.join(data_dir, "meta.mat")
    if not os.path.isfile(meta):
        raise MissingInputError("{}: not found next to {}; extract the whole ILSVRC2012_devkit_t12.tar.gz".format(
            meta, os.path.basename(ground_truth)))
    id_to_wnid, words = _read_meta(meta)
    lines = _utf8(ground_truth, "use ILSVRC2012_validation_ground_truth.txt of the devkit").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    stems, labels = [], []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text.isdigit() or int(text) not in id_to_wnid:
            raise FormatError("{} line {}: expected one ILSVRC2012_ID 1..{}, found {!r}; use the file of "
                              "ILSVRC2012_devkit_t12.tar.gz".format(ground_truth, number, NUM_CLASSES, text[:40]))
        stems.append(IMAGE_STEM % number)
        labels.append(id_to_wnid[int(text)])
    if not stems:
        raise FormatError("{}: empty; use the file of ILSVRC2012_devkit_t12.tar.gz".format(ground_truth))
    wnids = sorted(words)
    return _GroundTruth(stems, labels, wnids, [words[w] for w in wnids], ground_truth,
                        "{} + meta.mat".format(os.path.basename(ground_truth)))


def load_ground_truth(root):
    # type: (str) -> _GroundTruth
    """The validation ground truth found in root or one level below: LOC CSV first, else the devkit."""
    solution = _find_file(root, LOC_SOLUTION)
    if solution:
        return _read_loc(solution, root)
    devkit = _find_file(root, DEVKIT_GROUND_TRUTH)
    if devkit:
        return _read_devkit(devkit)
    raise MissingInputError(
        "{}: no ImageNet validation ground truth; looked for {} (Kaggle, with {}) and {} (+ meta.mat) in it and its "
        "subdirectories; put one of them there".format(root, LOC_SOLUTION, LOC_MAPPING, DEVKIT_GROUND_TRUTH))


# ---------------------------------------------------------------- images on disk

def _images_in(directory):
    # type: (str) -> Dict[str, str]
    found = {}  # type: Dict[str, str]
    try:
        names = os.listdir(directory)
    except OSError:
        return found
    for name in names:
        match = _IMAGE_FILE.match(name)
        if match:
            found.setdefault(match.group(1), name)
    return found


def find_image_dir(root):
    # type: (str) -> Tuple[Optional[str], Dict[str, str]]
    """The first directory holding ILSVRC2012_val_* images: root, val/, ILSVRC/Data/CLS-LOC/val/, then a
    breadth-first search (depth <= 4, not into train/ or test/); with its stem -> file name map."""
    candidates = [root] + [os.path.join(root, *d.split("/")) for d in _KNOWN_IMAGE_DIRS]
    for directory in candidates:
        found = _images_in(directory)
        if found:
            return directory, found
    level = [root]
    for _ in range(_SEARCH_DEPTH):
        below = []
        for directory in level:
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for name in names:
                path = os.path.join(directory, name)
                if name.startswith(".") or name.lower() in _SKIP_DIRS or not os.path.isdir(path):
                    continue
                found = _images_in(path)
                if found:
                    return path, found
                below.append(path)
        level = below
    return None, {}


class ImageNetVal(object):
    """The ILSVRC2012 validation images that have ground truth, sorted by file name, with labels 0..999."""

    def __init__(self, root, limit=0):
        # type: (str, int) -> None
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise MissingInputError("{}: ImageNet directory not found; pass the directory holding the ILSVRC2012 "
                                    "validation JPEGs and their ground truth".format(root))
        if int(limit) < 0:
            raise ConfigError("ImageNet limit {} is negative; use 0 for all images or a positive count".format(limit))
        self.root = root
        truth = load_ground_truth(root)
        order = sorted(range(len(truth.stems)), key=lambda i: truth.stems[i])
        total = len(order)
        wanted = order[:int(limit)] if limit else order

        image_dir, on_disk = find_image_dir(root)
        if image_dir is None:
            raise MissingInputError("{}: no ILSVRC2012_val_*.JPEG files in it or its subdirectories (val/, "
                                    "ILSVRC/Data/CLS-LOC/val/, ...); extract ILSVRC2012_img_val.tar there".format(root))
        missing = [i for i in wanted if truth.stems[i] not in on_disk]
        if missing:
            present = wanted.index(missing[0])
            raise MissingInputError(
                "{}: missing, one of {} of the {} images listed in {} that are not in {}; add them{}".format(
                    os.path.join(image_dir, truth.stems[missing[0]] + ".JPEG"), len(missing), len(wanted),
                    truth.source, image_dir,
                    " or evaluate only the first {} (limit={})".format(present, present) if present else ""))

        index = {wnid: i for i, wnid in enumerate(truth.wnids)}
        self.paths = [os.path.join(image_dir, on_disk[truth.stems[i]]) for i in wanted]
        self.labels = np.array([index[truth.wnids_per_image[i]] for i in wanted], dtype=np.int64)
        self.wnids = list(truth.wnids)
        self.names = list(truth.names) if truth.names is not None else None
        self.ground_truth_source = truth.source
        self.image_dir = image_dir
        self.total = total
        if len(wanted) < total:
            extent = "first {} of {} images".format(len(wanted), total)
        else:
            extent = "all {} images".format(total)
        self.description = "ILSVRC2012 validation, {} ({})".format(extent, truth.label)

    def __len__(self):
        return len(self.paths)

    def batches(self, style, size, batch_size):
        # type: (str, int, int) -> Iterator[Tuple[np.ndarray, np.ndarray]]
        """(x float32 [b, size, size, 3], y int64 [b]) in file-name order; the last batch may be smaller."""
        _preprocessor(style, size)
        if int(batch_size) < 1:
            raise ConfigError("batch size {} must be at least 1".format(batch_size))
        for start in range(0, len(self.paths), int(batch_size)):
            stop = start + int(batch_size)
            x = np.stack([preprocess(load_image(p), style, size) for p in self.paths[start:stop]])
            yield x, self.labels[start:stop]

    def images(self, style, size, count):
        # type: (str, int, int) -> List[np.ndarray]
        """The first `count` images (all if 0), each preprocessed as a batch of one [1, size, size, 3]."""
        paths = self.paths[:count] if count else self.paths
        return [preprocess(load_image(p), style, size)[None] for p in paths]


# ---------------------------------------------------------------- labels of slim checkpoints, evaluation

def label_offset(num_classes):
    # type: (int) -> int
    """1 for slim's 1001-class checkpoints (class 0 = background: Inception, MobileNet), 0 for 1000 (VGG, ResNet)."""
    if num_classes == NUM_CLASSES + 1:
        return 1
    if num_classes == NUM_CLASSES:
        return 0
    raise ConfigError("an ImageNet classifier has 1000 or 1001 (with background) outputs, not {}; check the "
                      "model's num_classes".format(num_classes))


def logits_to_imagenet_1000(logits, num_classes):
    # type: (Any, int) -> np.ndarray
    """Scores [n, 1000] in sorted-WNID order: the background column of a 1001-class model dropped."""
    offset = label_offset(num_classes)
    logits = np.asarray(logits.numpy() if hasattr(logits, "numpy") else logits)
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise ConfigError("the model returned scores of shape {}, expected [batch, {}]; check num_classes".format(
            logits.shape, num_classes))
    return logits[:, offset:]


def evaluate_classifier(predict_batch, val, style, size, num_classes, batch_size=32, progress=None):
    # type: (Callable[[np.ndarray], Any], ImageNetVal, str, int, int, int, Optional[Callable[[int, int], None]]) -> Dict[str, float]
    """top1/top5/precision/recall/f1 of `predict_batch` (x -> logits) on `val`, slim-preprocessed."""
    from artifact.device.measure.accuracy import classification_metrics

    label_offset(num_classes)
    scores, labels = [], []
    done, total = 0, len(val)
    for x, y in val.batches(style, size, batch_size):
        scores.append(logits_to_imagenet_1000(predict_batch(x), num_classes).astype(np.float32))
        labels.append(y)
        done += len(y)
        if progress is not None:
            progress(done, total)
    if not scores:
        raise ConfigError("the ImageNet validation set at {} has no images to evaluate".format(val.root))
    return classification_metrics(np.concatenate(scores), np.concatenate(labels))


# ---------------------------------------------------------------- stand-in photos for timing

SAMPLE_PHOTO = "grace_hopper.jpg"


def sample_photo_path():
    # type: () -> str
    import matplotlib

    try:
        from matplotlib import cbook

        path = cbook.get_sample_data(SAMPLE_PHOTO, asfileobj=False)
    except Exception:  # older/newer matplotlib without it in get_sample_data: look in mpl-data
        path = os.path.join(matplotlib.get_data_path(), "sample_data", SAMPLE_PHOTO)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingInputError("{}: matplotlib's sample photo is not installed; reinstall matplotlib or pass the "
                                "ImageNet validation directory".format(path))
    return path


def sample_photos(style, size):
    # type: (str, int) -> List[np.ndarray]
    """A stand-in for ImageNet when timing without it: a real photograph that ships with matplotlib
    (Grace Hopper, a 600x512 (HxW) RGB JPEG) and its horizontal flip, preprocessed as [1, size, size, 3].
    Timing does not depend on pixel values; accuracy is never computed on these."""
    image = load_image(sample_photo_path())
    return [preprocess(photo, style, size)[None] for photo in (image, np.ascontiguousarray(image[:, ::-1]))]
