"""AttnGAN tokenisation, vocabulary JSON round trip and fixed-length captions."""
import json

import numpy as np
import pytest

from condgan.errors import UserError
from condgan.text import (END, Vocabulary, build_vocabulary, encode_texts, fit_length,
                          pad_captions, tokenize)


def test_tokenize_like_attngan():
    assert tokenize("A small, RED bird -- with wing-bars!") == \
        ["a", "small", "red", "bird", "with", "wing", "bars"]
    assert tokenize("caf\u00e9 bird\ufffd\ufffdbeak") == ["caf", "bird", "beak"]  # ASCII only
    assert tokenize("... !!") == []


def test_vocabulary_round_trip(tmp_path):
    captions = ["a red circle", "a blue circle on white", "a red square"]
    vocab = build_vocabulary([tokenize(c) for c in captions], min_count=1)
    assert vocab.words[0] == END and len(vocab) == 8
    assert vocab.words[1:3] == ["a", "circle"]      # most frequent first, ties alphabetical
    ids = vocab.encode(tokenize("A red circle, unknown!"))
    assert vocab.decode(ids + [0, 5]) == ["a", "red", "circle"]  # unknown dropped, stops at 0
    path = vocab.save(tmp_path / "vocabulary.json")
    assert Vocabulary.load(path) == vocab
    assert json.loads(path.read_text())["words"][0] == END
    cut = build_vocabulary([tokenize(c) for c in captions], min_count=2)
    assert cut.words == [END, "a", "circle", "red"]


def test_vocabulary_load_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        Vocabulary.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"words": ["a", "b"]}')
    with pytest.raises(UserError, match="<end>"):
        Vocabulary.load(bad)


def test_fixed_length_random_selection_and_truncation():
    ids = list(range(1, 26))  # 25 words > 18
    row, n = fit_length(ids)  # evaluation: deterministic truncation
    assert n == 18 and row.tolist() == list(range(1, 19))
    rows = [fit_length(ids, rng=np.random.default_rng(s))[0] for s in range(5)]
    for r in rows:  # AttnGAN get_caption: an order-preserving random subset of 18 words
        assert len(set(r.tolist())) == 18 and np.all(np.diff(r) > 0) and set(r) <= set(ids)
    assert len({tuple(r) for r in rows}) > 1
    short, n = fit_length([4, 5], rng=np.random.default_rng(0))
    assert n == 2 and short.tolist() == [4, 5] + [0] * 16
    empty, n = fit_length([])
    assert n == 1 and not empty.any()
    tokens, lengths = pad_captions([[1, 2, 3], ids])
    assert tokens.shape == (2, 18) and tokens.dtype == np.int32 and lengths.tolist() == [3, 18]


def test_encode_texts():
    vocab = Vocabulary([END, "red", "circle"])
    tokens, lengths = encode_texts(["Red circle.", "circle"], vocab, max_len=4)
    assert tokens.tolist() == [[1, 2, 0, 0], [2, 0, 0, 0]] and lengths.tolist() == [2, 1]
