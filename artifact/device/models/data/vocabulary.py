"""One vocabulary for every translation model: tokens <-> ids, as nmt's lookup tables build them.

nmt's GNMT reads its vocabulary files (`nmt_data.load_vocabulary`); the mini NMT builds its
vocabulary from the num2words corpus (`bundled.number_corpus`, with <pad> in the unknown slot 0).
"""
from typing import Dict, List, Optional  # noqa: F401 (names of the type comments; typing has them on 3.6)

from artifact.core.errors import FormatError

UNK, SOS, EOS = "<unk>", "<s>", "</s>"
UNK_ID = 0
"""nmt's `vocab_utils.UNK_ID`: the id of every word that is not in the vocabulary."""


class Vocabulary(object):
    """Token <-> id table of one side, as nmt's lookup tables build it from a vocab file."""

    def __init__(self, words, path=None, prepended=False, unk=UNK, sos=SOS, eos=EOS):
        # type: (List[str], Optional[str], bool, str, str, str) -> None
        self.words = list(words)
        self.path = path
        self.prepended = prepended  # True when <unk> <s> </s> were not the first three lines
        self.unk, self.sos, self.eos = unk, sos, eos
        self._index = {}  # type: Dict[str, int]
        for i, word in enumerate(self.words):
            if word in self._index:
                raise FormatError("{}: line {} repeats the token {!r} (first on line {}); nmt's "
                                  "vocabulary table needs unique tokens, remove the duplicate".format(
                                      path or "vocabulary", i + 1 - (3 if prepended else 0), word,
                                      self._index[word] + 1 - (3 if prepended else 0)))
            self._index[word] = i
        for token in (sos, eos):
            if token not in self._index:
                raise FormatError("{}: the token {!r} is missing; a vocabulary needs {}, {} and {} "
                                  "(load it with load_vocabulary, which prepends them)".format(
                                      path or "vocabulary", token, unk, sos, eos))
        self.sos_id = self._index[sos]
        self.eos_id = self._index[eos]
        self.unk_id = UNK_ID

    def __len__(self):
        return len(self.words)

    def __contains__(self, token):
        return token in self._index

    def ids(self, tokens):
        # type: (List[str]) -> List[int]
        """Ids of `tokens`; unknown words get `UNK_ID` (0) as in nmt."""
        return [self._index.get(token, UNK_ID) for token in tokens]

    def tokens(self, ids):
        # type: (List[int]) -> List[str]
        """Tokens of `ids`; ids outside the table give ``<unk>`` as in nmt."""
        n = len(self.words)
        return [self.words[int(i)] if 0 <= int(i) < n else self.unk for i in ids]

    def __repr__(self):
        return "Vocabulary({} tokens from {})".format(len(self.words), self.path)
