"""The generic captioned layout: validation, path safety, hash split, resizing."""
import json

import numpy as np
import pytest
from PIL import Image

from condgan.data.captioned import load_captioned, write_captioned
from condgan.errors import UserError


def test_round_trip_and_resize(tmp_path):
    images = np.random.default_rng(0).integers(0, 255, (4, 20, 20, 3), dtype=np.uint8)
    caps = [[f"caption {i}", "another"] for i in range(4)]
    write_captioned(tmp_path, images, caps, splits=["train", "train", "test", "train"],
                    classes=["a", "a", "b", "c"])
    train = load_captioned(tmp_path, "train")
    assert train.images.tobytes() == images[[0, 1, 3]].tobytes()
    assert train.captions[2] == ["caption 3", "another"]
    assert train.class_ids[0] == train.class_ids[1] != train.class_ids[2]
    assert load_captioned(tmp_path, "test", image_size=8).images.shape == (1, 8, 8, 3)


def test_bad_lines_and_escaping_paths(tmp_path):
    with pytest.raises(UserError, match="captions.jsonl"):
        load_captioned(tmp_path)
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "../a.png", "captions": ["x"]}))
    with pytest.raises(UserError, match="leaves the folder"):
        load_captioned(tmp_path)
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "a.png", "captions": []}))
    with pytest.raises(UserError, match="non-empty list"):
        load_captioned(tmp_path)
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "a.png", "captions": ["x"]}))
    assert len(load_captioned(tmp_path)) == 1  # no split keys: all images when no split asked


def test_subset_keeps_each_images_attributes(tmp_path):
    images = np.zeros((4, 8, 8, 3), np.uint8)
    attributes = [{"objects": [{"shape": s}]} for s in ("circle", "square", "triangle", "diamond")]
    write_captioned(tmp_path / "d", images, [[f"caption {i}"] for i in range(4)],
                    attributes=attributes, splits=["train"] * 4)
    subset = load_captioned(tmp_path / "d", "train").subset([3, 1])
    assert subset.captions == [["caption 3"], ["caption 1"]]
    assert subset.meta["attributes"] == [attributes[3], attributes[1]]
