"""GAN-INT-CLS objectives (Reed et al. 2016, algorithm 1 and sec. 4.3), keras.ops on logits.

Sigmoid cross-entropy written with softplus: -log sigmoid(x) = softplus(-x) and
-log(1 - sigmoid(x)) = softplus(x).  With D's logits s_r (real image, right text),
s_w (real image, wrong text) and s_f (fake image, right text):

* discriminator, GAN-CLS: L_D = softplus(-s_r) + (softplus(s_w) + softplus(s_f)) / 2, the
  paper's log(s_r) + (log(1 - s_w) + log(1 - s_f)) / 2; without CLS the plain conditional GAN,
  softplus(-s_r) + softplus(s_f);
* generator: softplus(-s_f) (the non-saturating loss), and with GAN-INT plus
  weight * softplus(-s_i), s_i D's logit of G's image for an interpolated embedding with that
  embedding.  D is not trained on the interpolated pairs: no real image goes with them.

Per-example functions return (B,) vectors; the trainer sums them and divides by the global batch.
"""
from __future__ import annotations

from keras import ops


def discriminator_loss(real_right, fake_right, real_wrong=None):
    """Per-example D loss; `real_wrong` None: no matching-aware term (GAN-CLS off)."""
    if real_wrong is None:
        return ops.softplus(-real_right) + ops.softplus(fake_right)
    return ops.softplus(-real_right) + (ops.softplus(real_wrong) + ops.softplus(fake_right)) / 2.0


def generator_loss(fake_right, fake_interpolated=None, interpolation_weight: float = 1.0):
    """Per-example G loss; `fake_interpolated` None: no GAN-INT term."""
    loss = ops.softplus(-fake_right)
    if fake_interpolated is None:
        return loss
    return loss + interpolation_weight * ops.softplus(-fake_interpolated)


def interpolate(first, second, beta: float):
    """beta * first + (1 - beta) * second: the paper's t1, t2 mix (beta = 0.5)."""
    return beta * first + (1.0 - beta) * second
