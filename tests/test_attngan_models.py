"""AttnGAN generator and discriminators: tensor shapes, word attention, the KL term, safe-mode save."""
import dataclasses

import keras
import numpy as np
import pytest

from condgan.models.attngan_discriminator import build_attngan_discriminators, pool_phrases
from condgan.models.attngan_generator import (CoordinateChannels, WordAttention,
                                              build_attngan_generator, final_image_model,
                                              split_outputs, stage_sizes)
from condgan.families.attngan.losses import kl_loss, kl_per_example
from condgan.errors import UserError

D, T, Z, C = 16, 6, 8, 4


def _inputs(batch=3, seed=0, lengths=(2, 6, 1)):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((batch, Z)).astype("float32"),
            rng.standard_normal((batch, C)).astype("float32"),
            rng.standard_normal((batch, D)).astype("float32"),
            rng.standard_normal((batch, D, T)).astype("float32"),
            np.array(lengths, dtype="int32")]


@pytest.mark.parametrize("size,stages,sizes", [(32, 1, [32]), (64, 1, [64]), (64, 3, [16, 32, 64])])
def test_shapes_through_g_and_d(size, stages, sizes):
    assert stage_sizes(size, stages) == sizes
    g = build_attngan_generator(size, stages, text_dim=D, max_len=T, z_dim=Z, condition_dim=C,
                                gf=8, residual_blocks=2)
    images, mu, logvar, attns = split_outputs(g(_inputs()), stages)
    assert [tuple(x.shape) for x in images] == [(3, s, s, 3) for s in sizes]
    assert tuple(mu.shape) == tuple(logvar.shape) == (3, C)
    assert [tuple(a.shape) for a in attns] == [(3, T, s // 2, s // 2) for s in sizes[1:]]
    for x in images:
        assert np.all(np.abs(np.asarray(x)) <= 1.0)
    d = build_attngan_discriminators(sizes, df=8, text_dim=D)
    logits = d([images, _inputs()[2]])
    assert len(logits) == stages
    for uncond, cond in logits:
        assert tuple(uncond.shape) == tuple(cond.shape) == (3,)
    for i, s in enumerate(sizes):
        assert tuple(d.features(i, images[i]).shape) == (3, 4, 4, 64)


def test_projection_head_is_w_h_plus_h_dot_v_sentence():
    """The projection head's conditional logit, recomputed in NumPy from its own weights; the
    unconditional logit is the same layer as with the concat head."""
    d = build_attngan_discriminators([32], df=8, text_dim=D, condition="projection")
    rng = np.random.default_rng(1)
    features = rng.standard_normal((3, 4, 4, 64)).astype("float32")
    sentence = rng.standard_normal((3, D)).astype("float32")
    uncond, cond = (np.asarray(x) for x in d.logits(0, features, (sentence,)))
    head = d.heads[0]
    w = {layer.name: [np.asarray(v) for v in layer.weights] for layer in head.layers}
    pre = features.reshape(3, -1) @ w["proj_hidden"][0] + w["proj_hidden"][1]
    h = np.where(pre > 0, pre, 0.2 * pre)
    expected = (h @ w["proj_w"][0]).ravel() + w["proj_w"][1] + np.sum(h * (sentence @ w["proj_sentence"][0]), axis=1)
    np.testing.assert_allclose(cond, expected, rtol=1e-4, atol=1e-4)
    assert uncond.shape == (3,)
    # the same image scored against two captions differs only through the agreement term
    other = rng.standard_normal((3, D)).astype("float32")
    delta = np.asarray(d.logits(0, features, (other,))[1]) - cond
    np.testing.assert_allclose(delta, np.sum(h * ((other - sentence) @ w["proj_sentence"][0]), axis=1),
                               rtol=1e-3, atol=1e-3)
    with pytest.raises(UserError, match="projection"):
        build_attngan_discriminators([32], df=8, text_dim=D, condition="bilinear")


def _leaky(x):
    return np.where(x > 0, x, 0.2 * x)


def test_word_head_adds_each_words_agreement_with_the_region_it_attends_to():
    """The word-level head's conditional logit, recomputed in NumPy: the projection head's logit
    plus the mean over real words of <q_t, c_t> / sqrt(E), c_t the attention-weighted regions;
    padding words take no part."""
    d = build_attngan_discriminators([32], df=8, text_dim=D, condition="words", max_len=T)
    rng = np.random.default_rng(2)
    features = rng.standard_normal((3, 4, 4, 64)).astype("float32")
    _, _, sentence, words, lengths = _inputs(seed=2)
    uncond, cond = (np.asarray(x) for x in d.logits(0, features, (sentence, words, lengths)))
    head = d.heads[0]
    w = {layer.name: [np.asarray(v) for v in layer.weights] for layer in head.layers}
    h = _leaky(features.reshape(3, -1) @ w["proj_hidden"][0] + w["proj_hidden"][1])
    projection = (h @ w["proj_w"][0]).ravel() + w["proj_w"][1] + np.sum(h * (sentence @ w["proj_sentence"][0]), axis=1)
    word_regions = head.get_layer("word_regions")
    P = np.asarray(word_regions.word_projection.kernel)
    R, r_bias = (np.asarray(v) for v in (word_regions.region_projection.kernel, word_regions.region_projection.bias))
    expected = []
    for b in range(3):
        regions = features[b].reshape(16, 64) @ R + r_bias
        q = words[b].T[:lengths[b]] @ P
        logits = q @ regions.T / np.sqrt(D)
        attention = np.exp(logits - logits.max(axis=1, keepdims=True))
        attention /= attention.sum(axis=1, keepdims=True)
        expected.append(np.mean(np.sum(q * (attention @ regions), axis=1)) / np.sqrt(D))
    np.testing.assert_allclose(cond, projection + np.array(expected), rtol=1e-4, atol=1e-4)
    assert uncond.shape == (3,)
    padded = words.copy()
    padded[0, :, lengths[0]:] = 100.0                       # caption 0's padding words
    np.testing.assert_allclose(np.asarray(d.logits(0, features, (sentence, padded, lengths))[1]), cond,
                               rtol=1e-5, atol=1e-5)
    # the term is free of word order: which object a colour belongs to must come from the
    # words' contextual features (the DAMSM's BiLSTM), and another feature changes the logit
    reordered = words.copy()
    reordered[1] = words[1][:, ::-1]
    np.testing.assert_allclose(np.asarray(d.logits(0, features, (sentence, reordered, lengths))[1]), cond,
                               rtol=1e-4, atol=1e-4)
    changed = words.copy()
    changed[1, :, 0] = words[2, :, 0]
    assert abs(float(np.asarray(d.logits(0, features, (sentence, changed, lengths))[1])[1]) - cond[1]) > 1e-4
    with pytest.raises(UserError, match="max_len"):
        build_attngan_discriminators([32], df=8, text_dim=D, condition="words")


SEP = 9   # the separator word's id in the phrase tests


def test_phrases_are_the_mean_words_between_separators():
    rng = np.random.default_rng(3)
    words = rng.standard_normal((4, D, 8)).astype("float32")
    tokens = np.array([[1, 2, SEP, 3, 4, 5, 0, SEP],     # two phrases; the SEP in the padding is none
                       [1, 2, 3, 0, 0, 0, 0, 0],         # one phrase
                       [1, SEP, 2, SEP, 3, SEP, 4, 5],   # four phrases: the tail pooled into the third
                       [SEP, 1, SEP, SEP, 2, 0, 0, 0]],  # leading and doubled separators: two phrases
                      dtype="int32")
    lengths = np.array([6, 3, 8, 5], dtype="int32")
    phrases, counts = (np.asarray(x) for x in pool_phrases(words, tokens, lengths, [SEP], 3))
    expected = np.zeros((4, D, 3), dtype="float32")
    for b, groups in enumerate([[[0, 1], [3, 4, 5]], [[0, 1, 2]], [[0], [2], [4, 6, 7]], [[1], [4]]]):
        for k, positions in enumerate(groups):
            expected[b, :, k] = words[b][:, positions].mean(axis=1)
    np.testing.assert_allclose(phrases, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(counts, [2, 1, 3, 2])


def test_phrase_head_binds_attributes_that_a_word_head_cannot():
    """The phrase-level head is the word-region term over the pooled phrases; two captions with
    the same words split differently into objects ("red circle | blue square" against "red |
    circle blue square") score alike under the word head and differently under the phrase head."""
    phrase_d = build_attngan_discriminators([32], df=8, text_dim=D, condition="phrases",
                                            separator_ids=[SEP], max_phrases=2)
    word_d = build_attngan_discriminators([32], df=8, text_dim=D, condition="words", max_len=5)
    rng = np.random.default_rng(4)
    features = rng.standard_normal((2, 4, 4, 64)).astype("float32")
    sentence = np.repeat(rng.standard_normal((1, D)).astype("float32"), 2, axis=0)
    words = np.repeat(rng.standard_normal((1, D, 5)).astype("float32"), 2, axis=0)
    words[:, :, 2] = 0.0                                    # the separator's own feature
    tokens = np.array([[1, 2, SEP, 3, 4], [1, SEP, 2, 3, 4]], dtype="int32")
    lengths = np.array([5, 5], dtype="int32")
    features[1] = features[0]
    words[1] = words[0][:, [0, 2, 1, 3, 4]]                  # the same words, the separator moved
    word_d.heads[0].set_weights(phrase_d.heads[0].get_weights())   # one architecture
    by_words = np.asarray(word_d.logits(0, features, word_d.caption(sentence, words, lengths, tokens))[1])
    by_phrases = np.asarray(phrase_d.logits(0, features, phrase_d.caption(sentence, words, lengths, tokens))[1])
    np.testing.assert_allclose(by_words[0], by_words[1], rtol=1e-5, atol=1e-5)
    assert abs(by_phrases[0] - by_phrases[1]) > 1e-3
    over_phrases = build_attngan_discriminators([32], df=8, text_dim=D, condition="words", max_len=2)
    over_phrases.heads[0].set_weights(phrase_d.heads[0].get_weights())
    phrases, counts = (np.asarray(x) for x in pool_phrases(words, tokens, lengths, [SEP], 2))
    np.testing.assert_allclose(
        by_phrases, np.asarray(over_phrases.logits(0, features, (sentence, phrases, counts))[1]),
        rtol=1e-5, atol=1e-5)
    with pytest.raises(UserError, match="separator"):
        build_attngan_discriminators([32], df=8, text_dim=D, condition="phrases")


def test_unsupported_size_is_a_user_error():
    with pytest.raises(UserError, match="stages"):
        stage_sizes(48, 2)


def test_attention_sums_to_one_over_real_words_and_ignores_padding():
    layer = WordAttention(8)
    rng = np.random.default_rng(1)
    h = rng.standard_normal((3, 4, 4, 8)).astype("float32")
    words = rng.standard_normal((3, D, T)).astype("float32")
    lengths = np.array([2, 6, 1], dtype="int32")
    context, attn = (np.asarray(t) for t in layer([h, words, lengths]))
    assert attn.shape == (3, T, 4, 4)
    np.testing.assert_allclose(attn.sum(axis=1), 1.0, rtol=1e-5)
    for b, n in enumerate(lengths):
        assert np.all(attn[b, n:] == 0.0)
    # Padding positions may hold anything: the output must not change.
    noisy = words.copy()
    for b, n in enumerate(lengths):
        noisy[b, :, n:] = rng.standard_normal((D, T - n)) * 100
    context2, attn2 = (np.asarray(t) for t in layer([h, noisy, lengths]))
    np.testing.assert_allclose(context2, context, rtol=1e-5, atol=1e-6)
    # NumPy reference of eq. 2 for one region: softmax over real words of h_j . (W e_i).
    kernel = np.asarray(layer.project.kernel)
    e = words[0, :, :2].T @ kernel                     # (2 words, 8)
    s = e @ h[0, 1, 2]
    p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    np.testing.assert_allclose(attn[0, :2, 1, 2], p, rtol=1e-5)
    np.testing.assert_allclose(context[0, 1, 2], p @ e, rtol=1e-5, atol=1e-6)


def test_initial_word_attention_lets_the_first_stage_read_the_words():
    """AttnGAN's first stage sees the caption only through the sentence vector: other words
    with the same sentence leave its image as it was.  With initial word attention the first
    stage's image changes with the words."""
    x = _inputs()
    reordered = list(x)
    reordered[3] = np.ascontiguousarray(x[3][:, :, ::-1])   # same sentence, the words reversed
    for initial in (False, True):
        g = build_attngan_generator(32, 2, text_dim=D, max_len=T, z_dim=Z, condition_dim=C, gf=8,
                                    residual_blocks=1, initial_word_attention=initial)
        first, first_reordered = (np.asarray(g(inputs, training=False)[0]) for inputs in (x, reordered))
        if initial:
            assert np.abs(first - first_reordered).max() > 1e-4
        else:
            np.testing.assert_array_equal(first, first_reordered)


def test_coordinates_let_identical_cells_attend_to_different_words():
    """Cells with the same features attend alike; with their coordinates added they do not,
    which is what lets a cell take the words that name its place."""
    h = np.ones((1, 8, 8, 4), "float32")
    located = np.asarray(CoordinateChannels()(h))
    assert located.shape == (1, 8, 8, 6)
    np.testing.assert_allclose(located[0, :, 0, 4], np.linspace(-1, 1, 8), atol=1e-6)  # row
    np.testing.assert_allclose(located[0, 0, :, 5], np.linspace(-1, 1, 8), atol=1e-6)  # column
    np.testing.assert_array_equal(located[..., :4], h)
    words = np.random.default_rng(0).standard_normal((1, D, T)).astype("float32")
    lengths = np.array([T], "int32")
    _, plain = WordAttention(4)([h, words, lengths])
    _, placed = WordAttention(6)([located, words, lengths])
    plain, placed = np.asarray(plain)[0], np.asarray(placed)[0]          # (T, 8, 8)
    np.testing.assert_allclose(plain, np.broadcast_to(plain[:, :1, :1], plain.shape), atol=1e-6)
    assert np.abs(placed[:, 0, 0] - placed[:, 7, 7]).max() > 1e-3


def test_kl_term_matches_numpy():
    rng = np.random.default_rng(2)
    mu = rng.standard_normal((5, 7)).astype("float32")
    logvar = rng.standard_normal((5, 7)).astype("float32")
    # KL(N(mu, sigma^2) || N(0, 1)) per dimension = 0.5 (sigma^2 + mu^2 - 1 - log sigma^2)
    reference = np.mean(0.5 * (np.exp(logvar) + mu ** 2 - 1.0 - logvar))
    np.testing.assert_allclose(float(kl_loss(mu, logvar)), reference, rtol=1e-5)
    np.testing.assert_allclose(np.mean(np.asarray(kl_per_example(mu, logvar))), reference, rtol=1e-5)
    assert float(kl_loss(np.zeros((2, 3)), np.zeros((2, 3)))) == 0.0


@pytest.mark.parametrize("initial_word_attention", [False, True])
def test_generator_saves_and_loads_in_safe_mode(tmp_path, initial_word_attention):
    g = build_attngan_generator(32, 2, text_dim=D, max_len=T, z_dim=Z, condition_dim=C, gf=8,
                                residual_blocks=1, initial_word_attention=initial_word_attention)
    final = final_image_model(g, 2)
    final.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True, compile=False)
    x = _inputs()
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(final(x)))


def test_shipped_configs_load_with_the_stage_layout_they_promise():
    from pathlib import Path

    from condgan.config import load_config as load_config_file
    from condgan.models.attngan_generator import stage_sizes

    root = Path(__file__).resolve().parents[1] / "configs"
    birds = load_config_file(str(root / "attngan_birds.py"))
    assert stage_sizes(birds.image_size, birds.stages) == [64, 128, 256]  # the paper's
    shapes = load_config_file(str(root / "attngan_shapes.py"))
    assert stage_sizes(shapes.image_size, shapes.stages) == [32, 64]
    # the shipped swap-negative recipe: the same model, swaps on, trained against the
    # shape-swap DAMSM
    swap = load_config_file(str(root / "attngan_shapes_swap.py"))
    assert swap.swap_negatives == "shapes" and swap.stages == shapes.stages
    # the shipped recipe: the swap recipe with projection heads in D
    proj = load_config_file(str(root / "attngan_shapes_proj.py"))
    assert proj.d_condition == "projection" and swap.d_condition == "concat"
    assert dataclasses.replace(proj, d_condition="concat", name=swap.name) == swap
    damsm = load_config_file(str(root / "damsm_shapes_swapshape.py"))
    assert damsm.swap_negatives == "shapes:shape" and damsm.image_size == shapes.image_size
