"""DAMSM losses against a loop-by-loop NumPy transcription of AttnGAN's `words_loss` /
`sent_loss` / `func_attention` (one caption at a time, only its real words)."""
import numpy as np
import pytest

from condgan.families.damsm import losses as L


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def cross_entropy(logits, masked):
    logits = np.where(masked, -np.inf, logits)
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    return float(np.mean(lse - np.diag(logits)))


def same_class_mask(class_ids):
    if class_ids is None:
        return np.zeros((len(class_ids or []),) * 2, bool)
    m = class_ids[:, None] == class_ids[None, :]
    np.fill_diagonal(m, False)
    return m


def reference_words(regions, words, lengths, class_ids, g1=4.0, g2=5.0, g3=10.0):
    b, d = regions.shape[:2]
    context = regions.reshape(b, d, -1)
    sims = np.zeros((b, b))
    for j in range(b):                       # caption j, its first lengths[j] words
        word = words[j, :, :lengths[j]]
        for i in range(b):                   # against image i
            attn = context[i].T @ word                    # regions x words
            attn = softmax(attn, axis=1)                  # eq. 7, over words
            attn = softmax(g1 * attn.T, axis=1)           # eq. 8, over regions
            weighted = context[i] @ attn.T                # eq. 9
            cos = (word * weighted).sum(0) / (np.linalg.norm(word, axis=0)
                                              * np.linalg.norm(weighted, axis=0))
            sims[i, j] = np.log(np.exp(g2 * cos).sum())   # eq. 10
    mask = same_class_mask(class_ids) if class_ids is not None else np.zeros((b, b), bool)
    return cross_entropy(g3 * sims, mask), cross_entropy(g3 * sims.T, mask.T)


def reference_sentence(global_, sent, class_ids, g3=10.0):
    g = global_ / np.linalg.norm(global_, axis=1, keepdims=True)
    s = sent / np.linalg.norm(sent, axis=1, keepdims=True)
    scores = g3 * g @ s.T
    mask = same_class_mask(class_ids) if class_ids is not None else np.zeros(scores.shape, bool)
    return cross_entropy(scores, mask), cross_entropy(scores.T, mask.T)


@pytest.mark.parametrize("class_ids", [None, np.array([0, 1, 0, 2, 1])])
def test_losses_match_numpy_reference(class_ids):
    rng = np.random.default_rng(0)
    b, d, t = 5, 6, 7
    regions = rng.normal(size=(b, d, 3, 3)).astype(np.float32)
    words = rng.normal(size=(b, d, t)).astype(np.float32)
    lengths = np.array([7, 3, 5, 1, 4], dtype=np.int32)
    for j, n in enumerate(lengths):
        words[j, :, n:] = 0.0  # padding, as the text encoder returns it
    global_ = rng.normal(size=(b, d)).astype(np.float32)
    sent = rng.normal(size=(b, d)).astype(np.float32)
    ids = None if class_ids is None else class_ids.astype(np.int64)

    w0, w1, attn = L.words_loss(regions, words, lengths, ids)
    s0, s1 = L.sent_loss(global_, sent, ids)
    ref_w0, ref_w1 = reference_words(regions.astype(np.float64), words.astype(np.float64),
                                     lengths, class_ids)
    ref_s0, ref_s1 = reference_sentence(global_.astype(np.float64), sent.astype(np.float64),
                                        class_ids)
    np.testing.assert_allclose([float(w0), float(w1)], [ref_w0, ref_w1], rtol=1e-4)
    np.testing.assert_allclose([float(s0), float(s1)], [ref_s0, ref_s1], rtol=1e-4)
    # attention over regions sums to one for every (image, caption, word)
    np.testing.assert_allclose(np.asarray(attn).sum(-1), 1.0, rtol=1e-5)
    total, parts = L.damsm_loss(regions, global_, words, sent, lengths, ids)
    np.testing.assert_allclose(float(total), ref_w0 + ref_w1 + ref_s0 + ref_s1, rtol=1e-4)


def test_hand_computed_sentence_loss():
    # Two orthogonal matching pairs: cosine 1 on the diagonal, 0 off it, gamma3 = 10, so each
    # direction's loss is log(1 + e^-10) -- small enough to compute by hand.
    eye = np.eye(2, dtype=np.float32)
    s0, s1 = L.sent_loss(eye, eye)
    expected = np.log1p(np.exp(-10.0))
    np.testing.assert_allclose([float(s0), float(s1)], [expected, expected], atol=1e-6)  # float32 around 10
    # same class for both: the only negative is masked out, the loss is exactly zero
    s0, _ = L.sent_loss(eye, eye, np.array([3, 3]))
    assert abs(float(s0)) < 1e-6


def test_swap_negative_is_one_more_candidate_for_its_own_image():
    """Hard negatives (`swap`): image i's score against its swapped caption joins the image ->
    caption softmax where the mask is 1; the caption -> image direction is unchanged."""
    rng = np.random.default_rng(3)
    b, d, t = 4, 6, 5
    regions = rng.normal(size=(b, d, 3, 3)).astype(np.float32)
    words, swapped = (rng.normal(size=(b, d, t)).astype(np.float32) for _ in range(2))
    lengths = np.array([5, 3, 4, 2], dtype=np.int32)
    for j, n in enumerate(lengths):
        words[j, :, n:] = swapped[j, :, n:] = 0.0
    global_, sent, sent_swap = (rng.normal(size=(b, d)).astype(np.float32) for _ in range(3))
    mask = np.array([1, 0, 1, 1], np.float32)

    g = global_ / np.linalg.norm(global_, axis=1, keepdims=True)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    scores = 10.0 * g @ unit(sent).T
    hard = 10.0 * (g * unit(sent_swap)).sum(1)
    full = np.concatenate([scores, np.where(mask > 0, hard, -np.inf)[:, None]], axis=1)
    lse = np.log(np.exp(full - full.max(1, keepdims=True)).sum(1)) + full.max(1)
    expected0 = float(np.mean(lse - np.diag(scores)))
    s0, s1 = L.sent_loss(global_, sent, None, swap=(sent_swap, mask))
    np.testing.assert_allclose(float(s0), expected0, rtol=1e-5)
    np.testing.assert_allclose(float(s1), float(L.sent_loss(global_, sent)[1]), rtol=1e-6)
    # the swap term scores each image against its own caption only: the full matrix's diagonal
    np.testing.assert_allclose(np.asarray(L.paired_word_scores(swapped, regions, lengths)),
                               np.diag(np.asarray(L.word_scores(swapped, regions, lengths)[0])),
                               rtol=1e-5)
    # mask 0 everywhere: AttnGAN's loss exactly; a hard negative only ever raises the loss
    plain = L.words_loss(regions, words, lengths)[0]
    off = L.words_loss(regions, words, lengths, swap=(swapped, np.zeros(b, np.float32)))[0]
    on = L.words_loss(regions, words, lengths, swap=(swapped, mask))[0]
    np.testing.assert_allclose(float(off), float(plain), rtol=1e-6)
    assert float(on) > float(plain)
