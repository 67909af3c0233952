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
present in it is picked, then one of its words in the caption, then a word of another value of
that group; a caption with no group word has no negative (mask 0).  Swapping one token for one
token keeps the caption length.

A spec may name the groups to use, and weigh them: "shapes:shape=3,colour,size" swaps only those
three, and picks shape three times as often as each of the others when a caption has all three.
Weighing matters because an encoder learns an attribute in proportion to the negatives that need
it: with shape, colour and size swapped evenly the bind DAMSM reads shape from a real image 0.78-0.91
of the time, with shape alone 0.997.  Without weights the groups are picked uniformly.

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


def _split_spec(spec: str) -> tuple[str, str]:
    """"shapes:shape=3,colour" -> ("shapes", "shape=3,colour"); an existing file is a source alone."""
    if ":" not in spec or Path(spec).is_file():
        return spec, ""
    source, only = spec.rsplit(":", 1)
    return source, only


def _selection(spec: str, only: str) -> dict[str, float]:
    """The groups a spec names, in order, each with its weight (1 unless "group=weight")."""
    chosen: dict[str, float] = {}
    for item in (part.strip() for part in only.split(",")):
        name, eq, weight = item.partition("=")
        try:
            value = float(weight) if eq else 1.0
        except ValueError:
            value = float("nan")
        if not name or not value > 0 or value == float("inf"):
            raise UserError(f"swap_negatives {spec!r}: {item!r} is not a group name with an "
                            "optional positive weight, e.g. 'shapes:shape=3,colour,size'")
        chosen[name.strip()] = value
    return chosen


def load_word_groups(spec: str) -> dict[str, dict[str, list[str]]]:
    """"shapes" (the built-in Shapes attribute words), "shapes:shape,size" (some of its groups;
    weights, "shape=3", are read by `group_weights`) or a path to a JSON file of word groups,
    optionally followed by ":" and a selection of them."""
    source, only = _split_spec(spec)
    if source == "shapes":
        from condgan.data.shapes import word_groups
        groups = word_groups()
    else:
        path = Path(source)
        if path.suffix != ".json" or not path.is_file():
            raise UserError(f"swap_negatives {spec!r} is neither one of {list(BUILTIN)} nor an "
                            "existing .json file of word groups ({group: {value: [words]}}, see "
                            "condgan/text/word_swap.py)")
        groups = json.loads(path.read_text())
        _check_groups(groups, spec)
    if not only:
        return groups
    chosen = list(_selection(spec, only))
    unknown = sorted(set(chosen) - set(groups))
    if unknown:
        raise UserError(f"swap_negatives {spec!r}: unknown group(s) {unknown}; {source} has the "
                        f"groups {list(groups)} (e.g. '{source}:{list(groups)[0]}')")
    return {g: groups[g] for g in chosen}


def group_weights(spec: str) -> dict[str, float]:
    """The weight of each group a spec selects ("shapes:shape=3,colour" -> shape 3, colour 1);
    empty when the spec selects none (every group, weight 1)."""
    source, only = _split_spec(spec)
    return _selection(spec, only) if only else {}


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
    return WordSwap(load_word_groups(spec), vocabulary, exchange, group_weights(spec))


class WordSwap:
    """Swap negatives over a vocabulary's token ids; with probability `exchange`, a caption that
    names two values of one group gets them exchanged instead (the binding negative).  `weights`
    (group -> positive number, 1 where missing) make a caption's groups picked in proportion."""

    def __init__(self, groups: dict[str, dict[str, list[str]]], vocabulary, exchange: float = 0.0,
                 weights: dict[str, float] | None = None):
        _check_groups(groups, "the word-group table")
        if not 0.0 <= exchange <= 1.0:
            raise UserError(f"swap_exchange={exchange}: a probability, from 0 (never) to 1 (every "
                            "caption that names two values of one group)")
        weights = weights or {}
        unknown = sorted(set(weights) - set(groups))
        if unknown or not all(w > 0 for w in weights.values()):
            raise UserError(f"swap weights {weights}: each must name one of the groups "
                            f"{list(groups)} and be a positive number")
        self.exchange = float(exchange)
        self.weight = np.asarray([weights.get(g, 1.0) for g in groups], np.float64)
        # equal weights keep the uniform draw, so earlier runs' negative streams stay as they were
        self.weighted = bool(np.ptp(self.weight) > 0)
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
            if self.exchange and rng.random() < self.exchange and self._exchange(out[row], found,
                                                                                 rng):
                continue
            group = self._pick(sorted(found), rng)
            pos, value = found[group][int(rng.integers(len(found[group])))]
            choices = [v for v, ids in enumerate(self.words[group]) if v != value and len(ids)]
            ids = self.words[group][choices[int(rng.integers(len(choices)))]]
            out[row, pos] = ids[int(rng.integers(len(ids)))]
        return out, mask


    def _pick(self, groups: list[int], rng: np.random.Generator) -> int:
        """One of `groups` (indices), uniformly or in proportion to the groups' weights."""
        if not self.weighted:
            return groups[int(rng.integers(len(groups)))]
        p = self.weight[groups] / self.weight[groups].sum()
        return groups[int(rng.choice(len(groups), p=p))]

    def _exchange(self, row: np.ndarray, found: dict[int, list[tuple[int, int]]], rng) -> bool:
        """Exchange, in place, two words of one group that name different values (the group
        picked as for a swap); False (nothing changed) when the caption names no two different
        values of any group."""
        pairs = {g: [(hits[i][0], hits[j][0]) for i in range(len(hits))
                     for j in range(i + 1, len(hits)) if hits[i][1] != hits[j][1]]
                 for g, hits in sorted(found.items())}
        pairs = {g: ps for g, ps in pairs.items() if ps}
        if not pairs:
            return False
        if self.weighted:
            candidates = pairs[self._pick(sorted(pairs), rng)]
        else:   # uniform over all pairs, as before weights existed
            candidates = [pair for ps in pairs.values() for pair in ps]
        p, q = candidates[int(rng.integers(len(candidates)))]
        row[p], row[q] = row[q], row[p]
        return True
