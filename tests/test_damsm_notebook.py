"""notebooks/05_attngan_damsm.ipynb runs end to end with tiny parameters (papermill)."""
import json

import pytest

from conftest import ROOT

papermill = pytest.importorskip("papermill")


def test_notebook_runs_and_draws_attention_maps(tmp_path):
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "05_attngan_damsm.ipynb"), str(tmp_path / "executed.ipynb"),
        cwd=str(ROOT), kernel_name="python3", progress_bar=False,
        parameters={"data_dir": str(tmp_path / "shapes"), "n_images": 1100, "image_size": 32,
                    "run_dir": str(tmp_path / "run"), "out_dir": str(out),
                    "train_overrides": {"epochs": 1, "dim": 16, "embed_dim": 16, "cnn_width": 8,
                                        "batch_size": 32, "max_train_images": 96,
                                        "val_batches": 1, "rp_images": 110}})
    results = json.loads((out / "attngan_damsm_results.json").read_text())
    assert (out / "attngan_damsm_attention.png").stat().st_size > 1000
    n_words = len(results["caption"].split())
    assert results["attention_maps"] == [n_words, 4, 4]          # one 4x4 map per word (32 px)
    assert all(abs(s - 1.0) < 1e-4 for s in results["attention_sums"])  # softmax over regions
    assert 0.0 <= results["r_precision"] <= 1.0
