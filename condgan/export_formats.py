"""A Keras generator in the formats serving stacks read: TensorFlow's SavedModel (TF Serving's
layout) and ONNX (ONNX Runtime, Triton, KServe's ONNX server).

Each format is written through Keras' own `model.export` (TensorFlow backend; ONNX through
tf2onnx), loaded back (`tf.saved_model.load`, an `onnxruntime.InferenceSession`) and run on a
fixed batch, and refused unless it draws the Keras model's pixels: a file that cannot be served
as the model never reaches the model folder.

The SavedModel's signature is `serving_default`, inputs `noise` float32 [n, latent_dim] (the
seed's standard normals, `condgan.basics.seed_noise`) and, for a class model, `label` int32 [n];
output `output_0` float32 [n, H, W, C] in [-1, 1].  The ONNX graph has the same inputs and one
output, `output_0`'s counterpart.
"""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from condgan.errors import UserError

FILES = {"saved_model": "saved_model", "onnx": "generator.onnx"}
SIGNATURE = "serving_default"
CHECK_SEEDS = (0, 1, 2, 3)
TOLERANCE = 1e-4  # largest pixel difference in [-1, 1] units (well under one uint8 level)


def check_formats(formats) -> list[str]:
    unknown = sorted(set(formats) - set(FILES))
    if unknown:
        raise UserError(f"format(s) {unknown} not known: use {sorted(FILES)}")
    if formats:
        import keras

        if keras.backend.backend() != "tensorflow":
            raise UserError(f"--format {' '.join(formats)} needs the TensorFlow backend: run with "
                            "KERAS_BACKEND=tensorflow (the default)")
    if "onnx" in formats:
        try:
            import onnxruntime  # noqa: F401
            import tf2onnx  # noqa: F401
        except ImportError:
            raise UserError("--format onnx needs tf2onnx and onnxruntime: pip install -r "
                            "requirements.txt (it pins both)") from None
    return list(dict.fromkeys(formats))


def write_formats(generator, folder: Path, formats) -> dict[str, str]:
    """Write `formats` of a `KerasGenerator` into `folder`; returns {format: file name}."""
    formats = check_formats(formats)
    if not formats:
        return {}
    files = {}
    inputs = generator.model_inputs(*_check_batch(generator))
    expected = np.asarray(generator.model(inputs, training=False))  # also: the model has been called
    for fmt in formats:
        target = folder / FILES[fmt]
        partial = folder / f".{FILES[fmt]}.partial"
        _remove(partial)
        with warnings.catch_warnings():  # tf2onnx's probe of numpy's removed np.object
            warnings.simplefilter("ignore", FutureWarning)
            generator.model.export(str(partial), format="tf_saved_model" if fmt == "saved_model"
                                   else "onnx", verbose=False)
        got = (_run_saved_model if fmt == "saved_model" else _run_onnx)(partial, generator, inputs)
        worst = float(np.abs(got - expected).max())
        if worst > TOLERANCE:
            _remove(partial)
            raise UserError(f"the {fmt} export draws different pixels from the Keras model (largest "
                            f"difference {worst:.2e}): not written")
        _remove(target)
        os.replace(partial, target)
        files[fmt] = FILES[fmt]
    return files


def _check_batch(generator):
    from condgan.basics import seed_noise

    noise = seed_noise(CHECK_SEEDS, generator.latent_dim)
    labels = (np.arange(len(CHECK_SEEDS)) % len(generator.classes)) if generator.conditional else None
    return noise, labels


def _named(generator, inputs) -> dict[str, np.ndarray]:
    values = inputs if isinstance(inputs, list) else [inputs]
    return {tensor.name: value for tensor, value in zip(generator.model.inputs, values)}


def _run_saved_model(path: Path, generator, inputs) -> np.ndarray:
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures[SIGNATURE]
    out = serve(**{name: tf.constant(value) for name, value in _named(generator, inputs).items()})
    return np.asarray(next(iter(out.values())))


def _run_onnx(path: Path, generator, inputs) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    named = _named(generator, inputs)
    feed = {arg.name: named[arg.name] for arg in session.get_inputs()}
    return np.asarray(session.run(None, feed)[0])


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
