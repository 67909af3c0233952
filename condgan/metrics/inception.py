"""InceptionV3 features for FID/KID and class probabilities for IS.

`keras.applications.InceptionV3` with its ImageNet weights; images are resized to 299x299
bilinearly (no antialiasing: the resize of TTUR's reference graph) and scaled to [-1, 1]
inside the model.  Features are the 2048-d global average pool ("pool3"), probabilities the
1000-way softmax.  Note: these are Keras's ImageNet weights, not the 2015 graph TTUR and
pytorch-fid use, so numbers are comparable with other Keras-weights FIDs, not with papers;
the protocol records the weights' sha256 so this is never ambiguous.

Weights come from `--inception-weights PATH`, else `$KERAS_HOME/models/` (default
`~/.keras/models/`), else a Keras download.  Offline with none of these is a `UserError` that
says how to get the file: never a silently random network.  `weights=None` builds the random
network on purpose, for tests of the mechanics only, and says so in its name.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.basics import sha256_file

WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
               + WEIGHTS_FILE)
INPUT_SIZE = 299
RESIZE = "bilinear to 299x299 (keras.layers.Resizing, antialias=False), then x/127.5 - 1"
DIM = 2048
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def keras_models_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"


def resolve_weights(path: str | os.PathLike | None = None, allow_download: bool = True) -> Path:
    """The weights file to use, downloading it (once) if allowed; a UserError when impossible."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise UserError(f"--inception-weights {str(path)!r} does not exist: pass the path of "
                            f"{WEIGHTS_FILE} (download it from {WEIGHTS_URL})")
        return path
    cached = keras_models_dir() / WEIGHTS_FILE
    if cached.is_file():
        return cached
    how = (f"download {WEIGHTS_URL} on a connected machine and put it in {cached.parent}/ "
           "or pass --inception-weights PATH; or use the offline classifier metrics "
           "(--metrics classifier_fid,accuracy)")
    if not allow_download:
        raise UserError(f"InceptionV3 weights not found at {cached}: {how}")
    import keras

    try:
        fetched = keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_subdir="models",
                                       cache_dir=str(cached.parent.parent))
    except Exception as error:  # noqa: BLE001 - any network failure has the same fix
        raise UserError(f"InceptionV3 weights are not at {cached} and downloading them failed "
                        f"({type(error).__name__}): {how}") from None
    return Path(fetched)


class InceptionFeatures:
    """FeatureNetwork: uint8 images of any size -> {"features": (B, 2048), "probs": (B, 1000)}."""

    dim = DIM
    resize = RESIZE

    def __init__(self, weights: str | os.PathLike | None = "auto", allow_download: bool = True):
        import keras

        if weights is None:
            file, self.weights_fingerprint = None, None
            self.name = "InceptionV3 pool3, RANDOM weights (weights=None: mechanics tests only)"
        else:
            file = resolve_weights(None if weights == "auto" else weights, allow_download)
            self.weights_fingerprint = sha256_file(file)
            self.name = "InceptionV3 pool3 (keras.applications ImageNet weights)"
        if file is not None and open(file, "rb").read(8) != HDF5_MAGIC:
            raise UserError(f"{file} is not a usable InceptionV3 weights file (not HDF5): "
                            f"download it again from {WEIGHTS_URL}")
        base = keras.applications.InceptionV3(include_top=True, weights=None)
        if file is not None:
            try:
                base.load_weights(str(file))
            except Exception as error:  # noqa: BLE001 - a truncated or foreign file
                raise UserError(f"{file} is not a usable InceptionV3 weights file ({error}): "
                                f"download it again from {WEIGHTS_URL}") from None
        images = keras.Input((None, None, 3), name="images")
        x = keras.layers.Resizing(INPUT_SIZE, INPUT_SIZE, interpolation="bilinear",
                                  antialias=False, name="resize")(images)
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(x)
        inner = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.output])
        pool, probs = inner(x)
        self.model = keras.Model(images, [pool, probs], name="inception_features")

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = np.asarray(images)
        if images.shape[-1] == 1:  # grayscale sets: replicate to RGB, as the network expects
            images = np.repeat(images, 3, axis=-1)
        # A direct call, not predict(): no graph tracing of the ~300-layer net, which costs
        # more than the batches themselves for the few images tests use.
        pool, probs = self.model(images.astype(np.float32), training=False)
        return {"features": np.asarray(pool), "probs": np.asarray(probs)}
