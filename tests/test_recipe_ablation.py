"""bench/recipe_ablation.py end to end on the CIFAR-10 horses with tiny networks: each variant
trained, exported, scored; the best one trained on; results, grids and the best model written."""
import json
import subprocess
import sys
import tarfile

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT
from tests.helpers import cifar10_arrays

SCRIPT = ROOT / "bench" / "recipe_ablation.py"


def test_variants_are_trained_scored_and_the_best_trained_on(tmp_path):
    data = cifar10_arrays()
    if data is None:
        pytest.skip("no CIFAR-10: neither data/cifar10 nor the shared archive")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--config", "configs/gan_horses.py", "--data", str(data),
         "--variant", "recipe", "--variant", "no-augment", "diffaugment=",
         "--variant", "classic", "config=configs/cgan_cifar10_classic.py",
         "classes=horse", "conditional=false", "conditioning=none",
         "--epochs", "1", "--extend", "2", "--n", "200", "--out", str(out), "--work", str(tmp_path / "work"),
         "--set", "g_channels=8", "--set", "d_channels=8", "--set", "verbose=0"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads((out / "results.json").read_text())
    assert [(r["variant"], r["epochs"]) for r in records][:3] == [("recipe", 1), ("no-augment", 1), ("classic", 1)]
    assert [r["config"] for r in records[:3]] == ["configs/gan_horses.py"] * 2 + ["configs/cgan_cifar10_classic.py"]
    assert records[2]["images"] == records[0]["images"]   # the classic recipe, made a horse GAN
    assert len(records) == 4 and records[3]["epochs"] == 2 and records[3]["images"] == 2 * records[0]["images"]
    for record in records:
        assert record["images_per_second"] > 0 and 0 <= record["recall"] <= 1 and record["real_recall"] > 0.5 and record["diversity"] > 0
        assert record["score"] == pytest.approx(record["recall"] / record["real_recall"] + record["diversity"])
    grid = np.asarray(Image.open(out / "grids.png"))
    assert grid.shape[0] > 4 * 64 and grid.shape[1] > 16 * 64   # four rows of 16 samples at scale 2
    with tarfile.open(out / "best.tar.gz") as tar:
        assert any(name.endswith("/card.json") for name in tar.getnames())
    assert "best model" in (out / "log.txt").read_text()


def test_a_variant_name_that_cannot_be_a_folder_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--variant", "../up", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "variant name '../up'" in result.stderr


def test_a_variant_config_that_does_not_exist_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--variant", "other", "config=configs/nope.py",
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "config file 'configs/nope.py' does not exist" in result.stderr


def test_a_class_models_grid_row_cycles_through_its_classes():
    """The grid row of a shipped class model: seeds 0..15 with labels 0, 1, ..., 9, 0, ...; of an
    unconditional one, seeds 0..15."""
    import importlib.util

    import condgan

    spec = importlib.util.spec_from_file_location("recipe_ablation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    digits = condgan.load_generator(ROOT / "models" / "cgan_digits")
    labels = [digits.classes[i % 10] for i in range(module.GRID_SEEDS)]
    np.testing.assert_array_equal(module.grid_row(digits), digits.generate(labels, seed=0))
    horses = condgan.load_generator(ROOT / "models" / "gan_horses")
    np.testing.assert_array_equal(module.grid_row(horses), horses.generate(n=module.GRID_SEEDS, seed=0))
