"""`export --format saved_model / onnx`: the generator in TF Serving's and ONNX Runtime's formats,
loaded back here with those runtimes alone (not through condgan) and drawing the Keras model's
pixels for the same seeds; a model folder copied with the formats added, the source untouched."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="--format onnx needs onnxruntime and tf2onnx (requirements.txt)")

from condgan.api import export_model, load_generator
from condgan.basics import seed_noise
from condgan.errors import UserError
from condgan.families.gan.family import save_generator
from condgan.model_folder import read_card
from condgan.models import build_generator
from tests.helpers import ROOT

SEEDS = [3, 14, 15, 92, 65]
CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def tiny_cgan(tmp_path_factory):
    g = build_generator(16, 8, 8, len(CLASSES), "projection")
    g.get_layer("cbn1").gain.assign(np.random.default_rng(0).uniform(0.5, 1.5, (3, 8)))
    return save_generator(g, tmp_path_factory.mktemp("models") / "tiny_cgan", latent_dim=8,
                          classes=CLASSES, legacy_h5=False)


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def to_uint8(x):
    return np.clip(np.rint((np.asarray(x) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def test_saved_model_and_onnx_draw_the_keras_pixels(tiny_cgan, tmp_path):
    import onnxruntime
    import tensorflow as tf

    before = digest(tiny_cgan)
    out = export_model(tiny_cgan, "tiny_cgan_served", tmp_path, formats=["saved_model", "onnx"])
    assert digest(tiny_cgan) == before                       # the source model is left as it was
    card = read_card(out)
    assert card["name"] == "tiny_cgan_served" and card["classes"] == CLASSES
    assert card["files"] == {"keras": "generator.keras", "saved_model": "saved_model", "onnx": "generator.onnx"}
    assert not list(out.glob(".*"))                         # no partial file left behind
    labels = np.array([0, 2, 1, 1, 0], np.int32)
    expected = load_generator(out).generate_for_seeds(SEEDS, list(labels))
    noise = seed_noise(SEEDS, 8)

    serve = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    saved = serve(noise=tf.constant(noise), label=tf.constant(labels))["output_0"]
    session = onnxruntime.InferenceSession(str(out / "generator.onnx"), providers=["CPUExecutionProvider"])
    assert sorted(i.name for i in session.get_inputs()) == ["label", "noise"]
    onnx_images = session.run(None, {"noise": noise, "label": labels})[0]
    for images in (saved, onnx_images):
        assert np.abs(to_uint8(images).astype(int) - expected.astype(int)).max() <= 1


def test_a_run_exported_with_a_format_and_the_cli(tmp_path):
    from condgan.families.gan import GanConfig
    from condgan.runs import train_run
    from tests.helpers import tiny_array_set

    config = GanConfig(name="tiny", image_size=16, latent_dim=16, g_channels=8, d_channels=8,
                       batch_size=16, epochs=1, checkpoint_every_steps=0, tensorboard=False, verbose=0)
    train_run(config, tmp_path / "run", data=tiny_array_set(32))
    result = subprocess.run([sys.executable, "-m", "condgan", "export", str(tmp_path / "run"), "--name", "tiny",
                             "--models-dir", str(tmp_path / "models"), "--format", "onnx", "--no-h5"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    card = read_card(tmp_path / "models" / "tiny")
    assert card["files"] == {"keras": "generator.keras", "onnx": "generator.onnx"} and card["step"] == 2
    assert len(result.stdout.splitlines()) == 1 and "FutureWarning" not in result.stderr


def test_bad_formats_are_refused_before_anything_is_written(tiny_cgan, tmp_path):
    with pytest.raises(UserError, match=r"format\(s\) \['tflite'\] not known"):
        export_model(tiny_cgan, "x", tmp_path, formats=["tflite"])
    with pytest.raises(UserError, match="already exists"):
        export_model(tiny_cgan, "tiny_cgan", tiny_cgan.parent, formats=["onnx"])
    caption_model = ROOT / "models" / "attngan_shapes"
    with pytest.raises(UserError, match="kinds gan and cgan"):
        export_model(caption_model, "shapes_onnx", tmp_path, formats=["onnx"])
    assert not list(tmp_path.iterdir())
