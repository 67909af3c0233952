"""StyleGAN2-lite networks (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN"), cut to 8-64 px and sized for a CPU; built only from keras.layers / keras.ops, every
custom layer registered so model files load in safe mode on any backend.

* **Mapping** (`build_mapping`): z, normalised to unit second moment, through `layers` dense
  layers (leaky ReLU) to w.  Its weights learn `lr_multiplier` times as fast as the rest
  (StyleGAN's 0.01).  A class-conditional mapping concatenates a normalised class embedding to
  z (StyleGAN2-ADA), so the class enters through W.
* **Synthesis** (`build_synthesis`): a learned 4x4 constant, then per resolution two
  modulated 3x3 convolutions with weight demodulation (the first after a nearest-neighbour
  upsampling), each followed by per-pixel noise with a learned per-channel strength, a bias and
  a leaky ReLU; a modulated 1x1 toRGB per resolution whose images add up through bilinear
  upsampling (StyleGAN2's skip generator).  It takes one w per layer, `ws` (B, num_ws, w_dim),
  and the per-pixel noise of every layer as one flat row per image (`noise_size` numbers).
* **Discriminator** (`build_discriminator`): StyleGAN2's residual D (fromRGB, then per
  resolution conv -> downsample -> conv plus a downsampled 1x1 shortcut, summed and scaled by
  1/sqrt(2)), a minibatch-standard-deviation channel at 4x4, conv, dense, and a logit, plus the
  projection term (Miyato & Koyama 2018) for a class-conditional D.  No spectral norm.
* Every weight is used with StyleGAN's equalised learning rate: stored as N(0, 1) and scaled
  by He's constant at run time, so Adam moves all layers at the same relative rate.

Widths come from one list, `channels`: the width at 4, 8, ..., image_size px (the same for G
and D, as in StyleGAN2).  Layer names say resolution and role (`b16_conv0`, `b16_torgb`).
Sampling wraps the same layers (`sampling_models`): the truncation trick towards the tracked
average w and a fixed draw of per-pixel noise (StyleGAN2's `noise_mode="const"`), so an image
depends only on its z (and class).  Downsampling is 2x2 average pooling and upsampling nearest
or bilinear, where StyleGAN2 filters with a [1, 3, 3, 1] kernel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers, ops

from condgan.errors import UserError
from condgan.models.layers import MinibatchStdDev, ProjectionLogit

LEAKY_SLOPE = 0.2
ACTIVATIONS = ("linear", "lrelu")
# StyleGAN scales a leaky ReLU's output by sqrt(2), which keeps unit-variance signals at unit
# variance through a layer (He et al. 2015).
_LRELU_GAIN = math.sqrt(2.0)


# --- the geometry of the synthesis network ------------------------------------------------------
def resolutions(image_size: int) -> list[int]:
    """4, 8, ..., image_size: the synthesis network's resolutions (image_size a power of two >= 8)."""
    steps = math.log2(image_size) if image_size > 0 else 0.5
    if image_size < 8 or steps != int(steps):
        raise UserError(f"image size {image_size} is not supported by StyleGAN: use a power of two "
                        ">= 8 (e.g. 32 or 64)")
    return [2 ** k for k in range(2, int(steps) + 1)]


def num_ws(image_size: int) -> int:
    """One w per modulated layer: the 4x4 conv and toRGB, then two convs and a toRGB per
    resolution, where each toRGB shares the w index of the next block's first conv (StyleGAN2)."""
    return 2 * len(resolutions(image_size))


def noise_size(image_size: int) -> int:
    """Per-pixel noise numbers per image: one map for the 4x4 conv, two per larger resolution."""
    return sum((1 if res == 4 else 2) * res * res for res in resolutions(image_size))


def check_channels(channels, image_size: int) -> list[int]:
    """`channels` as a list of positive widths, one per resolution from 4 px to `image_size`."""
    sizes = resolutions(image_size)
    widths = [int(c) for c in channels]
    if len(widths) != len(sizes) or min(widths) < 1:
        example = ",".join(str(max(16, 128 >> i)) for i in range(len(sizes)))
        raise UserError(f"channels={list(channels)} must give one positive width per resolution "
                        f"of a {image_size} px StyleGAN ({', '.join(f'{s} px' for s in sizes)}): "
                        f"e.g. channels={example}")
    return widths


def _activate(x, activation: str):
    if activation == "lrelu":
        return ops.leaky_relu(x, LEAKY_SLOPE) * _LRELU_GAIN
    return x


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {ACTIVATIONS}")
    return activation


# --- layers ------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="condgan")
class PixelNorm(keras.layers.Layer):
    """Each row scaled to unit second moment over its last axis (StyleGAN's normalize_2nd_moment)."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@keras.saving.register_keras_serializable(package="condgan")
class EqualizedDense(keras.layers.Layer):
    """Dense with the equalised learning rate: the kernel is stored as N(0, 1 / lr_multiplier)
    and used times lr_multiplier / sqrt(fan_in), the bias times lr_multiplier.  A multiplier of
    0.01 makes Adam move the layer 100 times more slowly (StyleGAN's mapping network).
    `bias_init` is the bias's effective starting value (1 for the styles of a modulated conv)."""

    def __init__(self, units: int, lr_multiplier: float = 1.0, bias_init: float = 0.0,
                 activation: str = "linear", use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.lr_multiplier = float(lr_multiplier)
        self.bias_init = float(bias_init)
        self.activation = _check_activation(activation)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(fan_in, self.units), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier))
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), name="bias", initializer=
                                        keras.initializers.Constant(self.bias_init / self.lr_multiplier))
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        y = ops.matmul(x, self.kernel * self.weight_gain)
        if self.use_bias:
            y = y + self.bias * self.lr_multiplier
        return _activate(y, self.activation)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "lr_multiplier": self.lr_multiplier,
                "bias_init": self.bias_init, "activation": self.activation, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="condgan")
class EqualizedConv2D(keras.layers.Layer):
    """A "same" convolution with the equalised learning rate (kernel N(0, 1), used times
    1 / sqrt(fan_in)), then bias and activation: the discriminator's convolutions."""

    def __init__(self, filters: int, kernel_size: int, activation: str = "linear",
                 use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = _check_activation(activation)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * self.kernel_size ** 2
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters),
            name="kernel", initializer=keras.initializers.RandomNormal(stddev=1.0))
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
        self.weight_gain = 1.0 / math.sqrt(fan_in)

    def call(self, x):
        y = ops.conv(x, self.kernel * self.weight_gain, padding="same")
        if self.use_bias:
            y = y + self.bias
        return _activate(y, self.activation)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": self.activation, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="condgan")
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution, called on ``[features (B,H,W,C), styles (B,C)]``: the
    kernel's input channels scaled per image by its styles, then (``demodulate``) each output
    channel divided by the L2 norm of its scaled kernel, which brings unit-variance inputs back
    to unit variance whatever the styles (weight demodulation, replacing AdaIN's instance norm).

    Computed as StyleGAN2's unfused path: scale the input, convolve with the shared kernel,
    scale the output (the same numbers as a per-image kernel; a CPU runs it as one ordinary
    convolution).  No bias: `BiasActivation` adds it after the noise."""

    def __init__(self, filters: int, kernel_size: int = 3, demodulate: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.demodulate = bool(demodulate)

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.weight_gain = 1.0 / math.sqrt(channels * self.kernel_size ** 2)

    def call(self, inputs):
        x, styles = inputs
        kernel = self.kernel * self.weight_gain
        y = ops.conv(x * styles[:, None, None, :], kernel, padding="same")
        if self.demodulate:
            # |s_i w_ijk|^2 summed over i and the taps: (B, C_in) @ (C_in, C_out)
            energy = ops.matmul(ops.square(styles), ops.sum(ops.square(kernel), axis=(0, 1)))
            y = y * ops.rsqrt(energy + 1e-8)[:, None, None, :]
        return y

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate}


@keras.saving.register_keras_serializable(package="condgan")
class NoiseInjection(keras.layers.Layer):
    """Per-pixel noise, called on ``[features (B,H,W,C), noise (B, noise_size)]``: the H*W
    numbers from `offset` on, as one map, times a learned strength per channel (zero at first)."""

    def __init__(self, offset: int, **kwargs):
        super().__init__(**kwargs)
        self.offset = int(offset)

    def build(self, input_shape):
        self.strength = self.add_weight(shape=(int(input_shape[0][-1]),), name="strength",
                                        initializer="zeros")

    def call(self, inputs):
        x, noise = inputs
        height, width = int(x.shape[1]), int(x.shape[2])
        maps = ops.reshape(noise[:, self.offset:self.offset + height * width], (-1, height, width, 1))
        return x + ops.cast(maps, x.dtype) * self.strength

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@keras.saving.register_keras_serializable(package="condgan")
class BiasActivation(keras.layers.Layer):
    """A bias per channel, then the activation (StyleGAN's bias_act)."""

    def __init__(self, activation: str = "lrelu", **kwargs):
        super().__init__(**kwargs)
        self.activation = _check_activation(activation)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(int(input_shape[-1]),), name="bias", initializer="zeros")

    def call(self, x):
        return _activate(x + self.bias, self.activation)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@keras.saving.register_keras_serializable(package="condgan")
class ConstantInput(keras.layers.Layer):
    """The synthesis network's learned starting block, (size, size, channels), repeated for each
    row of the tensor it is called on."""

    def __init__(self, channels: int, size: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.size = int(size)

    def build(self, input_shape):
        self.constant = self.add_weight(shape=(self.size, self.size, self.channels), name="constant",
                                        initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, reference):
        rows = ops.shape(reference)[0]
        return ops.broadcast_to(self.constant[None], (rows, self.size, self.size, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "size": self.size}


@keras.saving.register_keras_serializable(package="condgan")
class SelectW(keras.layers.Layer):
    """The w of one layer, ws[:, index], from ws (B, num_ws, w_dim)."""

    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, ws):
        return ws[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable(package="condgan")
class BroadcastW(keras.layers.Layer):
    """w (B, w_dim) -> ws (B, num_ws, w_dim): the same w for every layer (no style mixing)."""

    def __init__(self, num_ws: int, **kwargs):
        super().__init__(**kwargs)
        self.num_ws = int(num_ws)

    def call(self, w):
        return ops.repeat(w[:, None, :], self.num_ws, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_ws, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_ws": self.num_ws}


@keras.saving.register_keras_serializable(package="condgan")
class Truncation(keras.layers.Layer):
    """The truncation trick, called on ``[w (B, w_dim), psi (B, 1)]``: w_avg + psi (w - w_avg).
    psi = 1 leaves w as it is, psi = 0 gives the average w for every image; in between trades
    variety for typical images.  `w_avg` (the training run's running average of w) is a weight
    of the layer, saved with the model."""

    def build(self, input_shape):
        self.w_avg = self.add_weight(shape=(int(input_shape[0][-1]),), name="w_avg",
                                     initializer="zeros", trainable=False)

    def call(self, inputs):
        w, psi = inputs
        return self.w_avg + ops.cast(psi, w.dtype) * (w - self.w_avg)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="condgan")
class FixedNoise(keras.layers.Layer):
    """One stored row of per-pixel noise (`size` numbers), repeated for each row of the tensor
    it is called on: sampling's noise, so an image depends only on its z."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def build(self, input_shape):
        self.noise = self.add_weight(shape=(self.size,), name="noise", initializer="zeros",
                                     trainable=False)

    def call(self, reference):
        return ops.broadcast_to(self.noise[None], (ops.shape(reference)[0], self.size))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


# --- networks ----------------------------------------------------------------------------------
def build_mapping(latent_dim: int, w_dim: int, num_layers: int, num_classes: int = 0,
                  lr_multiplier: float = 0.01, name: str = "mapping") -> keras.Model:
    """[noise (B, latent_dim)] or [noise, label (B,)] -> w (B, w_dim)."""
    if num_layers < 1:
        raise UserError(f"mapping_layers={num_layers}: the mapping network needs at least 1 layer "
                        "(StyleGAN2 uses 8, StyleGAN2-ADA's CIFAR-10 network 2)")
    noise = keras.Input((latent_dim,), name="noise")
    inputs, h = [noise], PixelNorm(name="normalize_noise")(noise)
    if num_classes:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        embedded = layers.Embedding(num_classes, w_dim, name="class_embedding")(label)
        embedded = PixelNorm(name="normalize_class")(embedded)
        h = layers.Concatenate(name="noise_and_class")([h, embedded])
    for i in range(num_layers):
        h = EqualizedDense(w_dim, lr_multiplier=lr_multiplier, activation="lrelu",
                           name=f"fc{i}")(h)
    w = layers.Activation("linear", name="w")(h)
    return keras.Model(inputs if num_classes else noise, w, name=name)


def build_synthesis(image_size: int, channels, w_dim: int, name: str = "synthesis") -> keras.Model:
    """[ws (B, num_ws, w_dim), noise (B, noise_size)] -> image (B, size, size, 3), about [-1, 1]."""
    widths = check_channels(channels, image_size)
    ws = keras.Input((num_ws(image_size), w_dim), name="ws")
    noise = keras.Input((noise_size(image_size),), name="noise")
    offset = 0

    def style(x, index: int, prefix: str):
        w = SelectW(index, name=f"{prefix}_w")(ws)
        # Styles start at 1 (bias 1): at first every layer sees its input unscaled.
        return EqualizedDense(int(x.shape[-1]), bias_init=1.0, name=f"{prefix}_affine")(w)

    def conv(x, index: int, filters: int, prefix: str):
        nonlocal offset
        x = ModulatedConv2D(filters, 3, name=f"{prefix}_conv")([x, style(x, index, prefix)])
        x = NoiseInjection(offset, name=f"{prefix}_noise")([x, noise])
        offset += int(x.shape[1]) * int(x.shape[2])
        return BiasActivation("lrelu", name=f"{prefix}_act")(x)

    def to_rgb(x, index: int, prefix: str):
        rgb = ModulatedConv2D(3, 1, demodulate=False, name=f"{prefix}_conv")([x, style(x, index, prefix)])
        return BiasActivation("linear", name=f"{prefix}_bias")(rgb)

    x = ConstantInput(widths[0], name="const")(ws)
    x = conv(x, 0, widths[0], "b4_conv1")
    image = to_rgb(x, 1, "b4_torgb")
    for block, (res, width) in enumerate(zip(resolutions(image_size)[1:], widths[1:]), start=1):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"b{res}_upsample")(x)
        x = conv(x, 2 * block - 1, width, f"b{res}_conv0")
        x = conv(x, 2 * block, width, f"b{res}_conv1")
        skip = layers.UpSampling2D(2, interpolation="bilinear", name=f"b{res}_rgb_upsample")(image)
        image = layers.Add(name=f"b{res}_rgb")([skip, to_rgb(x, 2 * block + 1, f"b{res}_torgb")])
    image = layers.Activation("linear", dtype="float32", name="image")(image)
    return keras.Model([ws, noise], image, name=name)


def build_discriminator(image_size: int, channels, num_classes: int = 0,
                        minibatch_std: bool = True, name: str = "discriminator") -> keras.Model:
    """[image] or [image, label (B,)] -> realness logit (B, 1)."""
    widths = check_channels(channels, image_size)
    sizes = resolutions(image_size)
    width_at = dict(zip(sizes, widths))
    image = keras.Input((image_size, image_size, 3), name="image")
    inputs = [image]
    x = EqualizedConv2D(width_at[image_size], 1, activation="lrelu", name="from_rgb")(image)
    for res in reversed(sizes[1:]):
        out = width_at[res // 2]
        shortcut = layers.AveragePooling2D(2, name=f"b{res}_skip_down")(x)
        shortcut = EqualizedConv2D(out, 1, use_bias=False, name=f"b{res}_skip")(shortcut)
        x = EqualizedConv2D(width_at[res], 3, activation="lrelu", name=f"b{res}_conv0")(x)
        x = layers.AveragePooling2D(2, name=f"b{res}_down")(x)
        x = EqualizedConv2D(out, 3, activation="lrelu", name=f"b{res}_conv1")(x)
        x = layers.Add(name=f"b{res}_sum")([shortcut, x])
        x = layers.Rescaling(1 / math.sqrt(2.0), name=f"b{res}_scale")(x)  # keeps the variance
    if minibatch_std:
        x = MinibatchStdDev(name="minibatch_std")(x)
    x = EqualizedConv2D(widths[0], 3, activation="lrelu", name="b4_conv")(x)
    features = EqualizedDense(widths[0], activation="lrelu", name="b4_fc")(layers.Flatten()(x))
    logit = EqualizedDense(1, name="logit")(features)
    if num_classes:
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        logit = layers.Add(name="logit_plus_projection")(
            [logit, ProjectionLogit(num_classes, name="projection")([features, label])])
    score = layers.Activation("linear", dtype="float32", name="score")(logit)
    return keras.Model(inputs if num_classes else image, score, name=name)


# --- the generator as trained and as sampled ----------------------------------------------------
@dataclass
class StyleNetworks:
    """The generator's two networks, and `generator`: [noise, (label), pixel noise] -> image with
    one w for every layer, the model whose variables (mapping's, then synthesis') are G's."""
    mapping: keras.Model
    synthesis: keras.Model
    generator: keras.Model

    @property
    def num_ws(self) -> int:
        return int(self.synthesis.inputs[0].shape[1])

    @property
    def w_dim(self) -> int:
        return int(self.synthesis.inputs[0].shape[2])

    @property
    def noise_size(self) -> int:
        return int(self.synthesis.inputs[1].shape[1])


def build_style_generator(image_size: int, latent_dim: int, w_dim: int, mapping_layers: int,
                          channels, num_classes: int = 0, lr_multiplier: float = 0.01) -> StyleNetworks:
    mapping = build_mapping(latent_dim, w_dim, mapping_layers, num_classes, lr_multiplier)
    synthesis = build_synthesis(image_size, channels, w_dim)
    inputs = list(mapping.inputs) if num_classes else [mapping.inputs[0]]
    pixel_noise = keras.Input((noise_size(image_size),), name="pixel_noise")
    w = mapping(inputs if num_classes else inputs[0])
    ws = BroadcastW(num_ws(image_size), name="broadcast_w")(w)
    image = synthesis([ws, pixel_noise])
    return StyleNetworks(mapping, synthesis, keras.Model([*inputs, pixel_noise], image, name="generator"))


def fixed_pixel_noise(size: int, seed: int) -> np.ndarray:
    """The per-pixel noise sampling uses: one standard-normal row, the same on every backend."""
    return np.random.default_rng([seed, 11]).standard_normal(size).astype(np.float32)


@dataclass
class SamplingModels:
    """What a model folder holds, all sharing the trained layers:
    `generator` [noise, (label), truncation (B, 1)] -> image; `mapping` [noise, (label),
    truncation] -> w (truncated); `synthesis` [ws (B, num_ws, w_dim)] -> image; `truncate`,
    the layer holding the average w."""
    generator: keras.Model
    mapping: keras.Model
    synthesis: keras.Model
    truncate: Truncation


def sampling_models(networks: StyleNetworks, w_avg: np.ndarray, pixel_noise: np.ndarray) -> SamplingModels:
    """The sampling forms of trained networks: truncation towards `w_avg`, fixed `pixel_noise`."""
    mapping_inputs = list(networks.mapping.inputs)
    noise, label = mapping_inputs[0], mapping_inputs[1] if len(mapping_inputs) > 1 else None
    noise = keras.Input(noise.shape[1:], name="noise")
    label = keras.Input((), dtype="int32", name="label") if label is not None else None
    psi = keras.Input((1,), name="truncation")
    truncate = Truncation(name="truncation_w")
    w = truncate([networks.mapping([noise, label] if label is not None else noise), psi])
    inputs = [noise, label, psi] if label is not None else [noise, psi]
    mapping = keras.Model(inputs, w, name="mapping")

    ws_in = keras.Input((networks.num_ws, networks.w_dim), name="ws")
    fixed = FixedNoise(networks.noise_size, name="pixel_noise")
    synthesis = keras.Model(ws_in, networks.synthesis([ws_in, fixed(ws_in)]), name="synthesis")

    ws = BroadcastW(networks.num_ws, name="broadcast_w")(w)
    generator = keras.Model(inputs, synthesis(ws), name="generator")
    truncate.w_avg.assign(np.asarray(w_avg, np.float32))
    fixed.noise.assign(np.asarray(pixel_noise, np.float32))
    return SamplingModels(generator, mapping, synthesis, truncate)
