"""DAMSM image encoders: images -> region features (B, D, h, w) and a global feature (B, D).

Input: float images in [-1, 1], (B, H, W, 3) channels-last (the scaling AttnGAN and Keras's
InceptionV3 both expect).

* `DamsmInceptionEncoder` (AttnGAN `CNN_ENCODER`, Xu et al. 2018, sec. 3.3): images are resized
  to 299 px; a frozen ImageNet InceptionV3 gives the `mixed_6e` local features (Keras calls that
  block `mixed7`: 17 x 17 x 768) and the average-pooled last block (2048); trainable projections
  map them to D (a 1x1 convolution without bias, and a Dense), initialised uniform +-0.1 as in
  AttnGAN.  ImageNet weights are used only when already in the Keras cache
  (`~/.keras/models/`): nothing is downloaded; `weights=None` gives random frozen features.
* `DamsmCnnEncoder`: a small convolutional encoder trained from scratch, for small images and
  offline use (no pretrained weights needed).  Regions come from the feature map at 1/8 of the
  input size (8 x 8 for 64 px), the global feature from a further downsampled map, pooled.
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
from keras import layers, ops

INCEPTION_NOTOP = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


def cached_inception_weights() -> str | None:
    """Path of the ImageNet InceptionV3 (no top) weights in the Keras cache, or None."""
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    path = base / "models" / INCEPTION_NOTOP
    return str(path) if path.is_file() else None


def _add_projections(model: keras.Model, dim: int) -> None:
    """The trainable heads both encoders share: regions via a 1x1 conv without bias, the global
    feature via Dense, both initialised uniform +-0.1 (AttnGAN `CNN_ENCODER.init_trainable_weights`)."""
    init = keras.initializers.RandomUniform(-0.1, 0.1)
    model.region_proj = layers.Conv2D(dim, 1, use_bias=False, kernel_initializer=init,
                                      name="region_proj")
    model.global_proj = layers.Dense(dim, kernel_initializer=init, name="global_proj")
    model.pool = layers.GlobalAveragePooling2D()


def _to_channels_first(x):
    return ops.transpose(x, (0, 3, 1, 2))


@keras.saving.register_keras_serializable(package="condgan")
class DamsmInceptionEncoder(keras.Model):
    def __init__(self, dim: int = 256, weights: str | None = "cache", **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.weights_source = weights
        path = cached_inception_weights() if weights == "cache" else weights
        base = keras.applications.InceptionV3(include_top=False, weights=None,
                                              input_shape=(299, 299, 3))
        if path:
            base.load_weights(path)
        self.loaded_weights = path
        # One model with two outputs: the 17x17 `mixed7` (= Mixed_6e) map and the final map.
        self.backbone = keras.Model(base.input, [base.get_layer("mixed7").output, base.output],
                                    name="inception_v3")
        self.backbone.trainable = False  # frozen, as AttnGAN trains only the projections
        _add_projections(self, dim)

    def call(self, images, training=False):
        x = ops.image.resize(images, (299, 299), interpolation="bilinear")
        local, final = self.backbone(x, training=False)
        regions = self.region_proj(local)
        global_ = self.global_proj(self.pool(final))
        return _to_channels_first(regions), global_

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "weights": self.weights_source}


@keras.saving.register_keras_serializable(package="condgan")
class DamsmCnnEncoder(keras.Model):
    def __init__(self, dim: int = 256, width: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.width = dim, width

        def block(channels, name):
            # stride-2 conv then a 3x3 conv: halves the size, as cheap as it gets on a CPU
            return keras.Sequential([
                layers.Conv2D(channels, 3, strides=2, padding="same"),
                layers.BatchNormalization(), layers.LeakyReLU(0.2),
                layers.Conv2D(channels, 3, padding="same"),
                layers.BatchNormalization(), layers.LeakyReLU(0.2)], name=name)

        self.local_blocks = [block(width, "down1"), block(width * 2, "down2"),
                             block(width * 4, "down3")]
        self.global_blocks = [block(width * 8, "down4")]
        _add_projections(self, dim)

    def call(self, images, training=False):
        x = images
        for b in self.local_blocks:
            x = b(x, training=training)
        regions = self.region_proj(x)
        for b in self.global_blocks:
            x = b(x, training=training)
        return _to_channels_first(regions), self.global_proj(self.pool(x))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "width": self.width}


def build_image_encoder(kind: str, dim: int, image_size: int, width: int = 32,
                        weights: str | None = "cache") -> keras.Model:
    """`kind` "cnn" (from scratch) or "inception" (frozen ImageNet InceptionV3); built."""
    if kind == "cnn":
        encoder = DamsmCnnEncoder(dim, width)
    elif kind == "inception":
        encoder = DamsmInceptionEncoder(dim, weights)
    else:
        from condgan.errors import UserError
        raise UserError(f"image encoder {kind!r} is unknown: use 'cnn' or 'inception'")
    encoder(ops.zeros((1, image_size, image_size, 3)))
    return encoder
