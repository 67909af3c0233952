"""Notebooks 02-04 run end to end with tiny parameters (papermill): each trains, writes a sample
grid and a loss plot into its run dir, exports a model with its card and draws from it."""
import json
from pathlib import Path

import numpy as np
import papermill
from PIL import Image

from condgan.data.arrays import load_array_set
from tests.helpers import write_class_folders

ROOT = Path(__file__).resolve().parents[1]
# Tiny widths and one epoch on 16px images: the whole notebook runs in seconds on a CPU.
TINY = {"epochs": 1, "batch_size": 16, "image_size": 16,
        "overrides": ["latent_dim=16", "g_channels=16", "d_channels=16", "samples_per_class=4",
                      "checkpoint_every_steps=0", "tensorboard=false", "verbose=0", "max_minutes=0"]}


def _cifar_like_tree(root: Path, classes, per_class: int) -> Path:
    """`root/{train,test}/<class>/*` with 32x32 images: the layout of the extracted CIFAR-10 jpegs."""
    for split in ("train", "test"):
        write_class_folders(root / split, per_class=per_class, size=(32, 32), classes=classes)
    return root


def _run(name: str, tmp_path: Path, **parameters) -> dict:
    executed = tmp_path / f"out_{name}"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / name), str(executed), cwd=str(ROOT / "notebooks"), kernel_name="python3",
        progress_bar=False, parameters=dict(TINY, run_dir=str(tmp_path / "run"),
                                            models_dir=str(tmp_path / "models"), **parameters))
    return json.loads(executed.read_text())


def _images_shown(executed: dict) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in executed["cells"] if cell["cell_type"] == "code" for output in cell["outputs"])


def _assert_run_and_model(tmp_path: Path, model_name: str) -> dict:
    run = tmp_path / "run"
    with Image.open(run / "samples" / "epoch_0001.png") as grid:
        assert grid.format == "PNG" and grid.size[0] > 32
    with Image.open(run / "losses.png") as plot:
        assert plot.format == "PNG" and plot.size[0] > 300
    assert json.loads((run / "config.json").read_text())["image_size"] == 16
    model = tmp_path / "models" / model_name
    assert (model / "generator.keras").is_file()
    return json.loads((model / "card.json").read_text())


def test_notebook_02_trains_an_unconditional_gan_on_one_class(tmp_path):
    data = _cifar_like_tree(tmp_path / "cifar", ("cat", "horse"), per_class=16)
    executed = _run("02_gan_one_class.ipynb", tmp_path, data=str(data), class_name="horse", per_class=16,
                    model_name="tiny_horses")
    card = _assert_run_and_model(tmp_path, "tiny_horses")
    assert card["kind"] == "gan" and card["images_seen"] == 16
    # the real grid, the sample grid, the loss plot, the generated grid
    assert _images_shown(executed) >= 4
    assert "16 images of 'horse', 16x16" in json.dumps(executed["cells"])


def test_notebook_03_trains_a_conditional_gan_on_cifar_classes(tmp_path):
    data = _cifar_like_tree(tmp_path / "cifar", ("cat", "dog", "horse"), per_class=8)
    executed = _run("03_cgan_cifar10.ipynb", tmp_path, data=str(data), per_class=8, model_name="tiny_cgan",
                    show_label="horse", columns=4)
    card = _assert_run_and_model(tmp_path, "tiny_cgan")
    assert card["kind"] == "cgan" and card["classes"] == ["cat", "dog", "horse"]
    assert _images_shown(executed) >= 5
    assert "horse (8, 16, 16, 3) uint8" in json.dumps(executed["cells"])


def test_notebook_04_builds_arrays_from_folders_and_trains(tmp_path):
    folders = write_class_folders(tmp_path / "mine", per_class=8, size=(40, 30), classes=("apples", "pears"))
    arrays = tmp_path / "data" / "mine.npz"
    executed = _run("04_cgan_own_dataset.ipynb", tmp_path, arrays=str(arrays), folders=str(folders),
                    model_name="tiny_mine", columns=4)
    built = load_array_set(arrays)
    assert built.classes == ["apples", "pears"] and built.x.shape == (16, 16, 16, 3)
    assert np.bincount(built.y).tolist() == [8, 8]
    card = _assert_run_and_model(tmp_path, "tiny_mine")
    assert card["kind"] == "cgan" and card["classes"] == ["apples", "pears"]
    assert card["dataset"]["fingerprint"] == built.fingerprint()
    # two real rows, the class-count chart, sample grid, loss plot, two generated rows
    assert _images_shown(executed) >= 7
