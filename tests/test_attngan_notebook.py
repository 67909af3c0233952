"""notebooks/06_attngan_train.ipynb runs end to end with tiny parameters (papermill)."""
import json

import pytest

from attngan_fixtures import TINY, make_damsm_run
from conftest import ROOT
from condgan.data.shapes import write_shapes

papermill = pytest.importorskip("papermill")


def test_notebook_trains_exports_draws_attention_and_evaluates(tmp_path):
    data = tmp_path / "shapes"
    write_shapes(data, 164, size=32, seed=0, test_fraction=100 / 164)  # 64 train, 100 test
    damsm = make_damsm_run(tmp_path / "damsm", data)
    out = tmp_path / "out"
    overrides = {k: v for k, v in TINY.to_json().items() if k not in ("name", "verbose")}
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "06_attngan_train.ipynb"), str(tmp_path / "executed.ipynb"),
        cwd=str(ROOT), kernel_name="python3", progress_bar=False,
        parameters={"data_dir": str(data), "image_size": 32, "damsm_dir": str(damsm),
                    "run_dir": str(tmp_path / "run"), "train_overrides": overrides,
                    "models_dir": str(tmp_path / "models"), "model_name": "tiny",
                    "classifier_dir": str(tmp_path / "clf"), "classifier_epochs": 1,
                    "n_eval": 100, "out_dir": str(out),
                    "caption": "a small red circle at the top on a black background"})
    results = json.loads((out / "attngan_results.json").read_text())
    assert results["steps"] == 4 and results["images_seen"] == 64
    assert 0.0 <= results["r_precision_generated"] <= 1.0
    assert results["unknown_words"][-1] == ["zebra"]
    assert (out / "attngan_attention_maps.png").stat().st_size > 1000
    assert results["attention_words"][:3] == ["a", "small", "red"]
    assert "colour" in results["caption_accuracy_generated"]
    card = json.loads((tmp_path / "models" / "tiny" / "card.json").read_text())
    assert card["kind"] == "attngan" and "r_precision_generated" in card["metrics"]
