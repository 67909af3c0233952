"""Export round trip: card, safe-mode load, seeds, batch-size independence, other backends."""
import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the cross-backend check needs torch (requirements-dev.txt)")

import keras

from condgan.errors import UserError
from condgan.api import load_generator
from condgan.families.gan.family import save_generator
from condgan.model_folder import merge_card_metrics, read_card
from condgan.models import build_generator
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    g = build_generator(16, 8, 8, 3, "projection")
    g.get_layer("cbn1").gain.assign(np.random.default_rng(0).uniform(0.5, 1.5, (3, 8)))
    out = tmp_path_factory.mktemp("models") / "tiny_cgan"
    save_generator(g, out, latent_dim=8, classes=["a", "b", "c"],
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
    single = gen.generate_for_seeds([8], [1])
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
    out = save_generator(build_generator(16, 8, 8), tmp_path / "tiny_gan", latent_dim=8,
                         legacy_h5=False)
    gen = load_generator(out)
    assert gen.generate(n=5, seed=3).shape == (5, 16, 16, 3)
    with pytest.raises(UserError, match="unconditional"):
        gen.generate(labels=["a"])


def test_metrics_merge_into_card_and_bad_dirs(exported, tmp_path):
    out, _ = exported
    merge_card_metrics(out, {"classifier_accuracy": {"value": 0.5, "protocol": {"n": 10}}},
                       say=lambda line: None)
    assert json.loads((out / "card.json").read_text())["metrics"]["classifier_accuracy"]["value"] == 0.5
    with pytest.raises(UserError, match="no card.json"):
        load_generator(tmp_path)
    with pytest.raises(UserError, match="model name"):
        save_generator(build_generator(16, 8, 8), tmp_path / "../x y", latent_dim=8)


def test_exported_generator_loads_under_the_torch_backend(exported, tmp_path):
    """`load_generator` works under Keras' PyTorch backend: nothing in the file needs
    TensorFlow.  Pixels agree with TensorFlow's to within one level (float rounding)."""
    out, _ = exported
    code = ("import numpy as np, keras; from condgan.api import load_generator;"
            f"g = load_generator(r'{out}'); np.save(r'{tmp_path / 'torch.npy'}', g.generate(labels=['a', 'c'], seed=3));"
            "import sys; sys.stderr.write(keras.backend.backend())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300,
                            env={"KERAS_BACKEND": "torch", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.decode().endswith("torch")
    images = np.load(tmp_path / "torch.npy", allow_pickle=False)
    expected = load_generator(out).generate(labels=["a", "c"], seed=3)
    assert images.shape == expected.shape
    assert np.abs(images.astype(int) - expected.astype(int)).max() <= 1


def test_card_paths_carry_no_home_directories(tmp_path, monkeypatch):
    """Inside the project: relative to its root, whatever the working directory."""
    from condgan.model_folder import card_path
    monkeypatch.chdir(ROOT / "notebooks")
    assert card_path(ROOT / "runs" / "r1") == "runs/r1"
    assert card_path("../runs/r1") == "runs/r1"
    # outside: the name only (with the parent's for a generic name), never a local absolute path
    assert card_path(tmp_path / "elsewhere" / "cifar10_test.npz") == "cifar10_test.npz"
    assert card_path(tmp_path / "elsewhere" / "cifar10" / "train") == "cifar10/train"
    assert card_path(None) is None


def test_card_safe_rewrites_paths_inside_text(tmp_path, monkeypatch):
    from condgan.model_folder import card_safe
    monkeypatch.chdir(tmp_path)
    card = {"dataset": {"source": "class folders /srv/data/cifar10/train", "fingerprint": "sha256:ab"},
            "notes": ["CIFAR-10 JPEG class folders (../shared/data/cifar10-jpeg.tar.gz)",
                      "see https://example.org/a/b, 1/2 and/or runs/r1", f"{tmp_path}/runs/r1", 3]}
    assert card_safe(card) == {
        "dataset": {"source": "class folders cifar10/train", "fingerprint": "sha256:ab"},
        "notes": ["CIFAR-10 JPEG class folders (cifar10-jpeg.tar.gz)",
                  "see https://example.org/a/b, 1/2 and/or runs/r1", "r1", 3]}
