"""Word <-> index vocabulary and fixed-length caption arrays, as AttnGAN uses them.

* Index 0 is `<end>`, which doubles as padding (AttnGAN `build_dictionary`).
* Words are kept when they occur at least `min_count` times in the captions the vocabulary is
  built from (AttnGAN keeps every word of train+test; we build from the training captions by
  default, so test-only words are simply unknown).  Unknown words are dropped from a caption,
  as AttnGAN drops words missing from `wordtoix`.
* Captions become `(max_len,)` int32 rows, `max_len = 18` (AttnGAN `TEXT.WORDS_NUM`).  A longer
  caption is cut at training time by AttnGAN's random word selection (`get_caption`: shuffle the
  positions, keep `max_len` of them, restore their order); at evaluation time by truncation, so
  evaluation is deterministic.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from condgan.errors import UserError

END = "<end>"
MAX_LEN = 18


class Vocabulary:
    """An ordered word list; `words[0] == "<end>"`."""

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if not words or words[0] != END:
            raise UserError(f"a vocabulary must start with {END!r} (index 0 = end/padding)")
        if len(set(words)) != len(words):
            raise UserError("a vocabulary must not repeat words")
        self.words = words
        self._index = {w: i for i, w in enumerate(words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def index(self, word: str) -> int | None:
        return self._index.get(word)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Token list -> indices; unknown words are dropped (AttnGAN does the same)."""
        return [self._index[t] for t in tokens if t in self._index and t != END]

    def unknown_words(self, caption: str) -> list[str]:
        """The words of `caption` this vocabulary lacks (a caption model ignores them)."""
        from condgan.text.tokenizer import tokenize

        return [w for w in tokenize(caption) if w not in self]

    def check_caption(self, caption: str) -> list[str]:
        """`unknown_words`; UserError when none of the caption's words is known."""
        from condgan.text.tokenizer import tokenize

        words = tokenize(caption) if isinstance(caption, str) else []
        unknown = [w for w in words if w not in self]
        if len(unknown) == len(words):
            known = ", ".join(self.words[1:13])
            raise UserError(f"caption {caption!r} has no word this model knows (unknown: "
                            f"{unknown or 'none given'}): use words from its vocabulary, e.g. {known}")
        return unknown

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Indices -> words, stopping at the first 0 (`<end>`/padding)."""
        out = []
        for i in ids:
            if int(i) == 0:
                break
            out.append(self.words[int(i)])
        return out

    def to_json(self) -> dict:
        return {"format": "condgan-vocabulary", "version": 1, "words": self.words}

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=True) + "\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Vocabulary":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise UserError(f"vocabulary {str(path)!r} does not exist: it is written by "
                            "`python -m condgan pretrain-damsm` into the run folder") from None
        except json.JSONDecodeError as error:
            raise UserError(f"vocabulary {str(path)!r} is not valid JSON ({error}): "
                            "rewrite it with Vocabulary.save") from None
        if not isinstance(data, dict) or not isinstance(data.get("words"), list) \
                or not all(isinstance(w, str) for w in data["words"]):
            raise UserError(f"vocabulary {str(path)!r} must be a JSON object with a 'words' list "
                            "of strings")
        return cls(data["words"])


def build_vocabulary(token_lists: Iterable[Sequence[str]], min_count: int = 1) -> Vocabulary:
    """Words seen at least `min_count` times, most frequent first (ties alphabetical), so the
    same captions always give the same indices."""
    counts = Counter(t for tokens in token_lists for t in tokens if t != END)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return Vocabulary([END] + kept)


def fit_length(ids: Sequence[int], max_len: int = MAX_LEN,
               rng: np.random.Generator | None = None) -> tuple[np.ndarray, int]:
    """One caption -> (`(max_len,)` int32 padded with 0, length).

    With `rng` (training) a caption longer than `max_len` keeps a random, order-preserving
    subset of its words (AttnGAN `get_caption`); without it (evaluation) the first `max_len`.
    An empty caption becomes a single `<end>` of length 1 so every row has a word to attend with.
    """
    ids = np.asarray(ids, dtype=np.int32)
    row = np.zeros(max_len, dtype=np.int32)
    if len(ids) == 0:
        return row, 1
    if len(ids) > max_len:
        keep = np.sort(rng.permutation(len(ids))[:max_len]) if rng is not None else np.arange(max_len)
        ids = ids[keep]
    row[:len(ids)] = ids
    return row, len(ids)


def pad_captions(captions: Sequence[Sequence[int]], max_len: int = MAX_LEN,
                 rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Many encoded captions -> (ids `(N, max_len)` int32, lengths `(N,)` int32)."""
    ids = np.zeros((len(captions), max_len), dtype=np.int32)
    lengths = np.zeros(len(captions), dtype=np.int32)
    for i, caption in enumerate(captions):
        ids[i], lengths[i] = fit_length(caption, max_len, rng)
    return ids, lengths


def encode_texts(texts: Sequence[str], vocabulary: Vocabulary,
                 max_len: int = MAX_LEN) -> tuple[np.ndarray, np.ndarray]:
    """Raw caption strings -> padded ids and lengths (deterministic), e.g. for a served model."""
    from condgan.text.tokenizer import tokenize
    return pad_captions([vocabulary.encode(tokenize(t)) for t in texts], max_len)
