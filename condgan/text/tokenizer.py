"""AttnGAN's caption tokeniser: lower case, `\\w+` words, ASCII only.

AttnGAN (Xu et al. 2018, `datasets.py::load_captions`) replaces the mojibake pair "\\ufffd\\ufffd"
by a space, lower-cases the caption, keeps the runs of word characters that NLTK's
`RegexpTokenizer(r'\\w+')` finds (punctuation is dropped), and strips non-ASCII characters from
each token, dropping tokens that end up empty.  We do the same with `re`, so vocabularies built
here agree word for word with the published `captions.pickle` (5,450 entries for CUB birds).
"""
from __future__ import annotations

import re
from typing import Iterable

_WORD = re.compile(r"\w+")


def tokenize(caption: str) -> list[str]:
    """Split one caption into lower-case ASCII words ("A red-bird!" -> ["a", "red", "bird"])."""
    caption = caption.replace("\ufffd\ufffd", " ").lower()
    tokens = (t.encode("ascii", "ignore").decode("ascii") for t in _WORD.findall(caption))
    return [t for t in tokens if t]


def tokenize_all(captions: Iterable[str]) -> list[list[str]]:
    """Tokenise many captions; captions with no words are kept as empty lists (the caller decides)."""
    return [tokenize(c) for c in captions]
