"""The paper's NMT inputs (tensorflow/nmt English->German GNMT) from a directory the user gives.

`--nmt DIR` is a directory laid out like nmt's `out_dir` plus the test set, e.g. the files of
nmt's `wmt16_en_de.sh` next to a trained (or released) GNMT model:

    DIR/hparams                           nmt's hyper-parameters (JSON; optional)
    DIR/vocab.bpe.32000.en, .de           vocabularies, one token per line
    DIR/newstest2015.tok.bpe.32000.en     test sources (tokenized, BPE), one sentence per line
    DIR/newstest2015.tok.bpe.32000.de     test references (tokenized, BPE)
    DIR/checkpoint                        TF checkpoint state file (optional)
    DIR/translate.ckpt-NNN.index, .data-*  the checkpoint
    DIR/nmt.toml                          optional overrides (see below)

Discovery (`NmtData.from_directory` / `load_nmt_data`):
- ``hparams``: nmt writes its HParams as JSON into ``out_dir/hparams`` (misc_utils.save_hparams).
  Read are `src`, `tgt`, `num_units`, `num_layers` (and `num_encoder_layers` /
  `num_decoder_layers`), `encoder_type`, `attention`, `attention_architecture`, `unit_type`,
  `residual`, `pass_hidden_state`, `share_vocab`, `forget_bias`, `vocab_prefix`, `test_prefix`,
  `subword_option`, `sos`, `eos`, `tgt_max_len_infer`, `beam_width`. Its paths were absolute on
  the training machine, so only their basenames are used, looked up in DIR. Without the file the
  values of nmt's `standard_hparams/wmt16_gnmt_4_layer.json` are assumed (`STANDARD_HPARAMS`).
- vocabularies ``<basename(vocab_prefix)>.<src>`` / ``.<tgt>`` (default ``vocab.bpe.32000``);
- test set ``<basename(test_prefix)>.<src>`` / ``.<tgt>`` (default
  ``newstest2015.tok.bpe.32000``);
- checkpoint: the `model_checkpoint_path` of the ``checkpoint`` state file (basename only, it is
  absolute on the training machine), else the single ``*.ckpt*.index`` in DIR.
- ``nmt.toml`` may set `src`, `tgt`, `vocab_prefix`, `test_prefix`, `checkpoint` (paths relative
  to DIR or absolute); it wins over ``hparams``.

Text handling follows nmt exactly where it matters for BLEU:
- Vocabulary = nmt's `vocab_utils.check_vocab`: one token per line (`load_vocab` strips each
  line); if the first three tokens are not ``<unk>``, ``<s>``, ``</s>`` these are prepended.
  Unknown words map to id 0 (`UNK_ID`, the default value of `create_vocab_tables`), ids out of
  range map back to ``<unk>`` (`index_to_string_table_from_file(default_value=UNK)`).
- Sentences are split on " " with empty tokens dropped (`tf.string_split` in
  `iterator_utils.get_infer_iterator`); lines end at "\\n" only (TextLineDataset).
- `subword_option=bpe`: references are cleaned with `evaluation_utils._clean` (strip, then remove
  every "@@ "), translations are joined with `misc_utils.format_bpe_text` (a token ending in "@@"
  is glued to the next one; a trailing "@@" piece is dropped). `spm` is handled like nmt too.
- BLEU (`bleu`): nmt scores the *tokenized*, BPE-merged text with its own multi-bleu-style
  `scripts/bleu.compute_bleu` (4-grams, no smoothing, brevity penalty exp(1 - r/c), text split on
  spaces). `bleu` computes the same statistic with ``sacrebleu.corpus_bleu(hyps, [refs],
  tokenize="none", smooth_method="none")``: no further tokenization (the text is already
  Moses-tokenized) and no smoothing, so the number is comparable with the BLEU nmt reports (and
  with Table I), not with sacreBLEU's detokenized default.

Python 3.6 compatible (Jetson TX2 images): no dataclasses, no walrus, no postponed annotations.
"""
import glob
import json
import os
import re
from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import ConfigError, FormatError, MissingInputError
from artifact.core.tomlfile import load_toml
from artifact.device.measure.accuracy import bleu  # noqa: F401 (the one BLEU; NmtData.bleu and callers use it from here)
from artifact.device.models.data.vocabulary import EOS, SOS, UNK, UNK_ID, Vocabulary  # noqa: F401 (re-exported)

# the vocabulary (one class for every translation model) and the special tokens live in vocabulary.py

HPARAMS_FILE = "hparams"
OVERRIDES_FILE = "nmt.toml"
STATE_FILE = "checkpoint"
OVERRIDE_KEYS = ("src", "tgt", "vocab_prefix", "test_prefix", "checkpoint")

STANDARD_HPARAMS = {
    # nmt/standard_hparams/wmt16_gnmt_4_layer.json (the model of the paper), plus the language
    # pair and file prefixes of nmt/scripts/wmt16_en_de.sh and the README's WMT16 example.
    "src": "en",
    "tgt": "de",
    "vocab_prefix": "vocab.bpe.32000",
    "test_prefix": "newstest2015.tok.bpe.32000",
    "num_units": 1024,
    "num_layers": 4,
    "num_encoder_layers": 4,
    "num_decoder_layers": 4,
    "encoder_type": "gnmt",
    "attention": "normed_bahdanau",
    "attention_architecture": "gnmt_v2",
    "unit_type": "lstm",
    "residual": True,
    "pass_hidden_state": True,
    "share_vocab": False,
    "forget_bias": 1.0,
    "dropout": 0.2,
    "subword_option": "bpe",
    "sos": SOS,
    "eos": EOS,
    "tgt_max_len_infer": None,
    "beam_width": 10,
}  # type: Dict[str, Any]
"""Values assumed for fields the ``hparams`` file lacks (or for a directory without one)."""


# --------------------------------------------------------------------------- vocabulary


def load_vocabulary(path, unk=UNK, sos=SOS, eos=EOS):
    # type: (str, str, str, str) -> Vocabulary
    """Read a vocab file like nmt's `check_vocab` (special tokens prepended when absent)."""
    if not os.path.isfile(path):
        raise MissingInputError("vocabulary file {} not found; copy nmt's vocabulary (e.g. "
                                "vocab.bpe.32000.en from wmt16_en_de.sh) there or set vocab_prefix "
                                "in nmt.toml".format(path))
    words = [line.strip() for line in _read_lines(path)]
    if len(words) < 3:
        raise FormatError("{}: {} lines, a vocabulary needs at least 3 (nmt asserts it); give the "
                          "full vocabulary file".format(path, len(words)))
    prepended = False
    if words[0] != unk or words[1] != sos or words[2] != eos:
        words = [unk, sos, eos] + words
        prepended = True
    return Vocabulary(words, path, prepended, unk, sos, eos)


# --------------------------------------------------------------------------- text


def _read_lines(path):
    # type: (str) -> List[str]
    """Lines of a UTF-8 file split at "\\n" only (like tf.data.TextLineDataset), "\\r" removed."""
    try:
        with open(path, "r", encoding="utf-8", newline="\n") as handle:
            return [line.rstrip("\n").rstrip("\r") for line in handle]
    except UnicodeDecodeError as exc:
        raise FormatError("{}: not UTF-8 text ({}); convert the file to UTF-8".format(path, exc))


def split_tokens(line):
    # type: (str) -> List[str]
    """Tokens of one line as nmt's input pipeline splits it (on " ", empty tokens dropped)."""
    return [token for token in line.split(" ") if token]


def read_parallel(src_path, tgt_path, limit=None):
    # type: (str, str, Optional[int]) -> Tuple[List[List[str]], List[List[str]]]
    """Token lists of a parallel test set; both files must have the same number of lines.

    `limit`: keep only the first `limit` sentence pairs (None = all).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError("NMT sentence limit must be a positive integer or None, got {!r}; fix "
                          "the limit option".format(limit))
    for path in (src_path, tgt_path):
        if not os.path.isfile(path):
            raise MissingInputError("test file {} not found; copy nmt's test set (e.g. "
                                    "newstest2015.tok.bpe.32000.en/.de) there or set test_prefix in "
                                    "nmt.toml".format(path))
    src_lines, tgt_lines = _read_lines(src_path), _read_lines(tgt_path)
    if len(src_lines) != len(tgt_lines):
        raise FormatError("parallel files differ in length: {} has {} lines, {} has {}; give "
                          "sentence-aligned source and reference files".format(
                              src_path, len(src_lines), tgt_path, len(tgt_lines)))
    if limit is not None:
        src_lines, tgt_lines = src_lines[:limit], tgt_lines[:limit]
    return [split_tokens(line) for line in src_lines], [split_tokens(line) for line in tgt_lines]


def clean_text(sentence, subword_option="bpe"):
    # type: (str, Optional[str]) -> str
    """nmt's `evaluation_utils._clean`: strip; bpe: drop every "@@ "; spm: undo "\u2581"."""
    sentence = sentence.strip()
    if subword_option == "bpe":
        sentence = re.sub("@@ ", "", sentence)
    elif subword_option == "spm":
        sentence = "".join(sentence.split()).replace("\u2581", " ").lstrip()
    return sentence


def merge_bpe(text):
    # type: (str) -> str
    """BPE joins removed: ``"new@@ s paper"`` -> ``"news paper"`` (nmt's `_clean`, bpe)."""
    return clean_text(text, "bpe")


def tokens_to_text(tokens, subword_option="bpe"):
    # type: (List[str], Optional[str]) -> str
    """A translation's tokens as nmt writes them (`nmt_utils.get_translation`).

    bpe: `misc_utils.format_bpe_text` (pieces ending in "@@" glued to the next token; a dangling
    final piece is dropped); spm: `format_spm_text`; otherwise tokens joined with spaces.
    """
    if subword_option == "bpe":
        words, word = [], ""
        for symbol in tokens:
            if symbol.endswith("@@"):
                word += symbol[:-2]
            else:
                words.append(word + symbol)
                word = ""
        return " ".join(words)
    if subword_option == "spm":
        return "".join("".join(tokens).split()).replace("\u2581", " ").strip()
    return " ".join(tokens)


# --------------------------------------------------------------------------- discovery


def _load_hparams(path):
    # type: (str) -> dict
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except ValueError as exc:
        raise FormatError("{}: not valid JSON ({}); give the hparams file nmt wrote into its "
                          "out_dir or remove it".format(path, exc))
    if not isinstance(data, dict):
        raise FormatError("{}: expected a JSON object of nmt hyper-parameters, got {}; give the "
                          "hparams file nmt wrote into its out_dir".format(path, type(data).__name__))
    return data


def _load_overrides(path):
    # type: (str) -> dict
    data = load_toml(path, "nmt.toml", ConfigError)
    for key, value in data.items():
        if key not in OVERRIDE_KEYS:
            raise ConfigError("{}: unknown key {!r}; valid keys: {}".format(
                path, key, ", ".join(OVERRIDE_KEYS)))
        if not isinstance(value, str) or not value.strip():
            raise ConfigError("{}: key {!r} must be a non-empty string, got {!r}".format(
                path, key, value))
    return data


def _basename(value, field, hparams_path):
    # type: (object, str, str) -> str
    if not isinstance(value, str) or not value.strip():
        raise FormatError("{}: field {!r} must be a path string, got {!r}; fix it or set {} in "
                          "{}".format(hparams_path, field, value, field, OVERRIDES_FILE))
    return os.path.basename(value.rstrip("/\\").replace("\\", "/"))


def _state_file_prefix(path):
    # type: (str) -> Optional[str]
    """`model_checkpoint_path` of a TF checkpoint state file (text proto), or None."""
    for line in _read_lines(path):
        match = re.match(r'\s*model_checkpoint_path\s*:\s*"(.*)"\s*$', line)
        if match:
            return match.group(1)
    return None


def find_nmt_checkpoint(directory, override=None):
    # type: (str, Optional[str]) -> str
    """Checkpoint prefix in `directory`: `override`, else the state file's latest, else the one
    ``*.ckpt*.index``."""
    if override is not None:
        prefix = os.path.join(directory, override)
        if not os.path.isfile(prefix + ".index"):
            raise MissingInputError("{}: checkpoint {!r} names no checkpoint ({}.index not found); "
                                    "give the prefix of an nmt checkpoint, e.g. "
                                    "translate.ckpt-340000".format(
                                        os.path.join(directory, OVERRIDES_FILE), override, prefix))
        return prefix
    state = os.path.join(directory, STATE_FILE)
    if os.path.isfile(state):
        latest = _state_file_prefix(state)
        if latest:
            prefix = os.path.join(directory, os.path.basename(latest.replace("\\", "/")))
            if not os.path.isfile(prefix + ".index"):
                raise MissingInputError("{}: model_checkpoint_path {!r} is not here ({}.index not "
                                        "found); copy that checkpoint into {} or set checkpoint in "
                                        "{}".format(state, latest, prefix, directory, OVERRIDES_FILE))
            return prefix
    found = sorted(glob.glob(os.path.join(glob.escape(directory), "*.ckpt*.index")))
    if len(found) == 1:
        return found[0][:-len(".index")]
    if not found:
        raise MissingInputError("no nmt checkpoint in {}: looked for a '{}' state file and for "
                                "*.ckpt*.index; copy the trained model (translate.ckpt-*) there".format(
                                    directory, STATE_FILE))
    raise ConfigError("{} holds {} checkpoints ({}); name one with checkpoint = \"...\" in {}".format(
        directory, len(found), ", ".join(os.path.basename(f)[:-len(".index")] for f in found),
        os.path.join(directory, OVERRIDES_FILE)))


class NmtData(object):
    """Test set, vocabularies, checkpoint and hyper-parameters of a tensorflow/nmt model.

    Attributes: `src`, `tgt` (language suffixes), `src_vocab`, `tgt_vocab` (`Vocabulary`),
    `sources`, `references` (token lists, BPE as in the files), `checkpoint_prefix` (None only
    when discovery was asked not to require one), `hparams` (dict: `STANDARD_HPARAMS` updated with
    the ``hparams`` file and nmt.toml), `hparams_path` (None without one), `subword_option`,
    `src_path`, `tgt_path`, `description` (one line).
    """

    def __init__(self, src, tgt, src_vocab, tgt_vocab, sources, references, checkpoint_prefix,
                 hparams, hparams_path=None, src_path=None, tgt_path=None, directory=None):
        # type: (str, str, Vocabulary, Vocabulary, List[List[str]], List[List[str]], Optional[str], dict, Optional[str], Optional[str], Optional[str], Optional[str]) -> None  # noqa: E501
        self.src, self.tgt = src, tgt
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.sources, self.references = sources, references
        self.checkpoint_prefix = checkpoint_prefix
        self.hparams = hparams
        self.hparams_path = hparams_path
        self.src_path, self.tgt_path = src_path, tgt_path
        self.directory = directory
        self.subword_option = hparams.get("subword_option") or None
        test_name = os.path.basename(src_path)[:-len(src) - 1] if src_path else "test set"
        self.description = (
            "tensorflow/nmt {}->{}: {} sentences of {}.{}/.{}, vocabularies {}/{} tokens, "
            "checkpoint {}, {}".format(
                src, tgt, len(sources), test_name, src, tgt, len(src_vocab), len(tgt_vocab),
                os.path.basename(checkpoint_prefix) if checkpoint_prefix else "none",
                "hparams from " + hparams_path if hparams_path
                else "no hparams file (wmt16_gnmt_4_layer.json assumed)"))

    def __len__(self):
        return len(self.sources)

    def reference_texts(self):
        # type: () -> List[str]
        """References as nmt scores them: tokenized text with BPE merged (`clean_text`)."""
        return [clean_text(" ".join(tokens), self.subword_option) for tokens in self.references]

    def bleu(self, hypotheses):
        # type: (List[object]) -> float
        """`bleu` of BPE-merged hypotheses (strings or token lists) against `reference_texts`."""
        return bleu(hypotheses, self.reference_texts())

    @classmethod
    def from_directory(cls, directory, limit=None, require_checkpoint=True):
        # type: (str, Optional[int], bool) -> NmtData
        """Discover the layout described in the module docstring in `directory` (``--nmt DIR``)."""
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise MissingInputError("--nmt {}: no such directory; give the directory with nmt's "
                                    "vocabularies, test set and checkpoint".format(directory))
        hparams = dict(STANDARD_HPARAMS)  # type: Dict[str, Any]
        hparams_file = os.path.join(directory, HPARAMS_FILE)
        hparams_path = hparams_file if os.path.isfile(hparams_file) else None
        if hparams_path is not None:
            hparams.update(_load_hparams(hparams_path))
        overrides_path = os.path.join(directory, OVERRIDES_FILE)
        overrides = _load_overrides(overrides_path) if os.path.isfile(overrides_path) else {}

        where = hparams_path or "defaults"
        src = overrides.get("src") or hparams.get("src") or STANDARD_HPARAMS["src"]
        tgt = overrides.get("tgt") or hparams.get("tgt") or STANDARD_HPARAMS["tgt"]
        for field, value in (("src", src), ("tgt", tgt)):
            if not isinstance(value, str):
                raise FormatError("{}: field {!r} must be a language suffix string, got {!r}; fix "
                                  "it or set {} in {}".format(where, field, value, field, OVERRIDES_FILE))
        prefixes = {}  # type: Dict[str, Tuple[str, Optional[str]]]
        for field in ("vocab_prefix", "test_prefix"):
            if field in overrides:
                prefixes[field] = (os.path.join(directory, overrides[field]), overrides_path)
            elif hparams_path is not None and hparams.get(field):
                prefixes[field] = (os.path.join(directory, _basename(hparams[field], field, where)),
                                   hparams_path)
            else:
                prefixes[field] = (os.path.join(directory, STANDARD_HPARAMS[field]), "the default")
        hparams["src"], hparams["tgt"] = src, tgt
        for field, what in (("vocab_prefix", "vocabularies"), ("test_prefix", "test set")):
            prefix, origin = prefixes[field]
            for path in (prefix + "." + src, prefix + "." + tgt):
                if not os.path.isfile(path):
                    raise MissingInputError(
                        "--nmt {}: {} not found (looked for {}.{} and .{}, {} from {}); copy nmt's "
                        "{} there or set {} in {}".format(
                            directory, path, os.path.basename(prefix), src, tgt, field, origin, what,
                            field, overrides_path))
        vocab_prefix, test_prefix = prefixes["vocab_prefix"][0], prefixes["test_prefix"][0]

        sos = hparams.get("sos") or SOS
        eos = hparams.get("eos") or EOS
        src_vocab = load_vocabulary(vocab_prefix + "." + src, sos=sos, eos=eos)
        tgt_vocab = load_vocabulary(vocab_prefix + "." + tgt, sos=sos, eos=eos)
        src_path, tgt_path = test_prefix + "." + src, test_prefix + "." + tgt
        sources, references = read_parallel(src_path, tgt_path, limit)
        try:
            checkpoint = find_nmt_checkpoint(directory, overrides.get("checkpoint"))
        except MissingInputError:
            if require_checkpoint:
                raise
            checkpoint = None
        return cls(src, tgt, src_vocab, tgt_vocab, sources, references, checkpoint, hparams,
                   hparams_path, src_path, tgt_path, directory)


def load_nmt_data(directory, limit=None, require_checkpoint=True):
    # type: (str, Optional[int], bool) -> NmtData
    """`NmtData.from_directory`."""
    return NmtData.from_directory(directory, limit, require_checkpoint)
