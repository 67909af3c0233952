"""DCGAN-style generators and discriminators (Radford et al. 2016) with three ways to condition.

One backbone, three recipes, so comparisons change one thing at a time:

* ``conditioning="none"``: the unconditional DCGAN.
* ``conditioning="concat"``: the classic Keras cGAN recipe (Mirza & Osindero 2014 as popularised
  by the Keras-2-era tutorials): a label embedding concatenated to the noise in G and, as an
  extra image plane, to the image in D.
* ``conditioning="projection"``: the stronger recipe: conditional batch norm in G and a
  projection discriminator (Miyato & Koyama 2018), normally with spectral norm (Miyato et al.
  2018) and the hinge loss.

Resolution doubles per block from 4x4, so any power of two >= 16 works (32 and 64 are tested).
"""
from __future__ import annotations

import keras
from keras import layers

from condgan.errors import UserError
from condgan.models.gan_parts import batch_norm, discriminator_heads, num_blocks
from condgan.models.layers import MinibatchStdDev, SpectralNorm

CONDITIONINGS = ("none", "concat", "projection")
CONCAT_EMBED_DIM = 50  # the classic recipe's label embedding width


def _check(conditioning: str, num_classes: int) -> None:
    if conditioning not in CONDITIONINGS:
        raise UserError(f"conditioning {conditioning!r} is not known: use one of {CONDITIONINGS}")
    if conditioning != "none" and num_classes < 2:
        raise UserError(f"a conditional model needs at least 2 classes, got {num_classes}")


def build_generator(image_size: int = 32, latent_dim: int = 128, base_channels: int = 64,
                    num_classes: int = 0, conditioning: str = "none", channels: int = 3,
                    synchronized_bn: bool = False, name: str = "generator") -> keras.Model:
    """Noise (and label) -> image in [-1, 1] of shape (image_size, image_size, channels).

    `synchronized_bn` computes batch statistics over the global batch under tf.distribute
    (TensorFlow only), so replicas match one device; exported models are rebuilt without it.
    """
    _check(conditioning, num_classes)
    blocks = num_blocks(image_size)
    noise = keras.Input((latent_dim,), name="noise")
    inputs = [noise]
    h = noise
    label = None
    if conditioning != "none":
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
    if conditioning == "concat":
        embedded = layers.Embedding(num_classes, CONCAT_EMBED_DIM, name="label_embedding")(label)
        h = layers.Concatenate(name="noise_and_label")([noise, embedded])
    normalise = batch_norm(conditioning, num_classes, label, synchronized_bn)

    width = base_channels * 2 ** (blocks - 1)
    h = layers.Dense(4 * 4 * width, use_bias=False, name="project")(h)
    h = layers.Reshape((4, 4, width))(h)
    h = layers.ReLU()(normalise(h, 0))
    for i in range(blocks):
        width = int(max(base_channels * 2.0 ** (blocks - 2 - i), base_channels // 2))
        h = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                   name=f"up{i + 1}")(h)
        h = layers.ReLU()(normalise(h, i + 1))
    h = layers.Conv2D(channels, 3, padding="same", name="to_rgb")(h)
    image = layers.Activation("tanh", dtype="float32", name="image")(h)
    return keras.Model(inputs, image, name=name)


def build_discriminator(image_size: int = 32, base_channels: int = 64, num_classes: int = 0,
                        conditioning: str = "none", spectral_norm: bool = False, channels: int = 3,
                        dropout: float = 0.0, aux_classifier: bool = False,
                        minibatch_std: bool = False, name: str = "discriminator") -> keras.Model:
    """Image (and label) -> one unnormalised logit per image (losses take logits).

    `aux_classifier` adds a second output, class logits (B, num_classes) from the same features:
    the auxiliary classifier of AC-GAN (Odena et al. 2017), here beside the projection head, so
    the class is in D twice: asked of the image (the classifier) and given with it (the
    projection).  `minibatch_std` gives the last features a channel of the batch's spread
    (`MinibatchStdDev`), against a generator that draws one image for every noise.
    """
    _check(conditioning, num_classes)
    if aux_classifier and num_classes < 2:
        raise UserError("an auxiliary classifier needs a conditional model with at least 2 classes: "
                        "set aux_classifier_weight=0 for an unconditional GAN")
    blocks = num_blocks(image_size)

    def maybe_sn(layer):
        return SpectralNorm(layer, name=f"sn_{layer.name}") if spectral_norm else layer

    image = keras.Input((image_size, image_size, channels), name="image")
    inputs = [image]
    h = image
    label = None
    if conditioning != "none":
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
    if conditioning == "concat":
        plane = layers.Embedding(num_classes, CONCAT_EMBED_DIM, name="label_embedding")(label)
        plane = layers.Dense(image_size * image_size, name="label_plane")(plane)
        plane = layers.Reshape((image_size, image_size, 1))(plane)
        h = layers.Concatenate(name="image_and_label")([image, plane])
    h = maybe_sn(layers.Conv2D(base_channels, 3, padding="same", name="from_rgb"))(h)
    h = layers.LeakyReLU(0.2)(h)
    for i in range(blocks):
        width = base_channels * 2 ** min(i + 1, 3)
        h = maybe_sn(layers.Conv2D(width, 4, strides=2, padding="same", name=f"down{i + 1}"))(h)
        h = layers.LeakyReLU(0.2)(h)
    if minibatch_std:
        h = MinibatchStdDev(name="minibatch_std")(h)
    # Flatten, as DCGAN does, rather than global pooling: with only three downsamplings the
    # features' receptive field is smaller than the image, and a pooled D cannot see where
    # things are, so G learns to tile textures.
    features = layers.Flatten(name="features")(h)
    if dropout:
        features = layers.Dropout(dropout)(features)
    return discriminator_heads(inputs, features, label,
                               conditioning=conditioning, num_classes=num_classes,
                               logit_layer=maybe_sn(layers.Dense(1, name="logit")),
                               aux_classifier=aux_classifier, name=name)
