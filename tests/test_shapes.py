"""Shapes: deterministic bytes, and the stored attributes agree with the rendered pixels."""
import json

import numpy as np
import pytest

from condgan.cli import main
from condgan.data.captioned import load_captioned
from condgan.data.shapes import (BACKGROUNDS, COLOURS, POSITIONS, SHAPES_VERSION,
                                 generate_shapes)
from condgan.errors import UserError


def test_same_seed_same_bytes_and_prefix_stability():
    a, b = generate_shapes(40, 48, seed=3), generate_shapes(40, 48, seed=3)
    assert a.images.tobytes() == b.images.tobytes() and a.captions == b.captions
    assert a.attributes == b.attributes and a.meta["version"] == SHAPES_VERSION
    c = generate_shapes(10, 48, seed=3)  # image i does not depend on n
    assert c.images.tobytes() == a.images[:10].tobytes()
    assert generate_shapes(10, 48, seed=4).images.tobytes() != c.images.tobytes()


def test_attributes_match_pixels():
    data = generate_shapes(60, 64, seed=0)
    size, cell = 64, 64 / 3
    colour_of = {v: k for k, v in COLOURS.items()}
    for image, attrs in zip(data.images, data.attributes):
        assert tuple(image[0, 0]) == BACKGROUNDS[attrs["background"]]
        background = np.all(image == BACKGROUNDS[attrs["background"]], axis=-1)
        expected = {o["position"]: o for o in attrs["objects"]}
        for index, position in enumerate(POSITIONS):
            row, col = divmod(index, 3)
            ys = slice(int(row * cell), int((row + 1) * cell))
            xs = slice(int(col * cell), int((col + 1) * cell))
            patch, fg = image[ys, xs], ~background[ys, xs]
            if position not in expected:
                assert not fg.any(), f"unexpected object in {position}"
                continue
            colours = {colour_of[tuple(p)] for p in patch[fg]}
            assert colours == {expected[position]["colour"]}  # flat colour, right cell
            area = fg.sum() / cell ** 2
            assert (area > 0.2) == (expected[position]["size"] == "large"), area
    assert ~background.all()


def test_captions_name_every_attribute():
    data = generate_shapes(30, 32, seed=1)
    for caps, attrs in zip(data.captions, data.attributes):
        assert len(caps) == 10 and len(set(caps)) > 3  # varied wording
        for caption in caps:
            assert attrs["background"] in caption
            for obj in attrs["objects"]:
                assert obj["colour"] in caption


def test_make_shapes_command_writes_captioned_layout(tmp_path):
    out = tmp_path / "shapes"
    assert main(["make-shapes", "-o", str(out), "--n", "30", "--size", "32",
                 "--test-fraction", "0.2"]) == 0
    first = json.loads((out / "captions.jsonl").read_text().splitlines()[0])
    assert set(first) == {"image", "captions", "split", "class", "attributes"}
    train, test = load_captioned(out, "train"), load_captioned(out, "test")
    assert len(train) == 24 and len(test) == 6 and train.images.shape == (24, 32, 32, 3)
    assert train.images.tobytes() == generate_shapes(24, 32, 0).images.tobytes()  # lossless PNG
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["version"] == SHAPES_VERSION and meta["seed"] == 0


def test_bad_size_is_a_user_error():
    with pytest.raises(UserError, match="32 to 256"):
        generate_shapes(1, 16)


def test_one_object_images_are_the_data_sets_own_and_the_command_writes_an_array_set(tmp_path):
    from condgan.data.arrays import load_array_set
    from condgan.data.shapes import generate_shapes, one_object_shapes

    every = generate_shapes(40, size=32, seed=3)
    singles = [i for i, a in enumerate(every.attributes) if len(a["objects"]) == 1]
    ones = one_object_shapes(len(singles), size=32, seed=3)
    np.testing.assert_array_equal(ones.images, every.images[singles])  # same pixels as there
    assert all(len(a["objects"]) == 1 for a in ones.attributes)
    assert main(["make-shapes", "-o", str(tmp_path / "one.npz"), "--n", "12", "--size", "32"]) == 0
    arrays = load_array_set(tmp_path / "one.npz")
    assert arrays.x.shape == (12, 32, 32, 3) and arrays.classes == ["shapes"]
    np.testing.assert_array_equal(arrays.x, one_object_shapes(12, 32, seed=0).images)
    sidecar = json.loads((tmp_path / "one.json").read_text())
    assert sidecar["objects"] == 1 and sidecar["command"].startswith("python -m condgan ")
