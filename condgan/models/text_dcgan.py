"""GAN-INT-CLS networks (Reed et al. 2016, "Generative Adversarial Text to Image Synthesis",
sec. 4 and fig. 2): DCGAN generator and discriminator conditioned on a sentence embedding.

* Both networks compress the sentence embedding with their own fully connected layer and a
  leaky ReLU (slope 0.2) to `projected_dim` numbers (128 in the paper).
* **G**: [noise, projected text] -> Dense to 4x4 -> transposed convolutions doubling the size,
  batch norm and ReLU after each but the last, tanh image in [-1, 1].
* **D**: strided convolutions (batch norm and leaky ReLU, none on the first) down to 4x4; the
  projected text replicated over the 4x4 grid and concatenated depth-wise; a 1x1 convolution
  with batch norm and leaky ReLU; a 4x4 valid convolution gives one logit per image.
* **D's options** (both off in the paper): `spectral_norm` wraps every convolution and dense
  layer of D in `SpectralNorm` (Miyato et al. 2018) and drops D's batch norms, as SNGAN's D has
  none (the convolutions then get biases, which the batch norms' shifts stood for);
  `minibatch_std` adds a `MinibatchStdDev` channel to the 4x4 image features before the text
  joins them (Karras et al. 2018), so a G that draws one picture per caption shows at once.

Resolution doubles per block from 4x4, so any power of two >= 16 works (16, 32, 64 tested).
Standard Keras layers and condgan's registered ones: the models save and load in safe mode.
"""
from __future__ import annotations

import keras
from keras import layers

from condgan.models.gan_parts import num_blocks
from condgan.models.layers import MinibatchStdDev, SpectralNorm


def _bn(name: str, synchronized: bool):
    kwargs = {"synchronized": True} if synchronized else {}   # global-batch statistics (TF)
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name, **kwargs)


def _project_text(sentence, projected_dim: int, name: str, wrap=lambda layer: layer):
    h = wrap(layers.Dense(projected_dim, name=f"{name}_dense"))(sentence)
    return layers.LeakyReLU(0.2, name=name)(h)


def build_text_generator(image_size: int = 64, latent_dim: int = 100, text_dim: int = 256,
                         projected_dim: int = 128, base_channels: int = 64, channels: int = 3,
                         synchronized_bn: bool = False, name: str = "generator") -> keras.Model:
    """[noise (latent_dim,), sentence (text_dim,)] -> image (image_size, image_size, channels)."""
    blocks = num_blocks(image_size)
    noise = keras.Input((latent_dim,), name="noise")
    sentence = keras.Input((text_dim,), name="sentence")
    h = layers.Concatenate(name="noise_and_text")(
        [noise, _project_text(sentence, projected_dim, "text_projection")])
    width = base_channels * 2 ** (blocks - 1)
    h = layers.Dense(4 * 4 * width, use_bias=False, name="project")(h)
    h = layers.Reshape((4, 4, width))(h)
    h = layers.ReLU()(_bn("bn0", synchronized_bn)(h))
    for i in range(blocks - 1):
        width = base_channels * 2 ** (blocks - 2 - i)
        h = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                   name=f"up{i + 1}")(h)
        h = layers.ReLU()(_bn(f"bn{i + 1}", synchronized_bn)(h))
    h = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", name="to_rgb")(h)
    image = layers.Activation("tanh", dtype="float32", name="image")(h)
    return keras.Model([noise, sentence], image, name=name)


def build_text_discriminator(image_size: int = 64, text_dim: int = 256, projected_dim: int = 128,
                             base_channels: int = 64, channels: int = 3,
                             synchronized_bn: bool = False, spectral_norm: bool = False,
                             minibatch_std: bool = False,
                             name: str = "discriminator") -> keras.Model:
    """[image, sentence (text_dim,)] -> one unnormalised logit per image (B, 1).

    `spectral_norm`: SNGAN's D (every convolution and dense layer spectrally normalised, no
    batch norm); `minibatch_std`: the batch's spread as one more channel of the 4x4 features
    (D must then score real and generated images in separate calls, as the trainer does)."""
    blocks = num_blocks(image_size)

    def maybe_sn(layer):
        return SpectralNorm(layer, name=f"sn_{layer.name}") if spectral_norm else layer

    image = keras.Input((image_size, image_size, channels), name="image")
    sentence = keras.Input((text_dim,), name="sentence")
    h = image
    for i in range(blocks):
        width = base_channels * 2 ** min(i, 3)
        h = maybe_sn(layers.Conv2D(width, 4, strides=2, padding="same",
                                   use_bias=i == 0 or spectral_norm, name=f"down{i + 1}"))(h)
        if i and not spectral_norm:   # DCGAN: no batch norm on the discriminator's input layer
            h = _bn(f"down{i + 1}_bn", synchronized_bn)(h)
        h = layers.LeakyReLU(0.2)(h)
    width = int(h.shape[-1])   # the joint convolution's, with or without the spread channel
    if minibatch_std:
        h = MinibatchStdDev(name="minibatch_std")(h)
    # The paper's "replicated spatially": the projected text at every cell of the 4x4 grid.
    text = _project_text(sentence, projected_dim, "text_projection", maybe_sn)
    text = layers.Reshape((1, 1, projected_dim))(text)
    text = layers.UpSampling2D(size=4, name="text_replicated")(text)
    h = layers.Concatenate(name="image_and_text")([h, text])
    h = maybe_sn(layers.Conv2D(width, 1, use_bias=spectral_norm, name="joint"))(h)
    if not spectral_norm:
        h = _bn("joint_bn", synchronized_bn)(h)
    h = layers.LeakyReLU(0.2)(h)
    h = maybe_sn(layers.Conv2D(1, 4, padding="valid", name="logit"))(h)
    logit = layers.Reshape((1,))(h)
    score = layers.Activation("linear", dtype="float32", name="score")(logit)
    return keras.Model([image, sentence], score, name=name)


class FixedSentences(keras.Model):
    """G with its sentence input held fixed, one embedding per noise row: noise -> image, the
    signature of the helpers written for unconditional generators (standing batch-norm
    statistics, `condgan.models.standing_stats`).  Holds no variables of its own."""

    def __init__(self, generator: keras.Model, sentences, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.sentences = generator, sentences

    def call(self, noise, training=False):
        sentences = keras.ops.convert_to_tensor(self.sentences, noise.dtype)
        return self.generator([noise, sentences], training=training)
