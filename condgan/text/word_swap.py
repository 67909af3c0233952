"""Hard mismatched captions: the true caption with one attribute word swapped for another value.

AttnGAN's discriminator learns text matching from "wrong" pairs: a real image scored against
another image's caption.  A random other caption usually differs in many words, so the
discriminator can reject it on the easiest attribute alone (on Shapes: colour and position) and
never has to look at the rest.  Measured on the shipped Shapes run: its conditional logit picks
the true caption among shape-swapped variants of it 29-39 % of the time (chance 25 %), and the
frozen DAMSM only 50 %, so nothing tells the generator which shape a caption asks for.

A swap negative keeps everything but one attribute word, e.g. "a small red *circle* at the top"
-> "a small red *triangle* at the top", so the only way to reject it is that attribute.  Word
groups say which words are interchangeable and which are synonyms (a swap must change the
*value*: "square" -> "box" would not be a negative):

    {"shape": {"circle": ["circle", "disk"], "square": ["square", "box"], ...},
     "colour": {"red": ["red"], ...}}

Groups come from a JSON file of that form, or the built-in "shapes" set.  Per caption one group
present in it is picked uniformly, then one of its words in the caption, then a word of another
value of that group; a caption with no group word has no negative (mask 0).  Swapping one token
for one token keeps the caption length.

Exchange negatives (`exchange`, a probability) test binding rather than vocabulary: a caption
that names two values of one group, one per object ("a *red* circle at the top and a *blue*
square at the bottom"), gets the two words exchanged ("a *blue* circle ... a *red* square").
Every word of the negative is still true of the image; only which object it belongs to is not,
so a judge that reads the caption as a bag of words cannot reject it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from condgan.errors import UserError

BUILTIN = ("shapes",)


def load_word_groups(spec: str) -> dict[str, dict[str, list[str]]]:
    """"shapes" (the built-in Shapes attribute words), "shapes:shape,size" (some of its groups)
    or a path to a JSON file of word groups."""
    builtin, _, only = spec.partition(":")
    if builtin == "shapes":
        from condgan.data.shapes import word_groups
        groups = word_groups()
        chosen = [g.strip() for g in only.split(",")] if only else list(groups)
        unknown = sorted(set(chosen) - set(groups))
        if unknown or not chosen:
            raise UserError(f"swap_negatives {spec!r}: unknown group(s) {unknown}; the built-in "
                            f"Shapes groups are {list(groups)} (e.g. 'shapes:shape,size')")
        return {g: groups[g] for g in chosen}
    path = Path(spec)
    if path.suffix != ".json" or not path.is_file():
        raise UserError(f"swap_negatives {spec!r} is neither one of {list(BUILTIN)} nor an "
                        "existing .json file of word groups ({group: {value: [words]}}, see "
                        "condgan/text/word_swap.py)")
    groups = json.loads(path.read_text())
    _check_groups(groups, spec)
    return groups


def _check_groups(groups, source: str) -> None:
    ok = isinstance(groups, dict) and all(
        isinstance(values, dict) and len(values) >= 2 and all(
            isinstance(words, list) and words and all(isinstance(w, str) for w in words)
            for words in values.values())
        for values in groups.values())
    if not ok:
        raise UserError(f"word groups in {source} must map each group to at least two values, "
                        "each a non-empty list of words: {\"colour\": {\"red\": [\"red\"], "
                        "\"blue\": [\"blue\"]}}")


def word_swap_for(spec: str | None, exchange: float, vocabulary) -> "WordSwap | None":
    """The negatives a config asks for (its `swap_negatives` and `swap_exchange`), or None."""
    if not spec:
        if exchange:
            raise UserError(f"swap_exchange={exchange} needs swap_negatives, the word groups whose "
                            "words it exchanges: e.g. --set swap_negatives=shapes")
        return None
    return WordSwap(load_word_groups(spec), vocabulary, exchange)


class WordSwap:
    """Swap negatives over a vocabulary's token ids; with probability `exchange`, a caption that
    names two values of one group gets them exchanged instead (the binding negative)."""

    def __init__(self, groups: dict[str, dict[str, list[str]]], vocabulary, exchange: float = 0.0):
        _check_groups(groups, "the word-group table")
        if not 0.0 <= exchange <= 1.0:
            raise UserError(f"swap_exchange={exchange}: a probability, from 0 (never) to 1 (every "
                            "caption that names two values of one group)")
        self.exchange = float(exchange)
        # token id -> (group index, value index); per group and value, the token ids of its words
        self.slot: dict[int, tuple[int, int]] = {}
        self.words: list[list[np.ndarray]] = []
        for g, values in enumerate(groups.values()):
            per_value = [np.asarray([vocabulary.index(w) for w in words if vocabulary.index(w)],
                                    np.int32) for words in values.values()]
            # a group swaps only if the vocabulary knows at least two of its values
            if sum(len(ids) > 0 for ids in per_value) >= 2:
                self.slot.update({int(i): (g, v) for v, ids in enumerate(per_value) for i in ids})
            self.words.append(per_value)
        if not self.slot:
            raise UserError("none of the swap words is in the vocabulary: check the word groups "
                            "against the DAMSM's vocabulary.json")

    def negatives(self, tokens: np.ndarray, lengths: np.ndarray, rng: np.random.Generator):
        """(B, T) ids, (B,) lengths -> (swapped ids (B, T), mask (B,) float32: 1 where swapped)."""
        out = np.array(tokens, dtype=np.int32, copy=True)
        mask = np.zeros(len(out), np.float32)
        for row in range(len(out)):
            found: dict[int, list[tuple[int, int]]] = {}
            for pos in range(int(lengths[row])):
                hit = self.slot.get(int(out[row, pos]))
                if hit is not None:
                    found.setdefault(hit[0], []).append((pos, hit[1]))
            if not found:
                continue
            mask[row] = 1.0
            # (no draw at exchange 0: the swap stream of runs without exchanges stays as it was)
            if self.exchange and rng.random() < self.exchange and _exchange(out[row], found, rng):
                continue
            group = sorted(found)[int(rng.integers(len(found)))]
            pos, value = found[group][int(rng.integers(len(found[group])))]
            choices = [v for v, ids in enumerate(self.words[group]) if v != value and len(ids)]
            ids = self.words[group][choices[int(rng.integers(len(choices)))]]
            out[row, pos] = ids[int(rng.integers(len(ids)))]
        return out, mask


def _exchange(row: np.ndarray, found: dict[int, list[tuple[int, int]]], rng) -> bool:
    """Exchange, in place, two words of one group that name different values; False (nothing
    changed) when the caption names no two different values of any group."""
    pairs = [(hits[i][0], hits[j][0]) for _, hits in sorted(found.items())
             for i in range(len(hits)) for j in range(i + 1, len(hits)) if hits[i][1] != hits[j][1]]
    if not pairs:
        return False
    p, q = pairs[int(rng.integers(len(pairs)))]
    row[p], row[q] = row[q], row[p]
    return True
