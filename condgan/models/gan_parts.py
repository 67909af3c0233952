"""What the GAN family's two backbones (`dcgan.py`, `resnet_gan.py`) share: the resolution rule,
G's batch norm (per class for a projection model), and D's heads on its features."""
from __future__ import annotations

import math

import keras
from keras import layers

from condgan.errors import UserError
from condgan.models.layers import ConditionalBatchNorm, ProjectionLogit


def num_blocks(image_size: int) -> int:
    """Doublings from 4x4 to `image_size`: any power of two >= 16 (32 and 64 are tested)."""
    blocks = math.log2(image_size / 4)
    if image_size < 16 or blocks != int(blocks):
        raise UserError(f"image size {image_size} is not supported: use a power of two >= 16 "
                        "(e.g. 32 or 64)")
    return int(blocks)


def batch_norm(conditioning: str, num_classes: int, label, synchronized: bool):
    """G's normalisation, `norm(x, index)`: conditional batch norm (gain and bias per class of
    `label`) for a projection model, else plain batch norm; layers named cbn<index> / bn<index>."""
    def norm(x, index):
        if conditioning == "projection":
            return ConditionalBatchNorm(num_classes, synchronized=synchronized,
                                        name=f"cbn{index}")([x, label])
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=synchronized,
                                         name=f"bn{index}")(x)
    return norm


def discriminator_heads(inputs, features, label, *, conditioning: str, num_classes: int,
                        logit_layer, aux_classifier: bool, name: str) -> keras.Model:
    """D as a model from its features: the realness logit (`logit_layer`, spectrally normalised
    or not), plus the projection term for a projection model, and with `aux_classifier` a
    second output of class logits."""
    logit = logit_layer(features)
    if conditioning == "projection":
        logit = layers.Add(name="logit_plus_projection")(
            [logit, ProjectionLogit(num_classes, name="projection")([features, label])])
    score = layers.Activation("linear", dtype="float32", name="score")(logit)
    if not aux_classifier:
        return keras.Model(inputs, score, name=name)
    # No spectral norm here: it bounds the class logits by the feature norm (about 2 on
    # CIFAR-10 with the DCGAN D), and a spectrally normalised head stayed at chance on real
    # images (cross-entropy 2.0-2.15 over 200k images, measured).  The head is an output of
    # its own, so the realness logit keeps its Lipschitz bound.
    class_logits = layers.Dense(num_classes, name="aux_classifier")(features)
    class_logits = layers.Activation("linear", dtype="float32", name="class_logits")(class_logits)
    return keras.Model(inputs, [score, class_logits], name=name)
