"""Export round trip: card, safe-mode load, seeds, batch-size independence, other backends."""
import json
import subprocess
import sys

import numpy as np
import pytest

import keras

from condgan.errors import UserError
from condgan.export import export_generator, load_generator, read_card, update_card_metrics
from condgan.models import build_generator
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    g = build_generator(16, 8, 8, 3, "projection")
    g.get_layer("cbn1").gain.assign(np.random.default_rng(0).uniform(0.5, 1.5, (3, 8)))
    out = tmp_path_factory.mktemp("models") / "tiny_cgan"
    export_generator(g, out, kind="cgan", latent_dim=8, classes=["a", "b", "c"],
                     training={"epochs": 1}, dataset={"fingerprint": "sha256:x"}, images_seen=10)
    return out, g


def test_export_writes_keras_h5_and_card(exported):
    out, _ = exported
    assert {p.name for p in out.iterdir()} == {"generator.keras", "generator.h5", "card.json"}
    card = read_card(out)
    assert card["kind"] == "cgan" and card["classes"] == ["a", "b", "c"]
    assert card["latent_dim"] == 8 and card["image_size"] == 16 and card["value_range"] == [-1.0, 1.0]
    assert card["versions"]["keras"] == keras.__version__ and card["images_seen"] == 10
    legacy = keras.saving.load_model(out / "generator.h5", compile=False)
    assert legacy.output.shape[1:] == (16, 16, 3)


def test_same_seed_same_images_whatever_the_batch(exported):
    gen = load_generator(exported[0])
    a = gen.generate(labels=["a", "b", "c"], seed=7)
    assert a.dtype == np.uint8 and a.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(a, gen.generate(labels=["a", "b", "c"], seed=7))
    many = gen.generate(labels=["a", "b", "c"] * 7, seed=7)  # 21 images: two chunks
    np.testing.assert_array_equal(many[:3], a)
    single = gen.generate_for_seeds([8], labels=[1])
    np.testing.assert_array_equal(single[0], a[1])
    assert not np.array_equal(a[0], gen.generate(labels=["a"], seed=8)[0])


def test_labels_by_name_or_index_and_errors(exported):
    gen = load_generator(exported[0])
    np.testing.assert_array_equal(gen.generate(labels=[2], seed=1), gen.generate(labels=["c"], seed=1))
    with pytest.raises(UserError, match="unknown class 'zebra'.*'a', 'b', 'c'"):
        gen.generate(labels=["zebra"])
    with pytest.raises(UserError, match="out of range"):
        gen.generate(labels=[5])


def test_unconditional_generate_n(tmp_path):
    out = export_generator(build_generator(16, 8, 8), tmp_path / "tiny_gan", kind="gan", latent_dim=8,
                           legacy_h5=False)
    gen = load_generator(out)
    assert gen.generate(n=5, seed=3).shape == (5, 16, 16, 3)
    with pytest.raises(UserError, match="unconditional"):
        gen.label_indices(["a"])


def test_metrics_merge_into_card_and_bad_dirs(exported, tmp_path):
    out, _ = exported
    update_card_metrics(out, {"classifier_accuracy": {"value": 0.5, "protocol": {"n": 10}}})
    assert json.loads((out / "card.json").read_text())["metrics"]["classifier_accuracy"]["value"] == 0.5
    with pytest.raises(UserError, match="no card.json"):
        load_generator(tmp_path)
    with pytest.raises(UserError, match="model name"):
        export_generator(build_generator(16, 8, 8), tmp_path / "../x y", kind="gan", latent_dim=8)


def test_exported_generator_loads_without_tensorflow_ops(exported):
    """Loads and runs under Keras' numpy backend: nothing in the file needs TensorFlow."""
    out, g = exported
    code = (
        "import numpy as np, condgan.models, keras;"
        f"m = keras.saving.load_model(r'{out / 'generator.keras'}', safe_mode=True);"
        "y = m([np.ones((2, 8), 'float32'), np.array([0, 2], 'int32')], training=False);"
        "print(keras.backend.backend(), float(np.asarray(y).sum()))")
    result = subprocess.run([sys.executable, "-c", code], env={"KERAS_BACKEND": "numpy", "PATH": "/usr/bin:/bin",
                            "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    backend, total = result.stdout.split()[-2:]
    expected = float(np.asarray(g([np.ones((2, 8), "float32"), np.array([0, 2], "int32")])).sum())
    assert backend == "numpy" and abs(float(total) - expected) < 1e-3
