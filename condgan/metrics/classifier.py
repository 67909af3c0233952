"""The reference classifier: a small ResNet that labels generated images.

Its test accuracy bounds what generated images can reach on "per-class accuracy" (a generator
cannot be judged more reliably than its judge), so it is always reported beside that metric.
Its penultimate (pooled) features give "classifier FID", an offline stand-in for FID that
needs no downloaded weights; it is never called FID.

Architecture: the ResNet-9 of Page's DAWNBench entry ("How to train your ResNet", 2018),
prep conv -> [conv, pool, residual] -> [conv, pool] -> [conv, pool, residual] -> global max
pool, at a quarter of its width by default (16-32-64-128 channels, ~0.4M parameters), which is
what two shared CPU cores can train to >= 85% on CIFAR-10 in well under an hour.  Training
(`train_classifier`) follows the same recipe: SGD with Nesterov momentum, a one-cycle (linear
up, linear down) learning rate, weight decay, label smoothing (Szegedy et al. 2016), random
crop after 4-pixel reflect padding and horizontal flips.

The model takes uint8-valued images (any dtype) of its training size and scales them itself,
so the saved `classifier.keras` is self-contained; only keras.layers are used (no Lambda), so
it loads in safe mode on any backend.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

FEATURES_LAYER = "features"
LOGITS_LAYER = "logits"
# The last activation at each resolution (32, 16, 8, 4 px for 32 px images), as LPIPS takes
# VGG16's last ReLU before each pooling: the feature maps of `classifier_ppl`.
FEATURE_MAP_LAYERS = ("stage1_relu", "stage2_relu", "stage3_relu", "stage3_add")


@dataclasses.dataclass
class ClassifierConfig:
    width: int = 16           # channels of the first conv; stages use 2x, 4x, 8x
    epochs: int = 18
    batch_size: int = 512
    peak_lr: float = 0.2      # SGD Nesterov, one-cycle schedule (Smith & Topin 2017)
    warmup_fraction: float = 0.25
    weight_decay: float = 5e-4
    label_smoothing: float = 0.2
    pad: int = 4              # random-crop padding (reflect), as in He et al. 2016
    seed: int = 0


def _conv_bn(x, filters: int, name: str):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _stage(x, filters: int, name: str, residual: bool):
    x = _conv_bn(x, filters, name)
    x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    if residual:
        skip = x
        x = _conv_bn(x, filters, f"{name}_res1")
        x = _conv_bn(x, filters, f"{name}_res2")
        x = keras.layers.Add(name=f"{name}_add")([skip, x])
    return x


def build_classifier(num_classes: int, image_size: int = 32, width: int = 16,
                     channels: int = 3) -> keras.Model:
    """ResNet-9 at `width`; input: pixel values 0..255 of shape (image_size, image_size, channels)."""
    inputs = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
    x = _conv_bn(x, width, "prep")
    x = _stage(x, 2 * width, "stage1", residual=True)
    x = _stage(x, 4 * width, "stage2", residual=False)
    x = _stage(x, 8 * width, "stage3", residual=True)
    # Global max pooling works for any input size >= 8, so the same net serves 64x64 sets.
    features = keras.layers.GlobalMaxPooling2D(name=FEATURES_LAYER)(x)
    logits = keras.layers.Dense(num_classes, name="classify")(features)
    # Page's 0.125 output scale: max-pooled features are large, and unscaled logits saturate
    # the softmax early in training at the high one-cycle learning rates.
    logits = keras.layers.Rescaling(0.125, name=LOGITS_LAYER)(logits)
    return keras.Model(inputs, logits, name=f"resnet9_w{width}")


@keras.saving.register_keras_serializable(package="condgan")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from ~0 to `peak` over `warmup` steps, then linear decay to 0 at `total`."""

    def __init__(self, peak: float, total: int, warmup: int):
        self.peak, self.total, self.warmup = float(peak), int(total), max(1, int(warmup))

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        up = step / self.warmup
        down = (self.total - step) / max(1, self.total - self.warmup)
        return self.peak * keras.ops.clip(keras.ops.minimum(up, down), 0.0, 1.0)

    def get_config(self):
        return {"peak": self.peak, "total": self.total, "warmup": self.warmup}


def compile_classifier(model: keras.Model, cfg: ClassifierConfig, steps_per_epoch: int) -> None:
    total = cfg.epochs * steps_per_epoch
    schedule = OneCycle(cfg.peak_lr, total, math.ceil(cfg.warmup_fraction * total))
    optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True,
                                     weight_decay=cfg.weight_decay)
    # BatchNorm scales/offsets are not decayed: it only fights the normalisation.
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    model.compile(optimizer=optimizer,
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                            label_smoothing=cfg.label_smoothing),
                  metrics=["accuracy"])


def augment_batch(x: np.ndarray, rng: np.random.Generator, pad: int) -> np.ndarray:
    """Random crop after reflect padding + horizontal flip, vectorised over the batch (uint8)."""
    n, h, w = x.shape[:3]
    if pad:
        padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
        oy = rng.integers(0, 2 * pad + 1, n)
        ox = rng.integers(0, 2 * pad + 1, n)
        rows = (oy[:, None] + np.arange(h))[:, :, None]
        cols = (ox[:, None] + np.arange(w))[:, None, :]
        x = padded[np.arange(n)[:, None, None], rows, cols]
    flip = rng.random(n) < 0.5
    x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    return x


class AugmentedBatches(keras.utils.PyDataset):
    """One epoch of shuffled, augmented batches from in-memory uint8 arrays."""

    def __init__(self, x: np.ndarray, y: np.ndarray, num_classes: int, cfg: ClassifierConfig):
        super().__init__()
        self.x, self.y, self.num_classes, self.cfg = x, y, num_classes, cfg
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Each epoch's order and augmentation depend only on (seed, epoch): resumable exactly."""
        self.epoch = epoch
        self.rng = np.random.default_rng([self.cfg.seed, epoch])
        self.order = self.rng.permutation(len(self.x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.cfg.batch_size)

    def __getitem__(self, index: int):
        idx = self.order[index * self.cfg.batch_size:(index + 1) * self.cfg.batch_size]
        images = augment_batch(self.x[idx], self.rng, self.cfg.pad).astype("float32")
        return images, np.eye(self.num_classes, dtype="float32")[self.y[idx]]

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)


def feature_and_logit_model(model: keras.Model) -> keras.Model:
    """(images) -> (penultimate features, logits) of a trained classifier."""
    return keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output,
                                      model.get_layer(LOGITS_LAYER).output])


def feature_maps_model(model: keras.Model, layers) -> keras.Model:
    """(images) -> the feature maps of `layers` (by name) of a trained classifier."""
    return keras.Model(model.inputs, [model.get_layer(name).output for name in layers])


def strip_optimizer(model: keras.Model, num_classes: int, width: int) -> keras.Model:
    """A fresh, uncompiled copy with the trained weights: what gets saved for users."""
    size, channels = model.input_shape[1], model.input_shape[3]
    clean = build_classifier(num_classes, size, width, channels)
    clean.set_weights(model.get_weights())
    return clean
