"""Notebook 01 runs end to end with tiny parameters (papermill) and writes what it says."""
import json
from pathlib import Path

import numpy as np
import papermill
from PIL import Image

from condgan.data.arrays import load_array_set
from scrape_server import FakeWeb, Route, make_jpeg

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_01_scrapes_builds_and_plots(tmp_path, monkeypatch):
    folders = tmp_path / "mine"
    for name, seeds in (("cat", range(5)), ("dog", range(10, 13))):
        (folders / name).mkdir(parents=True)
        for seed in seeds:
            Image.fromarray(np.random.default_rng(seed).integers(0, 255, (48, 40, 3), dtype=np.uint8)
                            ).save(folders / name / f"{seed}.png")
    monkeypatch.delenv("PIXABAY_API_KEY", raising=False)
    with FakeWeb() as web:
        for i in range(4):
            web.add(f"/img/h{i}.jpg", Route(make_jpeg(100 + i)), ("openverse",))
        monkeypatch.setenv("OPENVERSE_API_URL", web.url("/api/openverse/images/"))
        executed = tmp_path / "out.ipynb"
        papermill.execute_notebook(
            str(ROOT / "notebooks" / "01_build_dataset.ipynb"), str(executed), cwd=str(ROOT / "notebooks"),
            kernel_name="python3", progress_bar=False,
            parameters={"scrape_jobs": [{"source": "pixabay", "label": "horse", "limit": 5},
                                        {"source": "openverse", "label": "horse", "query": "horse",
                                         "limit": 10, "min_size": 32}],
                        "raw_dir": str(tmp_path / "raw"), "folders": str(folders), "image_size": 16,
                        "output": str(tmp_path / "mine.npz"), "grid_per_class": 4,
                        "figure_dir": str(tmp_path / "figures"), "quiet": True})
    data = load_array_set(tmp_path / "mine.npz")
    assert data.classes == ["cat", "dog", "horse"] and data.x.shape == (12, 16, 16, 3)
    assert np.bincount(data.y).tolist() == [5, 3, 4]
    assert data.meta["sources"] == {"local": 8, "openverse": 4}
    for figure in ("dataset_grid.png", "class_balance.png"):
        assert Image.open(tmp_path / "figures" / figure).size[0] > 100
    text = json.dumps(json.loads(executed.read_text())["cells"])
    assert "skipping pixabay (horse): set PIXABAY_API_KEY" in text
