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

The hinge variant (`loss="hinge"`, Lim & Ye 2017; Miyato et al. 2018, what the project's
spectrally normalised GANs train with) keeps the same terms and weights:

* discriminator, GAN-CLS: relu(1 - s_r) + (relu(1 + s_w) + relu(1 + s_f)) / 2; without CLS
  relu(1 - s_r) + relu(1 + s_f);
* generator: -s_f, and with GAN-INT plus weight * -s_i.

Per-example functions return (B,) vectors; the trainer sums them and divides by the global batch.
"""
from __future__ import annotations

from keras import ops

from condgan.errors import UserError


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


def discriminator_hinge_loss(real_right, fake_right, real_wrong=None):
    """Per-example hinge D loss; `real_wrong` None: no matching-aware term (GAN-CLS off)."""
    if real_wrong is None:
        return ops.relu(1.0 - real_right) + ops.relu(1.0 + fake_right)
    return ops.relu(1.0 - real_right) + (ops.relu(1.0 + real_wrong)
                                         + ops.relu(1.0 + fake_right)) / 2.0


def generator_hinge_loss(fake_right, fake_interpolated=None, interpolation_weight: float = 1.0):
    """Per-example hinge G loss (D's score of the fakes, negated); `fake_interpolated` None: no
    GAN-INT term."""
    loss = -fake_right
    if fake_interpolated is None:
        return loss
    return loss + interpolation_weight * -fake_interpolated


# The config's `loss` -> (D loss, G loss).
LOSSES = {"bce": (discriminator_loss, generator_loss),
          "hinge": (discriminator_hinge_loss, generator_hinge_loss)}


def get_losses(name: str):
    """(D loss, G loss) per-example functions of the config's `loss`."""
    if name not in LOSSES:
        raise UserError(f"loss {name!r} is not known: use one of {tuple(LOSSES)} (bce: the "
                        "paper's cross-entropy; hinge: with spectral_norm, as SNGAN)")
    return LOSSES[name]


def interpolate(first, second, beta: float):
    """beta * first + (1 - beta) * second: the paper's t1, t2 mix (beta = 0.5)."""
    return beta * first + (1.0 - beta) * second
