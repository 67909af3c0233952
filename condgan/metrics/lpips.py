"""LPIPS on VGG16 (Zhang et al. 2018) as a pair distance, for perceptual path length.

The network is `keras.applications.VGG16` without its classifier, with Keras' ImageNet weights
(the original Caffe model's: BGR input, ImageNet mean subtracted, 0..255); the layers are
LPIPS' five, each after its ReLU: block1_conv2, block2_conv2, block3_conv3, block4_conv3,
block5_conv3.  Images smaller than 32 px (the smallest input Keras' VGG16 takes) are resized up
to 32 bilinearly; larger ones are used as they are.

Weights are only ever read from disk, never downloaded: `--lpips-weights PATH`, else Keras'
cache, `WEIGHTS_FILE` in `$KERAS_HOME/models/` (default `~/.keras/models/`).  Without them `lpips_vgg16` is a `UserError` that says how to get the file:
never a silently random network.  `random_vgg16_for_tests` builds the random network on purpose,
for tests of the mechanics only, and says so in its name.

Linear layers: LPIPS' learned per-channel weights, given as a local `.npz` with arrays `lin0` ..
`lin4` of 64, 128, 256, 512, 512 numbers (`--lpips-linear PATH`; from the lpips package's
`weights/v0.1/vgg.pth`: each `lin{k}.model.1.weight` reshaped to one row).  Without them the
distance is LPIPS' unweighted variant (every channel weighs 1), and the protocol says which.
Note that LPIPS' published linear weights were fitted to torchvision's VGG16, which was trained
apart from the Caffe VGG16 whose weights Keras ships: the channels do not correspond, so
with Keras' weights those linear layers weight channels they were not fitted to, and the
protocol says that too.  Either way a number is comparable only with numbers of the same
protocol, not with the paper's.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from condgan.basics import sha256_file
from condgan.errors import UserError
from condgan.metrics.feature_distance import FORM, FeatureMapDistance
from condgan.metrics.inception import HDF5_MAGIC, keras_models_dir

WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" + WEIGHTS_FILE
LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")
CHANNELS = (64, 128, 256, 512, 512)
MIN_SIZE = 32
# The Caffe VGG16's input: BGR, with the ImageNet mean of each channel subtracted.
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)


def resolve_vgg16_weights(path: str | os.PathLike | None = None) -> Path:
    """The VGG16 weights file: `path`, else Keras' cache; a UserError when it is not there."""
    how = (f"download {WEIGHTS_URL} on a connected machine and put it in {keras_models_dir()}/ "
           "or pass --lpips-weights PATH (evaluate never downloads it); or use the offline "
           "classifier_ppl, which needs no downloaded weights")
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise UserError(f"--lpips-weights {str(path)!r} does not exist: {how}")
        return path
    cached = keras_models_dir() / WEIGHTS_FILE
    if not cached.is_file():
        raise UserError(f"ppl_lpips needs VGG16's ImageNet weights, not found at {cached}: {how}")
    return cached


def read_linear_weights(path: str | os.PathLike) -> list[np.ndarray]:
    """LPIPS' linear layers from a local .npz: lin0..lin4, one weight per channel."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"--lpips-linear {str(path)!r} does not exist: pass an .npz with arrays "
                        f"lin0..lin4 of {', '.join(map(str, CHANNELS))} numbers")
    with np.load(path, allow_pickle=False) as stored:
        weights = [np.asarray(stored[f"lin{k}"], np.float32).reshape(-1)
                   if f"lin{k}" in stored else None for k in range(len(CHANNELS))]
    if any(w is None or w.size != c for w, c in zip(weights, CHANNELS)):
        raise UserError(f"{str(path)!r} does not hold LPIPS' VGG16 linear layers: expected arrays "
                        f"lin0..lin4 of {', '.join(map(str, CHANNELS))} numbers")
    return weights


def _caffe_input(images: np.ndarray) -> np.ndarray:
    """RGB pixel values in [0, 255] -> what the Caffe VGG16 was trained on."""
    return images[..., ::-1] - CAFFE_BGR_MEAN


def _vgg16_maps(weights_file: Path | None):
    import keras

    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights_file is not None:
        if open(weights_file, "rb").read(8) != HDF5_MAGIC:
            raise UserError(f"{weights_file} is not a usable VGG16 weights file (not HDF5): "
                            f"download it again from {WEIGHTS_URL}")
        try:
            vgg.load_weights(str(weights_file))
        except Exception as error:  # noqa: BLE001 - a truncated or foreign file
            raise UserError(f"{weights_file} is not a usable VGG16 weights file ({error}): "
                            f"download it again from {WEIGHTS_URL}") from None
    return keras.Model(vgg.inputs, [vgg.get_layer(name).output for name in LAYERS])


def _distance(weights_file: Path | None, name: str, fingerprint: str | None,
              linear: str | os.PathLike | None) -> FeatureMapDistance:
    channel_weights = read_linear_weights(linear) if linear is not None else None
    if channel_weights is None:
        form = FORM + ", unweighted (LPIPS' variant without its learned linear layers)"
    else:
        form = (FORM + f", each channel weighted by LPIPS' linear layers from {Path(linear).name} "
                f"({sha256_file(linear)}; LPIPS fitted its own to torchvision's VGG16, not to "
                "these weights)")
    return FeatureMapDistance(_vgg16_maps(weights_file), name=name, layers=LAYERS,
                              weights_fingerprint=fingerprint, min_size=MIN_SIZE,
                              preprocess=_caffe_input, channel_weights=channel_weights, form=form)


def lpips_vgg16(weights: str | os.PathLike | None = None,
                linear: str | os.PathLike | None = None) -> FeatureMapDistance:
    """LPIPS on VGG16 with ImageNet weights from `weights` (else Keras' cache: never
    downloaded) and LPIPS' linear layers from the .npz `linear` (else unweighted)."""
    file = resolve_vgg16_weights(weights)
    return _distance(file, f"LPIPS VGG16 {', '.join(LAYERS)} (keras.applications ImageNet weights)",
                     sha256_file(file), linear)


def random_vgg16_for_tests(linear: str | os.PathLike | None = None) -> FeatureMapDistance:
    """The same distance on a RANDOM VGG16: tests of the mechanics only, never a measurement."""
    return _distance(None, "LPIPS VGG16, RANDOM weights (tests of the mechanics only)", None, linear)
