"""Notebook 07 runs end to end with tiny parameters (papermill) and draws its bar chart."""
import json
from pathlib import Path

import papermill
from PIL import Image

from condgan.data.arrays import ArraySet, save_array_set
from tests.metrics_fixtures import CLASSES, exported_cgan, quadrant_images, untrained_classifier_dir

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_07_evaluates_and_plots_per_class_accuracy(tmp_path):
    x, y = quadrant_images(30, seed=4)
    data = save_array_set(tmp_path / "ref.npz", ArraySet(x, y, CLASSES), source="test", command="test")
    model = exported_cgan(tmp_path / "tiny_cgan")
    executed = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "07_evaluate.ipynb"), str(executed), cwd=str(ROOT / "notebooks"),
        kernel_name="python3", progress_bar=False,
        parameters={"model_dir": str(model), "data": str(data),
                    "classifier_dir": str(untrained_classifier_dir(tmp_path / "clf")), "n": 21,
                    "metrics": "classifier_fid,accuracy", "cache_dir": str(tmp_path / "cache"),
                    "batch_size": 8, "figure_dir": str(tmp_path / "figures")})
    chart = tmp_path / "figures" / "tiny_cgan_per_class_accuracy.png"
    assert Image.open(chart).size[0] > 300
    card = json.loads((model / "card.json").read_text())
    assert card["metrics"]["classifier_accuracy"]["protocol"]["num_generated"] == 21
    text = json.dumps(json.loads(executed.read_text())["cells"])
    assert "classifier_fid" in text and "reference_split" in text
