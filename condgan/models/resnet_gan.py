"""ResNet generator and discriminator in the SNGAN / BigGAN style (Miyato et al. 2018, Miyato &
Koyama 2018, Brock et al. 2019), the backbone PyTorch-StudioGAN trains as BigGAN-DiffAug at 32 px.

* G: the noise projected to 4x4, then one residual up-block per doubling (batch norm, or
  conditional batch norm per class, -> ReLU -> nearest-neighbour upsampling -> 3x3 conv, twice;
  the shortcut upsamples and a 1x1 conv matches the width), then BN -> ReLU -> 3x3 conv -> tanh.
* D: residual down-blocks to 8x8 (the first one "optimised": conv before the activation, as
  SNGAN does on raw pixels), average pooling to halve, two more blocks at 8x8, ReLU,
  global *sum* pooling, a linear logit plus the projection term for a class model; spectral
  norm on every layer.

The residual D pools where the DCGAN D flattens: its eight 3x3 convolutions see most of the
image from every position before the pooling, where the DCGAN D's three strided ones do not.

Widths: G's blocks have 4 x `base_channels` channels and D's 2 x `base_channels` (SNGAN's
CIFAR-10 networks are base 64: 256 and 128).
"""
from __future__ import annotations

import keras
from keras import layers

from condgan.errors import UserError
from condgan.models.gan_parts import batch_norm, discriminator_heads, num_blocks
from condgan.models.layers import SpectralNorm

CONDITIONINGS = ("none", "projection")


def _check(conditioning: str, num_classes: int) -> None:
    if conditioning not in CONDITIONINGS:
        raise UserError(f"conditioning {conditioning!r} is not available with architecture='resnet': "
                        f"use one of {CONDITIONINGS}")
    if conditioning == "projection" and num_classes < 2:
        raise UserError(f"a conditional model needs at least 2 classes, got {num_classes}")


def build_resnet_generator(image_size: int = 32, latent_dim: int = 128, base_channels: int = 64,
                           num_classes: int = 0, conditioning: str = "none", channels: int = 3,
                           synchronized_bn: bool = False, name: str = "generator") -> keras.Model:
    """Noise (and label) -> image in [-1, 1]; same inputs and outputs as the DCGAN generator."""
    _check(conditioning, num_classes)
    blocks = num_blocks(image_size)
    width = 4 * base_channels
    noise = keras.Input((latent_dim,), name="noise")
    inputs = [noise]
    label = None
    if conditioning == "projection":
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
    normalise = batch_norm(conditioning, num_classes, label, synchronized_bn)

    h = layers.Dense(4 * 4 * width, name="project")(noise)
    h = layers.Reshape((4, 4, width))(h)
    for i in range(blocks):
        shortcut = layers.UpSampling2D(2, name=f"up{i + 1}_skip_upsample")(h)
        shortcut = layers.Conv2D(width, 1, name=f"up{i + 1}_skip")(shortcut)
        h = layers.ReLU()(normalise(h, f"{i + 1}a"))
        h = layers.UpSampling2D(2, name=f"up{i + 1}_upsample")(h)
        h = layers.Conv2D(width, 3, padding="same", name=f"up{i + 1}_conv1")(h)
        h = layers.ReLU()(normalise(h, f"{i + 1}b"))
        h = layers.Conv2D(width, 3, padding="same", name=f"up{i + 1}_conv2")(h)
        h = layers.Add(name=f"up{i + 1}")([h, shortcut])
    h = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=synchronized_bn,
                                  name="bn_out")(h)
    h = layers.ReLU()(h)
    h = layers.Conv2D(channels, 3, padding="same", name="to_rgb")(h)
    image = layers.Activation("tanh", dtype="float32", name="image")(h)
    return keras.Model(inputs, image, name=name)


def build_resnet_discriminator(image_size: int = 32, base_channels: int = 64, num_classes: int = 0,
                               conditioning: str = "none", spectral_norm: bool = True,
                               channels: int = 3, aux_classifier: bool = False,
                               name: str = "discriminator") -> keras.Model:
    """Image (and label) -> one logit per image (and class logits with `aux_classifier`)."""
    _check(conditioning, num_classes)
    if aux_classifier and conditioning != "projection":
        raise UserError("an auxiliary classifier needs a conditional model with at least 2 classes: "
                        "set aux_classifier_weight=0 for an unconditional GAN")
    blocks = num_blocks(image_size)
    width = 2 * base_channels

    def conv(filters, size, layer_name):
        layer = layers.Conv2D(filters, size, padding="same", name=layer_name)
        return SpectralNorm(layer, name=f"sn_{layer_name}") if spectral_norm else layer

    image = keras.Input((image_size, image_size, channels), name="image")
    inputs = [image]
    label = None
    if conditioning == "projection":
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
    h = image
    # Down-blocks to 8x8 (two halvings at 32 px, as SNGAN's and BigGAN's CIFAR networks), then
    # two blocks at 8x8.
    downs = blocks - 1
    for i in range(downs + 2):
        down = i < downs
        prefix = f"down{i + 1}" if down else f"block{i + 1}"
        x = h
        if i > 0:
            h = layers.ReLU()(h)
        h = conv(width, 3, f"{prefix}_conv1")(h)
        h = layers.ReLU()(h)
        h = conv(width, 3, f"{prefix}_conv2")(h)
        if down:
            h = layers.AveragePooling2D(2, name=f"{prefix}_pool")(h)
            if i == 0:  # the optimised block: pool the pixels, then match the width
                shortcut = conv(width, 1, f"{prefix}_skip")(layers.AveragePooling2D(2)(x))
            else:
                shortcut = layers.AveragePooling2D(2)(conv(width, 1, f"{prefix}_skip")(x))
        else:
            shortcut = x
        h = layers.Add(name=prefix)([h, shortcut])
    h = layers.ReLU()(h)
    # Global sum pooling (SNGAN): the mean times the number of positions.
    features = layers.GlobalAveragePooling2D()(h)
    features = layers.Rescaling(float(h.shape[1] * h.shape[2]), name="features")(features)
    dense = layers.Dense(1, name="logit")
    return discriminator_heads(inputs, features, label,
                               conditioning=conditioning, num_classes=num_classes,
                               logit_layer=SpectralNorm(dense, name="sn_logit") if spectral_norm else dense,
                               aux_classifier=aux_classifier, name=name)
