"""The conditional VAE's encoder: image (and label) -> the posterior's mean and log-variance.

Its decoder is the DCGAN generator (`condgan.models.dcgan.build_generator`): noise and label in,
an image in [-1, 1] out, so a trained decoder is served, sampled and scored exactly like a GAN's
generator.  The label enters the encoder as a learned plane concatenated to the image (the
concat discriminator's way), so the latent needs to carry only what the class does not say.
"""
from __future__ import annotations

import keras
from keras import layers

from condgan.models.dcgan import CONCAT_EMBED_DIM
from condgan.models.gan_parts import num_blocks


def build_encoder(image_size: int = 32, latent_dim: int = 64, base_channels: int = 64,
                  num_classes: int = 0, channels: int = 3, name: str = "encoder") -> keras.Model:
    """[image, label] (or image) -> [mean, log_variance], each (B, latent_dim)."""
    blocks = num_blocks(image_size)
    image = keras.Input((image_size, image_size, channels), name="image")
    inputs = [image]
    h = image
    if num_classes:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        plane = layers.Embedding(num_classes, CONCAT_EMBED_DIM, name="label_embedding")(label)
        plane = layers.Dense(image_size * image_size, name="label_plane")(plane)
        plane = layers.Reshape((image_size, image_size, 1))(plane)
        h = layers.Concatenate(name="image_and_label")([image, plane])
    width = base_channels
    for i in range(blocks):
        h = layers.Conv2D(width, 4, strides=2, padding="same", name=f"down{i + 1}")(h)
        h = layers.LeakyReLU(0.2)(layers.BatchNormalization(name=f"bn{i + 1}")(h))
        width = min(width * 2, base_channels * 8)
    h = layers.Flatten()(h)
    mean = layers.Dense(latent_dim, dtype="float32", name="mean")(h)
    # Starts at 0 (a unit posterior); `safe_log_variance` keeps it where exp() is safe.
    log_variance = layers.Dense(latent_dim, kernel_initializer="zeros", dtype="float32",
                                name="log_variance")(h)
    return keras.Model(inputs, [mean, log_variance], name=name)


def safe_log_variance(log_variance):
    """The encoder's log-variance clipped to [-12, 6]: a posterior standard deviation between
    0.0025 and 20, so neither exp() nor the KL term overflows early in training."""
    return keras.ops.clip(log_variance, -12.0, 6.0)
