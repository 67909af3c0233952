"""DAMSM losses (Xu et al., AttnGAN, CVPR 2018, sec. 3.4), vectorised with keras.ops.

Shapes follow AttnGAN: words (B, D, T) with per-caption lengths, regions (B, D, h, w),
sentence and global features (B, D).  Image i and caption i are the matching pair.

Word level (eqs. 7-11): region-word dot products s = e^T v are normalised with a softmax over
the words of the caption (eq. 7), attention over regions is a softmax of gamma1 * s (eq. 8),
each word gets a region context c_i (eq. 9), relevance R(c_i, e_i) is their cosine, and the
image-caption score is log(sum_i exp(gamma2 R(c_i, e_i))) (eq. 10).  Padding words take no part
(AttnGAN loops over `words_emb[:, :, :cap_len]`; we mask).
Sentence level (eq. 12 with the global image feature): cosine of sentence and global features.
Both scores are scaled by gamma3 and turned into in-batch posteriors in both directions
(image -> captions and caption -> images, eq. 11), giving L = -log P(D|Q) - log P(Q|D).  Pairs
of *other* images of the same class are masked out of the softmax so that they do not count as
negatives (AttnGAN `masked_fill_(masks, -inf)`).  Each direction is the batch-mean cross entropy.
"""
from __future__ import annotations

from keras import ops

from condgan.models.damsm_text import word_mask

GAMMA1, GAMMA2, GAMMA3 = 4.0, 5.0, 10.0
EPS = 1e-8
_TINY = 1e-30  # a floor under squared norms, far below any real feature's
_MASKED = -1e9  # effectively -inf inside a softmax, without inf * 0 = nan in gradients


def attention(words, regions, lengths, gamma1: float = GAMMA1):
    """Attention of every caption's words over every image's regions.

    words (Bc, D, T), regions (Bi, D, h, w) -> (context (Bi, Bc, T, D), attn (Bi, Bc, T, h*w)),
    where context[i, j, t] is image i's region context for word t of caption j.
    """
    w = ops.transpose(words, (0, 2, 1))                       # (Bc, T, D)
    shape = ops.shape(regions)
    r = ops.reshape(regions, (shape[0], shape[1], -1))        # (Bi, D, N)
    r = ops.transpose(r, (0, 2, 1))                           # (Bi, N, D)
    s = ops.einsum("ind,jtd->ijnt", r, w)                     # (Bi, Bc, N, T)
    mask = word_mask(lengths, ops.shape(words)[2])[None, :, None, :]
    s = ops.where(mask, s, _MASKED)
    s = ops.softmax(s, axis=-1)                               # eq. 7: over the words
    a = ops.softmax(gamma1 * ops.transpose(s, (0, 1, 3, 2)), axis=-1)  # eq. 8: over regions
    context = ops.einsum("ijtn,ind->ijtd", a, r)              # eq. 9
    return context, a


def paired_word_scores(words, regions, lengths, gamma1=GAMMA1, gamma2=GAMMA2):
    """(B,) R(Q_i, D_i): image i against caption i only, the diagonal of `word_scores` without
    the (B, B) cross product (for each image's own hard negative caption)."""
    w = ops.transpose(words, (0, 2, 1))                       # (B, T, D)
    shape = ops.shape(regions)
    r = ops.transpose(ops.reshape(regions, (shape[0], shape[1], -1)), (0, 2, 1))  # (B, N, D)
    mask = word_mask(lengths, ops.shape(words)[2])            # (B, T)
    s = ops.where(mask[:, None, :], ops.einsum("ind,itd->int", r, w), _MASKED)
    s = ops.softmax(s, axis=-1)                               # eq. 7: over the words
    a = ops.softmax(gamma1 * ops.transpose(s, (0, 2, 1)), axis=-1)  # eq. 8: over regions
    relevance = _cosine(ops.einsum("itn,ind->itd", a, r), w)  # eqs. 9-10, (B, T)
    return ops.log(ops.sum(ops.exp(gamma2 * relevance) * ops.cast(mask, relevance.dtype), axis=-1))


def _norm(x, axis=-1, keepdims=False):
    """L2 norm whose gradient is finite at zero (padding words' features are zero vectors):
    sqrt has an infinite derivative at 0, and 0 * inf is nan on backends that do not skip it."""
    return ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=keepdims), _TINY))


def _cosine(a, b, axis=-1):
    dot = ops.sum(a * b, axis=axis)
    return dot / ops.maximum(_norm(a, axis=axis) * _norm(b, axis=axis), EPS)


def word_scores(words, regions, lengths, gamma1=GAMMA1, gamma2=GAMMA2):
    """(Bi, Bc) matrix of R(Q_i, D_j) (eq. 10, before gamma3), plus the attention maps."""
    context, attn = attention(words, regions, lengths, gamma1)
    w = ops.transpose(words, (0, 2, 1))[None]                 # (1, Bc, T, D)
    relevance = _cosine(context, w)                           # (Bi, Bc, T)
    mask = ops.cast(word_mask(lengths, ops.shape(words)[2]), relevance.dtype)[None]
    scores = ops.log(ops.sum(ops.exp(gamma2 * relevance) * mask, axis=-1))
    return scores, attn


def sentence_scores(global_features, sentences):
    """(Bi, Bc) cosine similarities of global image features and sentence features."""
    g = global_features / ops.maximum(_norm(global_features, keepdims=True), EPS)
    s = sentences / ops.maximum(_norm(sentences, keepdims=True), EPS)
    return ops.matmul(g, ops.transpose(s))


def matching_loss(scores, class_ids=None, gamma3: float = GAMMA3, hard=None, hard_mask=None):
    """Both-direction in-batch cross entropy of a (B, B) image x caption score matrix.

    `hard` (B,): image i's score against a hard negative caption of its own (its caption with
    one attribute word swapped, `condgan.text.word_swap`), an extra candidate in the image ->
    caption direction where `hard_mask` is 1.
    Returns (loss_image_to_caption, loss_caption_to_image), each a batch mean.
    """
    logits = gamma3 * scores
    if class_ids is not None:
        same = ops.equal(class_ids[:, None], class_ids[None, :])
        off_diagonal = ops.logical_not(ops.eye(ops.shape(logits)[0], dtype="bool"))
        logits = ops.where(ops.logical_and(same, off_diagonal), _MASKED, logits)
    diag = ops.diagonal(logits)
    candidates = logits
    if hard is not None:
        extra = ops.where(ops.cast(hard_mask, "bool"), gamma3 * hard, _MASKED)
        candidates = ops.concatenate([logits, extra[:, None]], axis=1)
    loss0 = ops.mean(ops.logsumexp(candidates, axis=1) - diag)   # image i picks its caption
    loss1 = ops.mean(ops.logsumexp(logits, axis=0) - diag)   # caption j picks its image
    return loss0, loss1


def words_loss(regions, words, lengths, class_ids=None,
               gamma1=GAMMA1, gamma2=GAMMA2, gamma3=GAMMA3, swap=None):
    """AttnGAN `words_loss`: (w_loss0, w_loss1, attention maps (B, B, T, h*w)).
    `swap`: (swapped words (B, D, T), mask (B,)), each image's hard negative caption."""
    scores, attn = word_scores(words, regions, lengths, gamma1, gamma2)
    hard = hard_mask = None
    if swap is not None:
        hard = paired_word_scores(swap[0], regions, lengths, gamma1, gamma2)
        hard_mask = swap[1]
    loss0, loss1 = matching_loss(scores, class_ids, gamma3, hard, hard_mask)
    return loss0, loss1, attn


def sent_loss(global_features, sentences, class_ids=None, gamma3=GAMMA3, swap=None):
    """AttnGAN `sent_loss`: (s_loss0, s_loss1).  `swap`: (swapped sentences (B, D), mask (B,))."""
    hard = hard_mask = None
    if swap is not None:
        hard = ops.diagonal(sentence_scores(global_features, swap[0]))
        hard_mask = swap[1]
    return matching_loss(sentence_scores(global_features, sentences), class_ids, gamma3, hard,
                         hard_mask)


def damsm_loss(regions, global_features, words, sentences, lengths, class_ids=None,
               gamma1=GAMMA1, gamma2=GAMMA2, gamma3=GAMMA3, swap=None):
    """Total DAMSM loss w0 + w1 + s0 + s1 (AttnGAN `pretrain_DAMSM.train`) and its parts.
    `swap`: (swapped words, swapped sentences, mask): hard negatives (see `matching_loss`)."""
    w0, w1, _ = words_loss(regions, words, lengths, class_ids, gamma1, gamma2, gamma3,
                           None if swap is None else (swap[0], swap[2]))
    s0, s1 = sent_loss(global_features, sentences, class_ids, gamma3,
                       None if swap is None else (swap[1], swap[2]))
    return w0 + w1 + s0 + s1, {"w_loss": w0 + w1, "s_loss": s0 + s1}
