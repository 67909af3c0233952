"""AttnGAN's CUB/birds layout: the real metadata at full scale, a tiny fixture with images,
and the restricted unpickler refusing a malicious pickle through the readers."""
import os
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_DATA
from condgan.data.cub import crop_box, is_cub_layout, load_cub, read_bboxes, read_filenames
from condgan.errors import UserError
from condgan.text import build_vocabulary, tokenize

META = SHARED_DATA / "cub-birds-metadata"


@pytest.fixture(scope="module")
def birds(tmp_path_factory):
    if not (META / "birds.zip").is_file():
        pytest.skip("real CUB metadata not available")
    root = tmp_path_factory.mktemp("birds")
    with zipfile.ZipFile(META / "birds.zip") as archive:
        for name in ("birds/captions.pickle", "birds/train/filenames.pickle",
                     "birds/test/filenames.pickle"):
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
    return root / "birds"


def test_real_metadata_full_scale(birds):
    assert is_cub_layout(birds)
    train = load_cub(birds, "train", with_images=False)
    test = load_cub(birds, "test", with_images=False)
    assert sum(map(len, train.captions)) == 88550 and sum(map(len, test.captions)) == 29330
    assert len(set(train.class_ids)) == 150 and len(set(test.class_ids)) == 50
    # AttnGAN builds its dictionary from train + test with no frequency cut: 5,450 entries.
    tokens = [tokenize(c) for s in (train, test) for caps in s.captions for c in caps]
    assert len(build_vocabulary(tokens, min_count=1)) == 5450
    boxes = read_bboxes(META)
    assert len(boxes) == 11788 and boxes[train.keys[0]] == [144.0, 40.0, 333.0, 165.0]


def test_crop_box_is_attngans_enlarged_square():
    # box 100x60 at (50, 40) in a 400x300 image: r = int(100 * 0.75) = 75, centre (100, 70)
    assert crop_box([50, 40, 100, 60], 400, 300) == (25, 0, 175, 145)


def write_fixture(root, names_as="pickle"):
    """Two species, three images, each a gray canvas with a red bird-box."""
    cub = root / "CUB_200_2011"
    names = ["001.Red_Bird/Red_Bird_0001", "001.Red_Bird/Red_Bird_0002",
             "002.Blue_Bird/Blue_Bird_0001"]
    lines_images, lines_boxes = [], []
    for i, name in enumerate(names, 1):
        (cub / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        canvas = np.full((120, 160, 3), 128, np.uint8)
        canvas[40:80, 60:100] = (255, 0, 0)  # the box: x=60, y=40, w=40, h=40
        Image.fromarray(canvas).save(cub / "images" / f"{name}.jpg", quality=95)
        lines_images.append(f"{i} {name}.jpg")
        lines_boxes.append(f"{i} 60.0 40.0 40.0 40.0")
        (root / "text" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "text" / f"{name}.txt").write_text(
            "\n".join([f"this bird number {i} is red", "", "!!!"] +
                      [f"caption {k} of bird {i}" for k in range(12)]))
    (cub / "images.txt").write_text("\n".join(lines_images) + "\n")
    (cub / "bounding_boxes.txt").write_text("\n".join(lines_boxes) + "\n")
    for split, subset in (("train", names[:2]), ("test", names[2:])):
        (root / split).mkdir(parents=True, exist_ok=True)
        if names_as == "pickle":
            (root / split / "filenames.pickle").write_bytes(pickle.dumps(subset, protocol=2))
        else:
            (root / split / "filenames.txt").write_text("\n".join(subset) + "\n")
    return names


@pytest.mark.parametrize("names_as", ["pickle", "txt"])
def test_tiny_fixture_crops_and_captions(tmp_path, names_as):
    names = write_fixture(tmp_path, names_as)
    train = load_cub(tmp_path, "train", image_size=30)
    assert train.keys == names[:2] and train.images.shape == (2, 30, 30, 3)
    assert len(train.captions[0]) == 10  # first ten captions with words, empty lines skipped
    assert train.captions[0][0] == "this bird number 1 is red"
    assert train.class_ids.tolist() == [0, 0]
    # crop (50, 30, 110, 90) around the 40x40 box: the red square fills the middle 2/3
    img = train.images[0].astype(int)
    assert img[15, 15, 0] > 200 and img[15, 15, 2] < 60          # centre is red
    assert abs(img[1, 1] - 128).max() < 30                        # corner is the gray canvas
    red = (img[..., 0] > 200) & (img[..., 1] < 80)
    assert 0.35 < red.mean() < 0.55                               # (40/60)^2 = 0.44
    assert load_cub(tmp_path, "test", image_size=30).class_ids.tolist() == [0]


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned_by_pickle",))


def test_malicious_pickle_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_fixture(tmp_path)
    (tmp_path / "train" / "filenames.pickle").write_bytes(pickle.dumps([Exploit()]))
    with pytest.raises(UserError, match="refusing to load"):
        read_filenames(tmp_path, "train")
    assert not (tmp_path / "pwned_by_pickle").exists()
    (tmp_path / "text").rename(tmp_path / "no_text")  # force the captions.pickle path
    (tmp_path / "captions.pickle").write_bytes(pickle.dumps([[], [], {0: "<end>"}, Exploit()]))
    (tmp_path / "train" / "filenames.pickle").write_bytes(pickle.dumps(["001.A/a"]))
    with pytest.raises(UserError, match="refusing to load"):
        load_cub(tmp_path, "train", with_images=False)
    assert not (tmp_path / "pwned_by_pickle").exists()


def test_escaping_filenames_are_refused(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "filenames.txt").write_text("../../etc/passwd\n")
    with pytest.raises(UserError, match="relative"):
        read_filenames(tmp_path, "train")
