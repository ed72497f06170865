"""Tiny training sets in the layouts people have, built from real photos and real sentences of installed packages.

- ILSVRC2012 train: three classes (the first three ILSVRC2012 WNIDs), each a real photograph (matplotlib's
  grace_hopper.jpg, scikit-learn's china.jpg and flower.jpg) cut into IMAGES_PER_CLASS different crops and
  JPEG-encoded; as class folders (with a LOC_synset_mapping.txt placing the three among 1000 synsets) and as
  TF-Slim TFRecord shards with the fields build_imagenet_data.py writes.
- WMT16 en-de in tensorflow/nmt's layout: num2words English / German numbers as sentence pairs, their words
  as the vocabularies.
"""
import os

import numpy as np

WNIDS = ["n01440764", "n01443537", "n01484850"]      # tench, goldfish, great white shark
FILLER = ["n0{:07d}".format(i) for i in range(997)]  # sort before the real three: their labels are 997..999
LABELS = {wnid: 997 + i for i, wnid in enumerate(WNIDS)}
IMAGES_PER_CLASS = 4


def _photos():
    from sklearn.datasets import load_sample_images

    from artifact.device.models.data.imagenet import load_image, sample_photo_path

    return [load_image(sample_photo_path())] + [np.asarray(image) for image in load_sample_images().images]


def _crops(photo):
    """IMAGES_PER_CLASS different JPEGs of one photo (crops of several sizes and aspect ratios, one flipped)."""
    import tensorflow as tf

    h, w = photo.shape[:2]
    boxes = [(0, 0, h // 2, w // 2), (h // 4, w // 4, h // 2, w // 3), (h // 3, 0, 2 * h // 3, w // 2),
             (0, w // 3, h // 2, 2 * w // 3)]
    out = []
    for i, (top, left, height, width) in enumerate(boxes[:IMAGES_PER_CLASS]):
        crop = photo[top:top + height, left:left + width]
        if i % 2:
            crop = crop[:, ::-1]
        out.append(tf.io.encode_jpeg(np.ascontiguousarray(crop), quality=90).numpy())
    return out


def examples():
    """[(wnid, file name, JPEG bytes)] of the tiny set."""
    found = []
    for wnid, photo in zip(WNIDS, _photos()):
        for i, data in enumerate(_crops(photo)):
            found.append((wnid, "{}_{}.JPEG".format(wnid, 100 + i), data))
    return found


def synset_mapping(path):
    with open(str(path), "w") as handle:
        for wnid in sorted(FILLER + WNIDS):
            handle.write("{} {}\n".format(wnid, "a class" if wnid in FILLER else "a fish"))


def imagenet_train_folders(root, mapping=True, subdir="train"):
    """`root/<subdir>/nXXXXXXXX/*.JPEG` (+ root/LOC_synset_mapping.txt): Kaggle's and the tar archives' layout."""
    root = str(root)
    base = os.path.join(root, subdir) if subdir else root
    for wnid, name, data in examples():
        os.makedirs(os.path.join(base, wnid), exist_ok=True)
        with open(os.path.join(base, wnid, name), "wb") as handle:
            handle.write(data)
    if mapping:
        synset_mapping(os.path.join(root, "LOC_synset_mapping.txt"))
    return root


def imagenet_train_shards(root, shards=2):
    """`root/train-0000N-of-0000S`: tf.train.Examples as TF-Slim's build_imagenet_data.py writes them."""
    import tensorflow as tf

    root = str(root)
    os.makedirs(root, exist_ok=True)

    def feature(value):
        if isinstance(value, int):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value if isinstance(value, bytes)
                                                                      else value.encode()]))

    items = examples()
    for shard in range(shards):
        path = os.path.join(root, "train-{:05d}-of-{:05d}".format(shard, shards))
        with tf.io.TFRecordWriter(path) as writer:
            for wnid, name, data in items[shard::shards]:
                height, width = tf.io.decode_jpeg(data).shape[:2]
                example = tf.train.Example(features=tf.train.Features(feature={
                    "image/height": feature(int(height)), "image/width": feature(int(width)),
                    "image/colorspace": feature("RGB"), "image/channels": feature(3),
                    "image/class/label": feature(LABELS[wnid] + 1), "image/class/synset": feature(wnid),
                    "image/class/text": feature("a fish"), "image/format": feature("JPEG"),
                    "image/filename": feature(name), "image/encoded": feature(data)}))
                writer.write(example.SerializeToString())
    return root


NUMBERS = list(range(1, 121))


def number_pairs():
    from num2words import num2words

    def tokens(text):
        return " ".join(text.replace("-", " - ").replace(",", " ,").split())

    return [(tokens(num2words(n, lang="en")), tokens(num2words(n, lang="de"))) for n in NUMBERS]


def write_lines(path, lines):
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


def vocabulary(lines):
    words = []
    for line in lines:
        for word in line.split(" "):
            if word and word not in words:
                words.append(word)
    return ["<unk>", "<s>", "</s>"] + words


def wmt_train_dir(root, pairs=None, vocabularies=True):
    """nmt's wmt16_en_de.sh output layout: train.tok.clean.bpe.32000.{en,de} and vocab.bpe.32000.{en,de}."""
    root = str(root)
    os.makedirs(root, exist_ok=True)
    pairs = number_pairs() if pairs is None else pairs
    write_lines(os.path.join(root, "train.tok.clean.bpe.32000.en"), [en for en, _ in pairs])
    write_lines(os.path.join(root, "train.tok.clean.bpe.32000.de"), [de for _, de in pairs])
    if vocabularies:
        write_lines(os.path.join(root, "vocab.bpe.32000.en"), vocabulary(en for en, _ in number_pairs()))
        write_lines(os.path.join(root, "vocab.bpe.32000.de"), vocabulary(de for _, de in number_pairs()))
    return root


NMT_UNITS, NMT_LAYERS = 16, 2
NMT_HPARAMS = {"src": "en", "tgt": "de", "num_units": NMT_UNITS, "num_layers": NMT_LAYERS,
               "num_encoder_layers": NMT_LAYERS, "num_decoder_layers": NMT_LAYERS, "encoder_type": "gnmt",
               "attention": "normed_bahdanau", "attention_architecture": "gnmt_v2", "unit_type": "lstm",
               "residual": True, "vocab_prefix": "/data/wmt16/vocab.bpe.32000",
               "train_prefix": "/data/wmt16/train.tok.clean.bpe.32000",
               "test_prefix": "/data/wmt16/newstest2015.tok.bpe.32000", "subword_option": "bpe",
               "tgt_max_len_infer": 12, "forget_bias": 1.0, "src_max_len": 50, "tgt_max_len": 50}


def nmt_model_dir(root, test_numbers=(3, 21, 77, 110)):
    """`--nmt DIR` of a GNMT small enough for a CPU test (nmt's own architecture, 16 units, 2 layers): hparams as
    nmt writes them, the number vocabularies, a newstest file of number pairs, a checkpoint in nmt's names."""
    import json

    from artifact.device.models.architectures.paper_architectures import gnmt
    from artifact.device.models.checkpoints.gnmt_checkpoint import write_nmt_checkpoint

    root = str(root)
    os.makedirs(root, exist_ok=True)
    pairs = dict(zip(NUMBERS, number_pairs()))
    src_words = vocabulary(en for en, _ in number_pairs())
    tgt_words = vocabulary(de for _, de in number_pairs())
    write_lines(os.path.join(root, "vocab.bpe.32000.en"), src_words)
    write_lines(os.path.join(root, "vocab.bpe.32000.de"), tgt_words)
    write_lines(os.path.join(root, "newstest2015.tok.bpe.32000.en"), [pairs[n][0] for n in test_numbers])
    write_lines(os.path.join(root, "newstest2015.tok.bpe.32000.de"), [pairs[n][1] for n in test_numbers])
    with open(os.path.join(root, "hparams"), "w") as handle:
        json.dump(NMT_HPARAMS, handle)
    model = gnmt(src_vocab_size=len(src_words), tgt_vocab_size=len(tgt_words), num_units=NMT_UNITS,
                 num_layers=NMT_LAYERS, dropout=0.0)
    write_nmt_checkpoint(model, os.path.join(root, "translate.ckpt-100"))
    return root
