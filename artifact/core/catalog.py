"""Which models the artifact knows, as data: the mini-zoo's names and Table I's metadata (no Keras).

`TABLE_I` keeps, per model of the paper's Table I, what TF-Slim / tensorflow/nmt and the paper say
and what this artifact's build of it measures (`expected_*`, checked by
tests/device/models/architectures/test_paper_architectures.py against the Keras builders in
`artifact.device.models.architectures.paper_architectures`). The report reads it without
TensorFlow; the device side attaches the builders to these rows.
"""
import collections
from typing import Any, List  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError

PaperModel = collections.namedtuple("PaperModel", [
    "name",             # TF-Slim's nets_factory name for the CNNs; "nmt" for the GNMT
    "family",           # "inception", "resnet", "vgg", "mobilenet", "nmt"
    "scope",            # top-level TF-Slim / nmt scope, e.g. "InceptionV3"
    "input_size",       # 224 or 299 (square RGB input), None for nmt
    "num_classes",      # 1000 / 1001 (CNNs); target vocabulary size for nmt
    "slim_params",      # TF-Slim's trainable count of the default build, None for nmt
    "expected_params",  # this artifact's trainable count of the default build (tested)
    "expected_depth",   # `depth` of the default build (tested)
    "paper_params",     # Table I "#param.s"
    "paper_depth",      # Table I "Depth"
    "paper_top1",       # Table I Top-1 (%) or None
    "paper_top5",       # Table I Top-5 (%) or None
    "paper_bleu",       # Table I BLEU (nmt) or None
    "notes",            # one paragraph: what differs from Table I and why
])

# Columns: name, family, scope, input size, classes, TF-Slim params, ours, our depth, then Table I:
# params, depth, top-1, top-5, BLEU.
TABLE_I = collections.OrderedDict((row.name, row) for row in [
    PaperModel("nmt", "nmt", "dynamic_seq2seq", None, 36549, None, 210883585, 4, 211e6, 4, None, None, 27.4,
               "tensorflow/nmt GNMT, wmt16_gnmt_4_layer.json (4x1024 LSTM, 1 bi + 3 uni encoder "
               "layers, residual, normed Bahdanau gnmt_v2 attention), BPE vocabulary 36549 per "
               "side: 210,883,585 parameters = Table I's 211M. Depth 4 = LSTM layers per stack."),
    PaperModel("inception_v1", "inception", "InceptionV1", 224, 1001, 6618649, 6618649, 22, 7.0e6, 22, 69.8, 89.6,
               None, "Table I's 7M is 6.6M rounded; depth 22 = longest weight path."),
    PaperModel("inception_v2", "inception", "InceptionV2", 224, 1001, 11179361, 11179361, 34, 11.3e6, 32, 73.9,
               91.4, None,
               "Params within 1.1% of Table I; slim's v2 has 34 weight layers on its longest "
               "path (Table I: 32). Table I top-5 91.4 vs slim README 91.8."),
    PaperModel("inception_v3", "inception", "InceptionV3", 299, 1001, 23819401, 23819401, 48, 27.1e6, 42, 78.0,
               94.0, None,
               "Table I's 27.1M counts the training-only aux head (slim: 27,145,970 with it, "
               "23,819,401 without; build with aux_logits=True for the former). Longest weight "
               "path 48 vs Table I's 42 (the Inception-v3 paper's own layer count)."),
    PaperModel("inception_v4", "inception", "InceptionV4", 299, 1001, 42649769, 42649769, 76, 25.6e6, 58, 80.2,
               95.2, None,
               "Table I's 25.6M matches no Inception v4: slim's has 42,649,769 (46,009,106 with "
               "the aux head). Longest weight path 76 vs Table I's 58."),
    PaperModel("resnet_v1_50", "resnet", "resnet_v1_50", 224, 1000, 25557032, 25557032, 50, 25.5e6, 50, 75.2,
               90.2, None, "Matches Table I. Table I top-5 90.2 vs slim README 92.2."),
    PaperModel("resnet_v1_101", "resnet", "resnet_v1_101", 224, 1000, 44549160, 44549160, 101, 51e6, 101, 76.4,
               92.9, None, "Table I's 51M is 14.5% above slim's 44,549,160; depth matches."),
    PaperModel("resnet_v1_152", "resnet", "resnet_v1_152", 224, 1000, 60192808, 60192808, 152, 76.5e6, 152, 76.8,
               93.2, None, "Table I's 76.5M is 27% above slim's 60,192,808; depth matches."),
    PaperModel("vgg_16", "vgg", "vgg_16", 224, 1000, 138357544, 138357544, 16, 138e6, 16, 71.5, 89.8, None,
               "Matches Table I."),
    PaperModel("vgg_19", "vgg", "vgg_19", 224, 1000, 143667240, 143667240, 19, 138e6, 19, 71.1, 89.8, None,
               "Table I repeats VGG-16's 138M; slim's vgg_19 has 143,667,240."),
    PaperModel("mobilenet_v1", "mobilenet", "MobilenetV1", 224, 1001, 4233001, 4233001, 28, 4.2e6, 28, 70.7,
               89.56, None, "MobileNet v1 1.0/224 (BatchNorm with gamma). Matches Table I."),
])

# The mini-zoo (artifact.device.models.architectures.mini_zoo): small members of the paper's families,
# trained here on data shipped inside installed packages. name -> kind of task.
MINI_ZOO = collections.OrderedDict([
    ("mini_vgg", "classification"), ("mini_resnet", "classification"), ("mini_inception", "classification"),
    ("mini_mobilenet", "classification"), ("mini_nmt", "translation"),
])


def known_models():
    # type: () -> List[str]
    return list(MINI_ZOO) + list(TABLE_I)


def check_model(name, where="model"):
    # type: (Any, str) -> str
    if not isinstance(name, str) or name not in MINI_ZOO and name not in TABLE_I:
        raise ConfigError("{}: model {!r} unknown; known: {}".format(where, name, ", ".join(known_models())))
    return name
