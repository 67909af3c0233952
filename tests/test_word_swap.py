"""Swap negatives: one attribute word replaced by another value of its group, and the
discriminator trained with them learns to reject those captions on real images."""
import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from attngan_fixtures import TINY, encoded_splits, fixed_batch, shapes_and_damsm, train_attngan
from condgan.data.shapes import word_groups
from condgan.errors import UserError
from condgan.text import Vocabulary, pad_captions, tokenize
from condgan.text.word_swap import WordSwap, load_word_groups, word_swap_for
from condgan.families.attngan import losses as L
from condgan.families.attngan.data import CaptionStream
from condgan.families.attngan.family import build_models
from condgan.families.damsm.family import load_damsm

CAPTIONS = ["a small red circle at the top on a black background",
            "a big blue box on the left",
            "a tiny green round dot in the center",      # "round dot" is not swapped; size is
            "there is nothing here"]


def _vocab():
    words = sorted({w for c in CAPTIONS for w in tokenize(c)} | {"square", "triangle", "diamond",
                                                                 "rhombus", "disk", "yellow", "white"})
    return Vocabulary(["<end>", *words])


def _value_of(groups, word):
    return {(g, v) for g, values in groups.items() for v, ws in values.items() if word in ws}


def test_one_word_swapped_for_another_value_of_its_group():
    groups, vocab = word_groups(), _vocab()
    swap = WordSwap(groups, vocab)
    tokens, lengths = pad_captions([vocab.encode(tokenize(c)) for c in CAPTIONS], 18)
    rng = np.random.default_rng(0)
    seen_groups = set()
    for _ in range(30):
        out, mask = swap.negatives(tokens, lengths, rng)
        np.testing.assert_array_equal(mask, [1, 1, 1, 0])
        np.testing.assert_array_equal(out[3], tokens[3])       # nothing to swap: unchanged
        for row in range(3):
            diff = np.flatnonzero(out[row] != tokens[row])
            assert len(diff) == 1 and diff[0] < lengths[row]
            old, new = vocab.words[tokens[row, diff[0]]], vocab.words[out[row, diff[0]]]
            (g_old, v_old), = _value_of(groups, old)
            (g_new, v_new), = _value_of(groups, new)
            assert g_old == g_new and v_old != v_new, (old, new)   # a new value, not a synonym
            seen_groups.add(g_old)
    assert seen_groups == {"shape", "colour", "size", "background"}


def test_swaps_are_reproducible_from_the_rng():
    vocab = _vocab()
    swap = WordSwap(word_groups(), vocab)
    tokens, lengths = pad_captions([vocab.encode(tokenize(c)) for c in CAPTIONS], 18)
    a = swap.negatives(tokens, lengths, np.random.default_rng(5))
    b = swap.negatives(tokens, lengths, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])


def test_bad_word_groups_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="neither one of"):
        load_word_groups(str(tmp_path / "missing.json"))
    bad = tmp_path / "groups.json"
    bad.write_text(json.dumps({"colour": {"red": ["red"]}}))          # one value: nothing to swap to
    with pytest.raises(UserError, match="at least two values"):
        load_word_groups(str(bad))
    good = tmp_path / "colours.json"
    good.write_text(json.dumps({"colour": {"red": ["red"], "blue": ["blue", "navy"]}}))
    assert load_word_groups(str(good))["colour"]["blue"] == ["blue", "navy"]
    assert list(load_word_groups("shapes:shape,size")) == ["shape", "size"]
    with pytest.raises(UserError, match="unknown group"):
        load_word_groups("shapes:shapes")
    with pytest.raises(UserError, match="vocabulary"):
        WordSwap({"x": {"a": ["zzz"], "b": ["yyy"]}}, _vocab())


def test_d_loss_with_swap_negatives_against_numpy():
    rng = np.random.default_rng(1)
    u_r, c_r, u_f, c_f, c_w, c_s = (rng.normal(size=5).astype(np.float32) for _ in range(6))
    mask = np.array([1, 0, 1, 1, 0], np.float32)
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    real = (sp(-u_r) + sp(-c_r)) / 2
    expected = real + (sp(u_f) + sp(c_f) + sp(c_w) + mask * sp(c_s)) / (3 + mask)
    got = np.asarray(L.d_stage_loss(u_r, c_r, u_f, c_f, c_w, c_s, mask))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # without a swap, AttnGAN's loss exactly
    np.testing.assert_allclose(np.asarray(L.d_stage_loss(u_r, c_r, u_f, c_f, c_w, c_s, 0 * mask)),
                               np.asarray(L.d_stage_loss(u_r, c_r, u_f, c_f, c_w)), rtol=1e-6)


TWO_OBJECTS = ["a big red circle at the top and a small blue square at the bottom",
               "a red circle on the left and a red square on the right"]   # one colour named twice


def _two_object_vocab():
    words = sorted({w for c in TWO_OBJECTS + CAPTIONS for w in tokenize(c)}
                   | {"square", "triangle", "diamond", "rhombus", "disk", "yellow", "white"})
    return Vocabulary(["<end>", *words])


def test_an_exchange_moves_two_objects_words_between_them():
    """A binding negative: the two objects' words of one group trade places, so the caption holds
    the same words and every one of them still describes something in the image."""
    groups, vocab = word_groups(), _two_object_vocab()
    tokens, lengths = pad_captions([vocab.encode(tokenize(TWO_OBJECTS[0]))] * 64, 18)
    swapped, mask = WordSwap(groups, vocab, exchange=1.0).negatives(tokens, lengths,
                                                                     np.random.default_rng(0))
    assert mask.tolist() == [1.0] * 64
    seen = set()
    for row in range(64):
        moved = np.flatnonzero(swapped[row] != tokens[row])
        assert len(moved) == 2
        assert sorted(swapped[row]) == sorted(tokens[row])               # the same words
        before = [vocab.words[i] for i in tokens[row, moved]]
        assert [vocab.words[i] for i in swapped[row, moved]] == before[::-1]
        seen.add(tuple(before))
    # big/small, red/blue and circle/square: each group's pair is exchanged some of the time
    assert seen == {("big", "small"), ("red", "blue"), ("circle", "square")}


def test_without_two_values_of_a_group_an_exchange_falls_back_to_a_swap():
    groups, vocab = word_groups(), _two_object_vocab()
    one_colour_twice = vocab.encode(tokenize(TWO_OBJECTS[1]))   # red, red: circle, square differ
    one_object = vocab.encode(tokenize(CAPTIONS[0]))
    tokens, lengths = pad_captions([one_colour_twice, one_object], 18)
    swapped, mask = WordSwap(groups, vocab, exchange=1.0).negatives(tokens, lengths,
                                                                     np.random.default_rng(1))
    assert mask.tolist() == [1.0, 1.0]
    first = [vocab.words[i] for i in swapped[0, np.flatnonzero(swapped[0] != tokens[0])]]
    assert first == ["square", "circle"]          # the shapes trade places; never red for red
    changed = np.flatnonzero(swapped[1] != tokens[1])
    assert len(changed) == 1                      # one object: one word swapped for another value
    old, new = vocab.words[tokens[1, changed[0]]], vocab.words[swapped[1, changed[0]]]
    assert {g for g, _ in _value_of(groups, old)} == {g for g, _ in _value_of(groups, new)}
    assert _value_of(groups, old) != _value_of(groups, new)


def test_exchanges_come_at_their_probability_and_leave_plain_swaps_as_they_were():
    groups, vocab = word_groups(), _two_object_vocab()
    tokens, lengths = pad_captions([vocab.encode(tokenize(TWO_OBJECTS[0]))] * 400, 18)
    rng = lambda: np.random.default_rng(7)  # noqa: E731
    half, _ = WordSwap(groups, vocab, exchange=0.5).negatives(tokens, lengths, rng())
    exchanged = np.mean([sorted(a) == sorted(b) for a, b in zip(half, tokens)])
    assert 0.4 < exchanged < 0.6
    none, _ = WordSwap(groups, vocab, exchange=0.0).negatives(tokens, lengths, rng())
    assert not any(sorted(a) == sorted(b) for a, b in zip(none, tokens))
    np.testing.assert_array_equal(none, WordSwap(groups, vocab).negatives(tokens, lengths, rng())[0])


def test_bad_exchange_settings_are_user_errors():
    vocab = _two_object_vocab()
    with pytest.raises(UserError, match="probability"):
        WordSwap(word_groups(), vocab, exchange=1.5)
    with pytest.raises(UserError, match="swap_negatives"):
        word_swap_for(None, 0.3, vocab)
    assert word_swap_for(None, 0.0, vocab) is None
    assert word_swap_for("shapes:colour", 0.25, vocab).exchange == 0.25



def _swapped_groups(groups, vocab, tokens, swapped):
    changed = [np.flatnonzero(a != b) for a, b in zip(swapped, tokens)]
    return [next(iter(_value_of(groups, vocab.words[t[c[0]]])))[0] for t, c in zip(tokens, changed)]


def test_weighted_groups_are_picked_in_proportion():
    vocab = _two_object_vocab()
    tokens, lengths = pad_captions([vocab.encode(tokenize(TWO_OBJECTS[0]))] * 3000, 18)
    swap = word_swap_for("shapes:shape=4,colour,size", 0.0, vocab)
    swapped, mask = swap.negatives(tokens, lengths, np.random.default_rng(3))
    assert mask.all()
    picked = _swapped_groups(word_groups(), vocab, tokens, swapped)
    share = {g: picked.count(g) / len(picked) for g in ("shape", "colour", "size")}
    assert set(picked) == {"shape", "colour", "size"}                 # only the chosen groups
    assert abs(share["shape"] - 4 / 6) < 0.03 and abs(share["colour"] - 1 / 6) < 0.03, share
    # exchanges pick their group by the same weights: colour and shape are both named twice
    tokens2, lengths2 = pad_captions([vocab.encode(tokenize(TWO_OBJECTS[0]))] * 2000, 18)
    exch, _ = word_swap_for("shapes:shape,colour=3", 1.0, vocab).negatives(
        tokens2, lengths2, np.random.default_rng(4))
    colour_ids = {vocab.index(w) for w in ("red", "blue")}
    moved = [{int(t) for t in b[a != b]} for a, b in zip(exch, tokens2)]
    assert all(len(m) == 2 for m in moved)                      # each an exchange of two words
    by_colour = np.mean([m <= colour_ids for m in moved])
    assert abs(by_colour - 0.75) < 0.04, by_colour


def test_bad_weights_are_user_errors(tmp_path):
    for spec in ("shapes:shape=0", "shapes:shape=-1", "shapes:shape=x", "shapes:shape,"):
        with pytest.raises(UserError, match="positive weight"):
            load_word_groups(spec)
    with pytest.raises(UserError, match="unknown group"):
        load_word_groups("shapes:colour=2,hue")
    with pytest.raises(UserError, match="positive number"):
        WordSwap(word_groups(), _vocab(), weights={"hue": 2.0})
    groups = tmp_path / "colours.json"
    groups.write_text(json.dumps({"colour": {"red": ["red"], "blue": ["blue"]},
                                  "shape": {"circle": ["circle"], "box": ["box"]}}))
    assert list(load_word_groups(f"{groups}:shape=2")) == ["shape"]
    assert word_swap_for(f"{groups}:shape=2,colour", 0.0, _vocab()).weight.tolist() == [2.0, 1.0]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return shapes_and_damsm(tmp_path_factory.mktemp("swap"))


def test_stream_carries_swap_negatives(setup):
    data, damsm = setup
    _, _, vocab, damsm_cfg = load_damsm(damsm)
    train, _ = encoded_splits(data, vocab)
    stream = CaptionStream(train, 16, damsm_cfg.max_len, 0, WordSwap(word_groups(), vocab))
    images, tokens, lengths, ids, swapped, mask = next(iter(stream.distributed(None, 0)))
    assert swapped.shape == tokens.shape and mask.shape == (16,)
    assert float(tf.reduce_mean(mask)) > 0.8       # nearly every Shapes caption has a swap word
    changed = tf.reduce_sum(tf.cast(swapped != tokens, tf.int32), axis=1).numpy()
    np.testing.assert_array_equal(changed, mask.numpy().astype(int))
    # swap_from_epoch: before it, the same batch structure with every mask 0 (AttnGAN's loss)
    late = CaptionStream(train, 16, damsm_cfg.max_len, 0, WordSwap(word_groups(), vocab), 1)
    assert float(tf.reduce_sum(next(iter(late.distributed(None, 0)))[5])) == 0.0
    np.testing.assert_array_equal(next(iter(late.distributed(None, 1)))[1].numpy(),
                                  next(iter(stream.distributed(None, 1)))[1].numpy())
    assert float(tf.reduce_sum(next(iter(late.distributed(None, 1)))[5])) > 0


@pytest.mark.parametrize("d_condition", ["concat", "words", "phrases"])
def test_trainer_scores_swaps_only_where_the_mask_says(setup, d_condition):
    """The trainer's D loss takes the swapped captions' logits where mask = 1 and is AttnGAN's
    loss exactly where mask = 0; a training step with swap negatives runs and stays finite.
    (That the term teaches D to reject swaps is measured on the real Shapes run, see
    docs/attngan_part2.md: on the tiny random encoders here a caption and its swap differ too
    little for a short test to show it.)"""
    data, damsm = setup
    text, image, vocab, damsm_cfg = load_damsm(damsm)
    keras.utils.set_random_seed(0)
    trainer = build_models(dataclasses.replace(TINY, d_condition=d_condition), damsm_cfg, text, image,
                           vocabulary=vocab)
    train, _ = encoded_splits(data, vocab)
    images, tokens, lengths, ids = fixed_batch(train)
    swapped, mask = WordSwap(word_groups(), vocab).negatives(tokens, lengths,
                                                             np.random.default_rng(0))
    assert mask.sum() > 0
    images, tokens, lengths, ids, swapped, mask = (tf.constant(x) for x in (images, tokens, lengths,
                                                                           ids, swapped, mask))

    def d_loss(*extra):
        kwargs = dict(zip(("swapped", "swap_mask"), extra))
        parts = trainer.losses(images, tokens, lengths, ids, tf.constant(0, tf.int64),
                               training=False, **kwargs)
        return float(parts["d_loss"])

    plain = d_loss()
    assert d_loss(swapped, tf.zeros_like(mask)) == pytest.approx(plain, rel=1e-6)
    assert abs(d_loss(swapped, mask) - plain) > 1e-4
    logs = tf.function(trainer.train_step)((images, tokens, lengths, ids, swapped, mask))
    assert all(np.isfinite(float(v)) for v in logs.values())


@pytest.mark.parametrize("d_condition", ["concat", "words", "phrases"])
def test_a_run_trains_with_swaps_and_refuses_to_resume_without(setup, tmp_path, d_condition):
    data, damsm = setup
    cfg = dataclasses.replace(TINY, swap_negatives="shapes", swap_exchange=0.5, d_condition=d_condition)
    summary = train_attngan(cfg, data, damsm, tmp_path / "run")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["swap_exchange"] == 0.5
    assert summary["step"] == 4
    history = json.loads((tmp_path / "run" / "history.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(history["d_loss"])
    with pytest.raises(UserError, match="swap_negatives"):
        train_attngan(TINY, data, damsm, tmp_path / "run")


def test_phrase_separators_must_be_words_of_the_vocabulary():
    from condgan.families.attngan.family import phrase_separator_ids

    vocab = Vocabulary(["<end>", "a", "and", "circle", "with"])
    phrases = dataclasses.replace(TINY, d_condition="phrases")
    assert phrase_separator_ids(phrases, vocab) == [2]
    assert phrase_separator_ids(dataclasses.replace(phrases, d_phrase_separators="and, with"), vocab) == [2, 4]
    assert phrase_separator_ids(TINY, None) == []            # other heads need none
    with pytest.raises(UserError, match="plus not in the DAMSM's vocabulary"):
        phrase_separator_ids(dataclasses.replace(phrases, d_phrase_separators="and,plus"), vocab)
    with pytest.raises(UserError, match="vocabulary"):
        phrase_separator_ids(phrases, None)
