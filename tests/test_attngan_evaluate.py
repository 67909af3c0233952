"""Shapes caption accuracy (attribute classifier) and evaluate-attngan on a tiny exported model."""
import argparse
import json
import shutil

import keras
import numpy as np
import pytest

from attngan_fixtures import TINY, make_damsm_run, make_shapes
from condgan.cli import main
from condgan.commands.attributes import (add_train_shapes_attributes_arguments,
                                         run_train_shapes_attributes)
from condgan.data.shapes import generate_shapes, write_shapes
from condgan.families.attngan.family import build_models, save_attngan
from condgan.families.damsm.family import load_damsm
from condgan.metrics.attngan_caption_accuracy import cell_labels


def test_cell_labels_follow_the_attributes():
    data = generate_shapes(4, 64, seed=1)
    labels = cell_labels(data.attributes)
    for i, attrs in enumerate(data.attributes):
        assert labels["present"][i].sum() == len(attrs["objects"])
        assert (labels["shape"][i] >= 0).sum() == len(attrs["objects"])


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    root = tmp_path_factory.mktemp("clf")
    data = root / "shapes"
    write_shapes(data, 560, size=32, seed=2, test_fraction=160 / 560)  # 400 train, 160 test
    parser = argparse.ArgumentParser()
    add_train_shapes_attributes_arguments(parser)
    run_train_shapes_attributes(parser.parse_args(["--data", str(data), "--out", str(root / "clf"),
                                                   "--image-size", "32", "--epochs", "3"]))
    return data, root / "clf"


def test_classifier_reads_real_images(classifier):
    data, clf = classifier
    result = json.loads((clf / "real_test_accuracy.json").read_text())
    # tiny training set, 3 epochs: far above chance (colour 1/6, background 1/3, position ~2/9)
    assert result["colour"] > 0.6 and result["background"] > 0.9 and result["position"] > 0.8
    assert set(result) >= {"shape", "size", "all_correct", "all_correct_one_object"}


def test_evaluate_attngan_writes_card_metrics(classifier, tmp_path):
    data, clf = classifier
    tiny_data = make_shapes(tmp_path / "tiny")
    text, image, vocab, damsm_cfg = load_damsm(make_damsm_run(tmp_path / "damsm", tiny_data))
    keras.utils.set_random_seed(0)
    trainer = build_models(TINY, damsm_cfg, text, image)
    model = save_attngan(trainer.generator, text, vocab, tmp_path / "models" / "m", stages=2,
                         z_dim=TINY.z_dim, condition_dim=TINY.condition_dim, max_len=18,
                         dataset={"damsm": str(tmp_path / "damsm")})
    with pytest.raises(SystemExit):  # the card names its DAMSM by name only: not found from here
        main(["evaluate", str(model), "--data", str(data), "--classifier", str(clf), "-n", "120"])
    assert main(["evaluate", str(model), "--data", str(data), "--classifier", str(clf),
                 "-n", "120", "--damsm", str(tmp_path / "damsm")]) == 0
    metrics = json.loads((model / "card.json").read_text())["metrics"]
    assert 0.0 <= metrics["r_precision_generated"]["value"] <= 1.0
    assert metrics["caption_accuracy_real"]["value"]["colour"] > metrics[
        "caption_accuracy_generated"]["value"]["colour"]  # untrained G vs real images
    protocol = metrics["r_precision_real"]["protocol"]
    assert protocol["num_generated"] == 120 and "held-out image" in protocol["captions"]
    assert metrics["damsm_fid"]["value"] > 0.0
    assert "NOT Inception FID" in metrics["damsm_fid"]["protocol"]["feature_network"]
    # two-object captions: all of them among the 120, however long, each object scored
    pairs = metrics["caption_accuracy_two_objects_real"]
    assert pairs["value"]["images"] == pairs["protocol"]["num_generated"] > 10
    assert set(pairs["value"]) == {"position", "colour", "shape", "size", "both_objects_right",
                                   "background", "dropped_object", "extra_object", "images"}
    assert "longer than the text encoder's 18 words" in pairs["protocol"]["method"]
    assert pairs["value"]["position"] > metrics["caption_accuracy_two_objects_generated"]["value"]["position"]
    assert "damsm" in metrics["r_precision_generated"]["protocol"]["feature_network"]

    # another DAMSM's numbers go in beside the card's own, never over them; the old command
    # name still works
    shutil.copytree(tmp_path / "damsm", tmp_path / "damsm_other")
    assert main(["evaluate-attngan", str(model), "--data", str(data), "--classifier", str(clf),
                 "-n", "120", "--damsm", str(tmp_path / "damsm_other")]) == 0
    again = json.loads((model / "card.json").read_text())["metrics"]
    assert again["r_precision_generated"] == metrics["r_precision_generated"]
    assert again["damsm_fid"] == metrics["damsm_fid"]
    assert "damsm_other" in again["r_precision_generated@damsm_other"]["protocol"]["feature_network"]
    assert "damsm_fid@damsm_other" in again and "caption_accuracy_generated@damsm_other" not in again


def test_two_object_accuracy_counts_each_object_drops_and_extras(monkeypatch):
    from condgan.data.shapes import POSITIONS
    from condgan.metrics import attngan_caption_accuracy as acc

    def obj(position, colour="red", shape="circle", size="large"):
        return {"position": position, "colour": colour, "shape": shape, "size": size}

    attributes = [{"background": "black", "objects": [obj("top left"), obj("bottom right", "blue")]}] * 3
    present = np.zeros((3, 9), bool)
    cells = [POSITIONS.index("top left"), POSITIONS.index("bottom right")]
    present[:, cells] = True
    present[1, cells[1]] = False                 # image 1 drops the second object
    present[2, POSITIONS.index("center")] = True  # image 2 draws an extra one
    colour = np.full((3, 9), acc._VALUES["colour"].index("red"))
    colour[:, cells[1]] = acc._VALUES["colour"].index("blue")
    colour[2, cells[1]] = acc._VALUES["colour"].index("red")   # image 2: red for the blue one
    pred = {"present": present, "colour": colour,
            "shape": np.full((3, 9), acc._VALUES["shape"].index("circle")),
            "size": np.full((3, 9), acc._VALUES["size"].index("large")),
            "background": np.full((3, 9), acc._VALUES["background"].index("black"))}
    monkeypatch.setattr(acc, "predict_cells", lambda classifier, images: pred)
    result = acc.two_object_accuracy(None, np.zeros((3, 32, 32, 3), np.uint8), attributes)
    assert result["position"] == pytest.approx(5 / 6) and result["colour"] == pytest.approx(5 / 6)
    assert result["both_objects_right"] == pytest.approx(1 / 3) and result["background"] == 1.0
    assert result["dropped_object"] == pytest.approx(1 / 3) and result["extra_object"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="exactly two objects"):
        acc.two_object_accuracy(None, np.zeros((1, 32, 32, 3), np.uint8), [{"background": "black",
                                                                          "objects": [obj("center")]}])


def test_attribute_confusion_counts_only_objects_found_in_their_cell(monkeypatch):
    from condgan.data.shapes import POSITIONS
    from condgan.metrics import attngan_caption_accuracy as acc

    shapes = acc._VALUES["shape"]
    attributes = [{"background": "black", "objects": [
        {"position": "top left", "colour": "red", "shape": "square", "size": "large"},
        {"position": "center", "colour": "blue", "shape": "triangle", "size": "small"}]}] * 2
    top_left, center = POSITIONS.index("top left"), POSITIONS.index("center")
    present = np.zeros((2, 9), bool)
    present[:, top_left] = True
    present[0, center] = True                     # image 1 dropped its triangle
    shape = np.full((2, 9), shapes.index("diamond"))
    shape[:, top_left] = shapes.index("circle")   # both squares read as circles
    shape[0, center] = shapes.index("triangle")
    monkeypatch.setattr(acc, "predict_cells", lambda classifier, images: {"present": present, "shape": shape})
    found = acc.attribute_confusion(None, np.zeros((2, 32, 32, 3), np.uint8), attributes)
    matrix = np.array(found["matrix"])
    assert found["values"] == shapes and matrix.sum() == 3
    assert matrix[shapes.index("square"), shapes.index("circle")] == 2
    assert matrix[shapes.index("triangle"), shapes.index("triangle")] == 1
    with pytest.raises(ValueError, match="shape, colour or size"):
        acc.attribute_confusion(None, np.zeros((2, 32, 32, 3), np.uint8), attributes, "background")


def test_resize_for_a_damsm_of_another_size():
    from condgan.metrics.r_precision import resize_uint8
    images = np.zeros((2, 16, 16, 3), np.uint8)
    images[:, :8] = 200
    assert resize_uint8(images, 16) is images
    out = resize_uint8(images, 32)
    assert out.shape == (2, 32, 32, 3) and out.dtype == np.uint8
    assert out[0, 0, 0, 0] == 200 and out[0, -1, 0, 0] == 0
