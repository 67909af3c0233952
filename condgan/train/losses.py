"""GAN losses on discriminator logits, per example (the caller averages over the *global*
batch, which is what keeps replicas under tf.distribute equivalent to one device).
"""
from __future__ import annotations

import keras
from keras import ops

LOSSES = ("bce", "hinge")


def d_loss_bce(real_logits, fake_logits):
    """Non-saturating GAN, D side (Goodfellow et al. 2014): -log D(x) - log(1 - D(G(z)))."""
    return ops.softplus(-real_logits) + ops.softplus(fake_logits)


def g_loss_bce(fake_logits):
    """Non-saturating G loss: -log D(G(z))."""
    return ops.softplus(-fake_logits)


def d_loss_hinge(real_logits, fake_logits):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): relu(1 - D(x)) + relu(1 + D(G(z)))."""
    return ops.relu(1.0 - real_logits) + ops.relu(1.0 + fake_logits)


def g_loss_hinge(fake_logits):
    return -fake_logits


def class_loss(labels, class_logits):
    """Cross-entropy of an auxiliary classifier's logits against the labels (AC-GAN), per example."""
    return keras.losses.sparse_categorical_crossentropy(labels, class_logits, from_logits=True)


def get_losses(name: str):
    """(d_loss, g_loss) per-example functions for a loss name."""
    from condgan.errors import UserError

    if name == "bce":
        return d_loss_bce, g_loss_bce
    if name == "hinge":
        return d_loss_hinge, g_loss_hinge
    raise UserError(f"loss {name!r} is not known: use one of {LOSSES}")
