"""VGG19 as the feature network of neural style transfer: its ImageNet weights, found on this
machine and never downloaded, and the activations of the layers Gatys et al. read.

Weights are Keras' own `vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`, looked for in this
order: an explicit path (`--vgg-weights`), the environment variable CONDGAN_VGG19_WEIGHTS, then
Keras' cache (`$KERAS_HOME/models/`, by default `~/.keras/models/`).  Nothing is downloaded:
servers and training machines are often offline, and a half-finished download in the middle of
a request is worse than a clear message.  Without the file the error says which file is
missing, where it was looked for, and how to get it.

A network with random weights transfers no style at all, so no user-facing path builds one:
`load_vgg_features(random_weights_for_tests=True)` exists for tests of the mechanics only.
"""
from __future__ import annotations

import os
from pathlib import Path

from condgan.errors import UserError

WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_ENV = "CONDGAN_VGG19_WEIGHTS"
FETCH_COMMAND = 'python -c "import keras; keras.applications.VGG19(include_top=False)"'
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# The paper's layers in Keras' names: conv4_2 for content, conv1_1 .. conv5_1 for style.
CONTENT_LAYER = "block4_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
# VGG was trained on Caffe's preprocessing: BGR channels, ImageNet's mean subtracted, no scaling.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
# Four poolings come before block5_conv1: a side shorter than 16 pixels leaves it no pixel.
MIN_SIDE = 16


class WeightsMissing(UserError):
    """The VGG19 weights file is not on this machine; the message says how to get it."""


def keras_models_dir() -> Path:
    """Where Keras caches downloaded weights (it honours KERAS_HOME as well)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"


def how_to_get_weights(destination: Path) -> str:
    return (f"on a machine with internet run {FETCH_COMMAND}, then copy ~/.keras/models/"
            f"{WEIGHTS_FILE} to {destination}/ here, or point --vgg-weights (or the environment "
            f"variable {WEIGHTS_ENV}) at the file")


def resolve_vgg_weights(path: str | os.PathLike | None = None) -> Path:
    """The VGG19 weights file: `path`, else $CONDGAN_VGG19_WEIGHTS, else Keras' cache.

    A path that was named (argument or environment) must exist: falling back to another file
    would hide the typo.  Raises `WeightsMissing` naming the file and where it was looked for.
    """
    cache = keras_models_dir()
    named, source = (path, "--vgg-weights") if path is not None else (
        os.environ.get(WEIGHTS_ENV) or None, WEIGHTS_ENV)
    if named is not None:
        named = Path(named).expanduser()
        if named.is_file():
            return named
        raise WeightsMissing(f"VGG19 weights not found: {source} names {str(named)!r}, which is "
                             f"not a file; it should be Keras' {WEIGHTS_FILE}: "
                             + how_to_get_weights(cache))
    cached = cache / WEIGHTS_FILE
    if cached.is_file():
        return cached
    raise WeightsMissing(f"VGG19 weights not found: style transfer needs {WEIGHTS_FILE}, looked "
                         f"for at {cached} (Keras' cache; neither --vgg-weights nor {WEIGHTS_ENV} "
                         "was given); nothing is downloaded: " + how_to_get_weights(cache))


class VggFeatures:
    """Images -> the activations style transfer compares: `(content, [style layers...])`.

    Takes float RGB images in [0, 1], shaped (B, H, W, 3), and applies VGG's own preprocessing
    inside, so that the optimised image stays in the range it is saved in.  Only the layers up
    to block5_conv1 are run.  Every op is a Keras op: gradients flow on any backend.
    """

    def __init__(self, weights_file: Path | None) -> None:
        import keras

        base = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
        if weights_file is not None:
            _load_weights(base, weights_file)
            self.description = f"VGG19 ImageNet weights ({weights_file.name})"
        else:
            self.description = "VGG19 with RANDOM weights (random_weights_for_tests: no real style)"
        outputs = [base.get_layer(CONTENT_LAYER).output,
                   *(base.get_layer(name).output for name in STYLE_LAYERS)]
        self.model = keras.Model(base.input, outputs, name="vgg19_style_features")
        self.model.trainable = False

    @property
    def variables(self) -> list:
        return list(self.model.variables)

    def __call__(self, images):
        from keras import ops

        pixels = ops.flip(ops.convert_to_tensor(images, dtype="float32"), axis=-1) * 255.0
        bgr = pixels - ops.convert_to_tensor(CAFFE_BGR_MEAN, dtype="float32")
        content, *style = self.model(bgr, training=False)
        return content, style


def _load_weights(base, weights_file: Path) -> None:
    with open(weights_file, "rb") as handle:
        is_hdf5 = handle.read(8) == HDF5_MAGIC
    problem = None if is_hdf5 else "not an HDF5 file"
    if problem is None:
        try:
            # A `.h5` name makes Keras read the Keras 2 layout the published file has.
            base.load_weights(str(weights_file))
        except Exception as error:  # noqa: BLE001 - a truncated or foreign file: same fix
            problem = f"{type(error).__name__}: {error}"
    if problem is not None:
        raise UserError(f"{weights_file} is not a usable VGG19 weights file ({problem}): it "
                        f"should be Keras' {WEIGHTS_FILE}; "
                        + how_to_get_weights(keras_models_dir()))


def load_vgg_features(weights: str | os.PathLike | None = None, *,
                      random_weights_for_tests: bool = False) -> VggFeatures:
    """The feature network with ImageNet weights from `weights` (or where
    `resolve_vgg_weights` finds them).  `random_weights_for_tests=True` skips the weights: the
    mechanics still work but no style transfers, so only tests ask for it."""
    if random_weights_for_tests:
        if weights is not None:
            raise ValueError("pass weights or random_weights_for_tests, not both")
        return VggFeatures(None)
    return VggFeatures(resolve_vgg_weights(weights))
