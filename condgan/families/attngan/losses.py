"""AttnGAN's objectives (Xu et al. 2018, eqs. 3-5 and the reference `miscc/losses.py`), keras.ops.

Per stage i, with unconditional logit u and sentence-conditional logit c of the stage's
discriminator (sigmoid cross-entropy written with softplus on logits:
-log sigmoid(x) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x)):

* discriminator (AttnGAN `discriminator_loss`):
  (L(u_real, 1) + L(c_real, 1)) / 2 + (L(u_fake, 0) + L(c_fake, 0) + L(c_wrong, 0)) / 3,
  where "wrong" scores real images against another image's sentence.  AttnGAN pairs image k
  with sentence k+1 for k < B-1; we roll the batch (image k with sentence k+1 mod B) so every
  example has a wrong pair and the loss stays a per-example vector (global-batch scaling).
* generator (AttnGAN `generator_loss`): L(u_fake, 1) + L(c_fake, 1) summed over stages, plus
  lambda * (w_loss0 + w_loss1 + s_loss0 + s_loss1), the DAMSM loss of the *last* stage's images
  against their captions through the frozen pretrained encoders (eq. 5, lambda = 5 for birds),
  plus the conditioning-augmentation KL term.  The DAMSM part is part 1's `words_loss` and
  `sent_loss` (`condgan.families.damsm.losses`), called by the trainer on the global batch.

* object-wise term (optional, `object_loss`): each stage's discriminator also reads every grid
  cell of an image: is there an object, and what are its attributes.  It learns this from real
  images and their per-cell labels (`condgan.data.object_cells`); the generator is scored by
  the same reading of its images against the labels of the caption it drew.

Per-example functions return (B,) vectors; the trainer sums them and divides by the global batch.
"""
from __future__ import annotations

from keras import ops



def kl_loss(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) averaged over batch and dimensions (AttnGAN `KL_loss`):
    -0.5 * mean(1 + logvar - mu^2 - exp(logvar))."""
    return -0.5 * ops.mean(1.0 + logvar - ops.square(mu) - ops.exp(logvar))


def kl_per_example(mu, logvar):
    """The same KL, averaged over dimensions only: (B,); its batch mean equals `kl_loss`."""
    return -0.5 * ops.mean(1.0 + logvar - ops.square(mu) - ops.exp(logvar), axis=-1)


def d_stage_loss(u_real, c_real, u_fake, c_fake, c_wrong, c_swap=None, swap_mask=None):
    """Per-example discriminator loss of one stage (all inputs are (B,) logits).  With swap
    negatives (`condgan.text.word_swap`), `c_swap` scores the real image against its caption with
    one attribute word swapped; it joins the negative terms where `swap_mask` is 1."""
    real = (ops.softplus(-u_real) + ops.softplus(-c_real)) / 2.0
    negatives = ops.softplus(u_fake) + ops.softplus(c_fake) + ops.softplus(c_wrong)
    if c_swap is None:
        return real + negatives / 3.0
    return real + (negatives + swap_mask * ops.softplus(c_swap)) / (3.0 + swap_mask)


def g_stage_loss(u_fake, c_fake):
    """Per-example generator adversarial loss of one stage."""
    return ops.softplus(-u_fake) + ops.softplus(-c_fake)


def mismatched(sentence):
    """Each row paired with the next row's sentence (the last with the first)."""
    return ops.roll(sentence, shift=-1, axis=0)



def object_loss(logits, labels, classes):
    """Per-example object-wise loss (B,): `logits` (B, cells, 1 + sum(classes)), the first
    channel "this cell holds an object", then one block of class logits per attribute;
    `labels` (B, cells, attributes), -1 in empty cells.  Presence: sigmoid cross-entropy,
    mean over cells; each attribute: softmax cross-entropy, mean over the occupied cells."""
    labels = ops.cast(labels, "int32")
    occupied = ops.cast(ops.greater_equal(labels[..., 0], 0), logits.dtype)         # (B, cells)
    presence = logits[..., 0]
    total = ops.mean(occupied * ops.softplus(-presence) + (1.0 - occupied) * ops.softplus(presence),
                     axis=-1)
    count = ops.maximum(ops.sum(occupied, axis=-1), 1.0)
    start = 1
    for k, n in enumerate(classes):
        block = logits[..., start:start + n]
        start += n
        target = ops.one_hot(ops.maximum(labels[..., k], 0), n)
        cross = -ops.sum(target * ops.log_softmax(block, axis=-1), axis=-1)       # (B, cells)
        total = total + ops.sum(cross * occupied, axis=-1) / count
    return total
