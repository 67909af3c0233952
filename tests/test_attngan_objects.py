"""The object-wise discriminator of the AttnGAN family: per-cell labels from a captioned set's
object records, the loss that reads them, the heads learning real cells, a run that trains,
resumes and exports with them, and clear errors for data without labels."""
import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from attngan_fixtures import SIZE, TINY, fixed_batch, shapes_and_damsm, train_attngan
from condgan.api import export_model
from condgan.data.caption_sets import load_caption_split
from condgan.data.captioned import write_captioned
from condgan.data.object_cells import EMPTY
from condgan.data.shapes import COLOURS, POSITIONS, SHAPES, SIZES
from condgan.errors import UserError
from condgan.families.attngan.family import build_models, object_labels
from condgan.families.attngan.losses import object_loss
from condgan.families.damsm.data import encode_split
from condgan.families.damsm.family import load_damsm
from condgan.train.checkpoint import list_checkpoints

OBJECTS = dataclasses.replace(TINY, d_object_weight=1.0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return shapes_and_damsm(tmp_path_factory.mktemp("objects"))


def test_cell_labels_follow_each_images_objects(setup):
    data, _ = setup
    train = load_caption_split(data, "train", SIZE)
    labels, classes = object_labels(OBJECTS, train, str(data))
    assert classes == (len(SHAPES), len(COLOURS), len(SIZES))
    assert labels.shape == (len(train), len(POSITIONS), 3) and labels.dtype == np.int32
    for record, cells in zip(train.meta["attributes"], labels):
        named = {POSITIONS.index(o["position"]): o for o in record["objects"]}
        for cell in range(len(POSITIONS)):
            if cell in named:
                o = named[cell]
                assert tuple(cells[cell]) == (SHAPES.index(o["shape"]), list(COLOURS).index(o["colour"]),
                                              SIZES.index(o["size"]))
            else:
                assert (cells[cell] == EMPTY).all()


def test_object_loss_scores_presence_everywhere_and_attributes_where_objects_are():
    classes = (2, 3)
    labels = np.full((1, 4, 2), EMPTY, np.int32)
    labels[0, 1] = (1, 2)
    confident = np.full((1, 4, 6), 0.0, np.float32)
    confident[0, :, 0] = -20.0          # "no object" in every cell ...
    confident[0, 1, 0] = 20.0           # ... but the one that has it
    confident[0, 1, 1:3] = (-20.0, 20.0)     # its first attribute: value 1
    confident[0, 1, 3:6] = (-20.0, -20.0, 20.0)  # its second: value 2
    assert float(object_loss(confident, labels, classes)[0]) < 1e-6
    # wrong attribute logits in empty cells cost nothing
    noisy = confident.copy()
    noisy[0, 0, 1:] = (20.0, -20.0, 20.0, -20.0, -20.0)
    assert float(object_loss(noisy, labels, classes)[0]) < 1e-6
    # a wrong value in the occupied cell costs its cross-entropy (~40 nats), a missed object ~20/4
    wrong = confident.copy()
    wrong[0, 1, 1:3] = (20.0, -20.0)
    assert float(object_loss(wrong, labels, classes)[0]) == pytest.approx(40.0, abs=0.01)
    missed = confident.copy()
    missed[0, 1, 0] = -20.0
    assert float(object_loss(missed, labels, classes)[0]) == pytest.approx(20.0 / 4, abs=0.01)


def test_heads_learn_the_real_cells_and_the_generator_is_scored_by_them(setup):
    data, damsm = setup
    text, image, vocab, damsm_cfg = load_damsm(damsm)
    keras.utils.set_random_seed(0)
    raw = load_caption_split(data, "train", SIZE)
    labels, classes = object_labels(OBJECTS, raw, str(data))
    trainer = build_models(OBJECTS, damsm_cfg, text, image, object_classes=classes)
    batch = (*fixed_batch(encode_split(raw, vocab)), labels[:16])
    parts = tf.function(lambda *b: trainer.losses(*b[:4], counter=tf.constant(0, tf.int64),
                                                  training=True, cells=b[4]))
    first = {k: float(v) for k, v in parts(*batch).items()}
    # the term is in both players' losses: D's through real cells, G's through its fakes
    assert first["d_objects"] > 0 and first["g_objects"] > 0
    step = tf.function(trainer.train_step)
    for _ in range(30):
        step(batch)
    after = {k: float(v) for k, v in parts(*batch).items()}
    assert after["d_objects"] < 0.7 * first["d_objects"], (first, after)
    # without the weight the same trainer neither reads nor scores cells
    plain = build_models(TINY, damsm_cfg, text, image)
    assert plain.discriminator.object_heads == []
    tensors = [tf.convert_to_tensor(x) for x in batch[:4]]
    assert "d_objects" not in plain.losses(*tensors, counter=tf.constant(0, tf.int64))


def test_a_run_with_the_object_heads_trains_resumes_and_exports(setup, tmp_path):
    data, damsm = setup
    run = tmp_path / "run"
    train_attngan(OBJECTS, data, damsm, run)
    train_attngan(dataclasses.replace(OBJECTS, epochs=2), data, damsm, run)   # resumes
    history = [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [4, 8]
    assert all(np.isfinite(h["d_objects"]) and np.isfinite(h["g_objects"]) for h in history)
    assert list_checkpoints(run)[-1].name == "ckpt-0000000008.npz"
    card = json.loads((export_model(run, "objects", tmp_path / "models") / "card.json").read_text())
    assert card["images_seen"] == 128 and card["training"]["d_object_weight"] == 1.0


def test_data_without_object_records_is_a_clear_error(tmp_path):
    images = np.zeros((3, SIZE, SIZE, 3), np.uint8)
    folder = write_captioned(tmp_path / "plain", images, [["a red circle"]] * 3, splits=["train"] * 3)
    plain = load_caption_split(folder, "train", SIZE)
    with pytest.raises(UserError, match="attribute_values.*d_object_weight=0"):
        object_labels(OBJECTS, plain, str(folder))
    meta = {"attribute_values": {"position": list(POSITIONS), "shape": list(SHAPES),
                                 "colour": list(COLOURS), "size": list(SIZES)}}
    folder = write_captioned(tmp_path / "meta", images, [["a red circle"]] * 3, meta=meta,
                             splits=["train"] * 3)
    with pytest.raises(UserError, match="every image's objects"):
        object_labels(OBJECTS, load_caption_split(folder, "train", SIZE), str(folder))
    odd = {"objects": [{"position": "far away", "shape": "circle", "colour": "red", "size": "small"}]}
    folder = write_captioned(tmp_path / "odd", images, [["a red circle"]] * 3, meta=meta,
                             attributes=[odd] * 3, splits=["train"] * 3)
    with pytest.raises(UserError, match="'far away', not one of"):
        object_labels(OBJECTS, load_caption_split(folder, "train", SIZE), str(folder))
    with pytest.raises(UserError, match="d_object_attributes"):
        object_labels(dataclasses.replace(OBJECTS, d_object_attributes=" , "), plain, str(folder))
