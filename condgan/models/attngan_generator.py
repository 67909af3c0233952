"""AttnGAN's attentional generator (Xu et al., CVPR 2018, sec. 3.1-3.2), in keras.layers / keras.ops.

Facts taken from the paper and the reference code (github.com/taoxugit/AttnGAN `model.py`,
`GlobalAttention.py`); the code is this project's own, channels-last:

* **Conditioning augmentation** (StackGAN, Zhang et al. 2017): Dense(sentence -> 4c) + GLU
  gives (mu, log-variance) of size c each; c_hat = mu + eps * exp(logvar / 2).  The KL term
  KL(N(mu, sigma) || N(0, I)) keeps the conditioning manifold smooth
  (`condgan.families.attngan.losses.kl_loss`).
  eps is an *input* (`ca_noise`) rather than drawn inside the layer, so the trainer's stateless
  seeds and the exporter's per-seed noise decide every random number.
* **Initial stage** F0: [c_hat, z] -> Dense (no bias) -> BN -> GLU -> 4x4, then up-blocks
  (nearest x2, conv3x3 without bias, BN, GLU) to the first stage's resolution.  AttnGAN goes to
  64x64 with 4 up-blocks; for smaller images (or fewer stages) we use fewer up-blocks.  Each
  up-block halves the channels, so the stage ends with `gf` channels whatever its depth.
* **Initial word attention** (`initial_word_attention=True`; not in AttnGAN, whose first stage
  sees the caption only through the sentence vector, so one vector must carry which colour goes
  with which object and where): after the first up-block (8x8) two coordinate channels say where
  each cell is, every cell attends over the words as the later stages do, and the word context
  is joined back (conv3x3 -> BN -> GLU, added to the hidden map).  A cell can then take the
  words of the object phrase that names its position, which decides the layout and colours
  that the later stages only refine.
* **Attentional stages** F_i (eq. 2): word features are projected to the image feature width
  (1x1 conv = Dense without bias), every sub-region attends over the caption's real words
  (softmax over words; padding masked out), and the word-context per sub-region is concatenated
  to the hidden features, followed by `residual_blocks` residual blocks (conv3x3 -> BN -> GLU
  -> conv3x3 -> BN, plus identity) and an up-block that doubles the resolution.
* **Sentence-only stages** (`word_attention=False`: StackGAN-v2's `NEXT_STAGE_G`, Zhang et al.
  2017/2018, the StackGAN baseline): in place of the word context, the conditioning-augmentation
  code c_hat is tiled over the hidden map and concatenated to it, then a joint conv3x3 -> BN ->
  GLU to 2*gf channels (the width AttnGAN's residual blocks run at), the same residual blocks
  and up-block.  Every stage then sees the caption only through the sentence vector.
* Each stage has its own image head: conv3x3 -> tanh.
* The number of stages is configurable: 1 stage is a sentence-conditioned DCGAN (no word
  attention: the no-attention baseline), 2 stages at 64 px give a 32 px initial stage and one
  attentional stage, 3 stages at 256 px are the paper's 64 -> 128 -> 256.

The generator is a functional `keras.Model` with inputs [noise (Z,), ca_noise (C,),
sentence (D,), words (D, T) channels-first as the DAMSM text encoder returns them,
lengths () int32] and outputs [image_1, ..., image_k, mu, logvar, attn_2, ..., attn_k]
(attention maps (T, h, w) per attentional stage; none without word attention, whose generator
keeps the words and lengths inputs, unused, so every caption model is called alike).
`final_image_model` gives the export/serving view with only the last image.
"""
from __future__ import annotations

import math

import keras
from keras import layers, ops

from condgan.errors import UserError
from condgan.models.damsm_text import word_mask

_MASKED = -1e9  # effectively -inf inside a softmax, without inf * 0 = nan in gradients


@keras.saving.register_keras_serializable(package="condgan")
class GLU(keras.layers.Layer):
    """Gated linear unit over the last axis (Dauphin et al. 2017): a[:C/2] * sigmoid(a[C/2:])."""

    def call(self, x):
        half = ops.shape(x)[-1] // 2
        return x[..., :half] * ops.sigmoid(x[..., half:])

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % 2:
            raise ValueError(f"GLU needs an even number of channels, got {input_shape[-1]}")
        last = None if input_shape[-1] is None else input_shape[-1] // 2
        return (*input_shape[:-1], last)


@keras.saving.register_keras_serializable(package="condgan")
class ConditioningAugmentation(keras.layers.Layer):
    """[sentence (B, D), eps (B, c)] -> [c_hat, mu, logvar], each (B, c) (StackGAN CA)."""

    def __init__(self, condition_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.condition_dim = condition_dim
        self.fc = layers.Dense(condition_dim * 4, name="fc")
        self.glu = GLU()

    def build(self, input_shape):
        self.fc.build(input_shape[0])
        self.built = True

    def call(self, inputs):
        sentence, eps = inputs
        x = self.glu(self.fc(sentence))
        mu, logvar = x[:, :self.condition_dim], x[:, self.condition_dim:]
        return [mu + eps * ops.exp(0.5 * logvar), mu, logvar]

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0][0], self.condition_dim)
        return [shape, shape, shape]

    def get_config(self):
        return {**super().get_config(), "condition_dim": self.condition_dim}


@keras.saving.register_keras_serializable(package="condgan")
class WordAttention(keras.layers.Layer):
    """F_attn (AttnGAN eq. 2): word-context vector for every sub-region of the hidden image.

    [h (B, H, W, C), words (B, D, T), lengths (B,)] -> [context (B, H, W, C), attn (B, T, H, W)].
    Words are projected D -> C (1x1 conv without bias, AttnGAN `conv_context`); the attention
    of sub-region j over word i is softmax_i(h_j . e'_i) with padded words excluded, so the
    weights of every sub-region sum to one over the caption's real words.
    """

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.project = layers.Dense(channels, use_bias=False, name="word_proj")

    def build(self, input_shape):
        self.project.build((None, None, input_shape[1][1]))
        self.built = True

    def call(self, inputs):
        h, words, lengths = inputs
        shape = ops.shape(h)
        steps = ops.shape(words)[2]
        e = self.project(ops.transpose(words, (0, 2, 1)))              # (B, T, C)
        query = ops.reshape(h, (shape[0], shape[1] * shape[2], shape[3]))  # (B, N, C)
        scores = ops.einsum("bnc,btc->bnt", query, e)
        real = word_mask(lengths, steps)
        scores = ops.where(real[:, None, :], scores, _MASKED)
        attn = ops.softmax(scores, axis=-1)                             # over words
        context = ops.einsum("bnt,btc->bnc", attn, e)
        context = ops.reshape(context, shape)
        attn_maps = ops.reshape(ops.transpose(attn, (0, 2, 1)), (shape[0], steps, shape[1], shape[2]))
        return [context, attn_maps]

    def compute_output_shape(self, input_shape):
        h, words = input_shape[0], input_shape[1]
        return [tuple(h), (h[0], words[2], h[1], h[2])]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="condgan")
class CoordinateChannels(keras.layers.Layer):
    """(B, H, W, C) -> (B, H, W, C + 2): the cell's row and column, each from -1 to 1
    (CoordConv, Liu et al. 2018), so a content-based attention can depend on where a cell is."""

    def call(self, x):
        rows, cols = ops.meshgrid(ops.linspace(-1.0, 1.0, x.shape[1]),
                                  ops.linspace(-1.0, 1.0, x.shape[2]), indexing="ij")
        grid = ops.cast(ops.stack([rows, cols], axis=-1), x.dtype)[None]
        grid = ops.broadcast_to(grid, (ops.shape(x)[0], x.shape[1], x.shape[2], 2))
        return ops.concatenate([x, grid], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 2)


def _bn(name, synchronized=False):
    # synchronized (TensorFlow only): batch statistics over the global batch under
    # tf.distribute, so replicas compute what one device would; exported models are rebuilt
    # without it so they load on any backend.
    kwargs = {"synchronized": True} if synchronized else {}
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name, **kwargs)


def up_block(x, channels: int, name: str, synchronized=False):
    """Nearest x2, conv3x3 (no bias) to 2*channels, BN, GLU -> channels."""
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    x = layers.Conv2D(channels * 2, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return GLU(name=f"{name}_glu")(_bn(f"{name}_bn", synchronized)(x))


def residual_block(x, channels: int, name: str, synchronized=False):
    y = layers.Conv2D(channels * 2, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = GLU(name=f"{name}_glu")(_bn(f"{name}_bn1", synchronized)(y))
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = _bn(f"{name}_bn2", synchronized)(y)
    return layers.Add(name=f"{name}_add")([x, y])


def sentence_joint(h, c_hat, channels: int, name: str, synchronized=False):
    """StackGAN-v2's joint input of a later stage: c_hat (B, C) tiled over h's map and
    concatenated to it, conv3x3 (no bias) to 2*channels, BN, GLU -> channels."""
    size = int(h.shape[1])
    code = layers.Reshape((1, 1, int(c_hat.shape[-1])), name=f"{name}_code")(c_hat)
    tiled = layers.UpSampling2D(size, name=f"{name}_tile")(code)
    joint = layers.Concatenate(name=f"{name}_concat")([h, tiled])
    joint = layers.Conv2D(channels * 2, 3, padding="same", use_bias=False,
                          name=f"{name}_conv")(joint)
    return GLU(name=f"{name}_glu")(_bn(f"{name}_bn", synchronized)(joint))


def initial_word_context(h, words, lengths, name: str, synchronized=False):
    """The initial stage's word attention (module docstring): h plus the joined word context
    that each cell, knowing where it is, attends to."""
    channels = int(h.shape[-1])
    located = CoordinateChannels(name=f"{name}_xy")(h)
    context, _ = WordAttention(channels + 2, name=f"{name}_attn")([located, words, lengths])
    joint = layers.Concatenate(name=f"{name}_concat")([h, context])
    joint = layers.Conv2D(channels * 2, 3, padding="same", use_bias=False,
                          name=f"{name}_conv")(joint)
    joint = GLU(name=f"{name}_glu")(_bn(f"{name}_bn", synchronized)(joint))
    return layers.Add(name=f"{name}_add")([h, joint])


def image_head(x, name: str):
    x = layers.Conv2D(3, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.Activation("tanh", dtype="float32", name=name)(x)


def stage_sizes(image_size: int, stages: int) -> list[int]:
    """Resolution of each stage's image, e.g. (64, 2) -> [32, 64], (256, 3) -> [64, 128, 256]."""
    if stages < 1:
        raise UserError(f"stages={stages}: use 1 (no attention) or more")
    first = image_size / 2 ** (stages - 1)
    ups = math.log2(first / 4) if first >= 8 else -1
    if ups != int(ups) or ups < 1:
        raise UserError(f"image_size={image_size} with stages={stages} is not supported: the first "
                        "stage must be a power of two >= 8 px (e.g. 64 px with 1 or 2 stages, "
                        "256 px with 3)")
    return [int(first) * 2 ** i for i in range(stages)]


def build_attngan_generator(image_size: int = 64, stages: int = 2, *, text_dim: int = 256,
                            max_len: int = 18, z_dim: int = 100, condition_dim: int = 100,
                            gf: int = 32, residual_blocks: int = 2, synchronized_bn: bool = False,
                            word_attention: bool = True, initial_word_attention: bool = False,
                            name: str = "attngan_generator") -> keras.Model:
    """The multi-stage generator (see the module docstring for inputs and outputs).

    AttnGAN birds: image_size 256, stages 3, text_dim 256, z_dim 100, condition_dim 100,
    gf 32 (GAN.GF_DIM), residual_blocks 2 (GAN.R_NUM).  `word_attention=False` gives
    StackGAN-v2's later stages (the sentence code in place of word attention);
    `initial_word_attention=True` lets the first stage attend over the words too.
    """
    sizes = stage_sizes(image_size, stages)
    ups = int(math.log2(sizes[0] / 4))
    noise = keras.Input((z_dim,), name="noise")
    ca_noise = keras.Input((condition_dim,), name="ca_noise")
    sentence = keras.Input((text_dim,), name="sentence")
    words = keras.Input((text_dim, max_len), name="words")
    lengths = keras.Input((), dtype="int32", name="lengths")

    c_hat, mu, logvar = ConditioningAugmentation(condition_dim, name="ca")([sentence, ca_noise])
    width = gf * 2 ** ups
    h = layers.Concatenate(name="c_z")([c_hat, noise])
    h = layers.Dense(4 * 4 * width * 2, use_bias=False, name="init_fc")(h)
    h = GLU(name="init_glu")(_bn("init_bn", synchronized_bn)(h))
    h = layers.Reshape((4, 4, width), name="init_reshape")(h)
    for i in range(ups):
        width //= 2
        h = up_block(h, width, f"init_up{i + 1}", synchronized_bn)
        if initial_word_attention and i == 0:
            h = initial_word_context(h, words, lengths, "init_words", synchronized_bn)
    images, attns = [image_head(h, "image_1")], []
    for stage in range(2, stages + 1):
        if word_attention:
            context, attn = WordAttention(gf, name=f"attn_{stage}")([h, words, lengths])
            h = layers.Concatenate(name=f"stage{stage}_concat")([h, context])
            attns.append(attn)
        else:
            h = sentence_joint(h, c_hat, gf * 2, f"stage{stage}_joint", synchronized_bn)
        for r in range(residual_blocks):
            h = residual_block(h, gf * 2, f"stage{stage}_res{r + 1}", synchronized_bn)
        h = up_block(h, gf, f"stage{stage}_up", synchronized_bn)
        images.append(image_head(h, f"image_{stage}"))
    return keras.Model([noise, ca_noise, sentence, words, lengths], [*images, mu, logvar, *attns],
                       name=name)


def split_outputs(outputs, stages: int):
    """Generator outputs -> (images per stage, mu, logvar, attention maps per attentional stage)."""
    outputs = list(outputs)
    return outputs[:stages], outputs[stages], outputs[stages + 1], outputs[stages + 2:]


def final_image_model(generator: keras.Model, stages: int) -> keras.Model:
    """The same layers with only the last stage's image as output (export and serving)."""
    return keras.Model(generator.inputs, generator.outputs[stages - 1], name=generator.name)

