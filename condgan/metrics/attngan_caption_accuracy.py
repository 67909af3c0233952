"""Caption accuracy on Shapes: does a generated image show what its caption says?

Shapes objects sit wholly inside one cell of a 3x3 grid (`condgan.data.shapes.render`), so an
attribute classifier can look at one cell at a time: every cell crop (resized to `CROP` px)
goes through one small CNN with five heads: object present (logit), shape (4), colour (6),
size (2), background (3).  It is trained on the real training images' cells (ground truth from
the stored attributes); cells without an object train only the presence and background heads.

Scoring a caption's attributes on an image (one record per object named in the caption):
* position: the classifier sees an object in the named cell;
* colour / shape / size: the classifier's choice for the named cell equals the caption's;
* background: the majority vote of the nine cells' background heads;
* all-correct: every attribute of every object and the background.
Results are reported per attribute, and all-correct for one-object and for all captions.

Two-object captions get their own report (`two_object_accuracy`): each attribute over both
objects, both objects right, the background, and how often a named object is missing from its
cell (dropped) or an object appears in a cell the caption does not name (an extra: typically
one object drawn twice).  `attribute_confusion` says which values an attribute's errors go to
(e.g. squares read as circles), counting only objects the classifier finds in their cell.

The classifier's convolutional maps (`feature_maps_model`) also serve as the offline distance
network of perceptual path length on Shapes data (`feature_distance.attribute_classifier_distance`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from condgan.data.shapes import BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES
from condgan.errors import UserError

CROP = 24
HEADS = ("present", "shape", "colour", "size", "background")
# the heads that describe one object (the others: is there one, and the whole image's background)
OBJECT_ATTRIBUTES = ("shape", "colour", "size")
_VALUES = {"shape": list(SHAPES), "colour": list(COLOURS), "size": list(SIZES),
           "background": list(BACKGROUNDS)}
CLASSIFIER_FILE = "attribute_classifier.keras"
# Its convolutions, each read after the LeakyReLU that follows it (LPIPS reads VGG's after their
# ReLUs): the maps perceptual path length compares.
FEATURE_MAP_LAYERS = ("conv1", "conv2", "conv3")


def cell_crops(images: np.ndarray) -> np.ndarray:
    """uint8 (N, S, S, 3) -> float32 (N, 9, CROP, CROP, 3) in [-1, 1], row-major cells."""
    from PIL import Image
    images = np.asarray(images)
    size = images.shape[1]
    bounds = [int(round(k * size / 3)) for k in range(4)]
    out = np.empty((len(images), 9, CROP, CROP, 3), np.float32)
    for i, image in enumerate(images):
        for cell in range(9):
            r, c = divmod(cell, 3)
            crop = image[bounds[r]:bounds[r + 1], bounds[c]:bounds[c + 1]]
            if crop.shape[0] != CROP or crop.shape[1] != CROP:
                crop = np.asarray(Image.fromarray(crop).resize((CROP, CROP), Image.NEAREST))
            out[i, cell] = crop
    return out / 127.5 - 1.0


def cell_labels(attributes: list[dict]) -> dict[str, np.ndarray]:
    """Per-cell targets (N, 9) for each head; -1 where a cell has no object (masked)."""
    n = len(attributes)
    labels = {h: np.full((n, 9), -1, np.int32) for h in HEADS}
    labels["present"][:] = 0
    for i, attrs in enumerate(attributes):
        labels["background"][i] = _VALUES["background"].index(attrs["background"])
        for obj in attrs["objects"]:
            cell = POSITIONS.index(obj["position"])
            labels["present"][i, cell] = 1
            for key in OBJECT_ATTRIBUTES:
                labels[key][i, cell] = _VALUES[key].index(obj[key])
    return labels


def build_classifier(width: int = 32):
    import keras
    from keras import layers
    crop = keras.Input((CROP, CROP, 3), name="crop")
    h = crop
    for i, (channels, stride) in enumerate([(width, 1), (width * 2, 2), (width * 2, 2)]):
        h = layers.Conv2D(channels, 3, strides=stride, padding="same", name=f"conv{i + 1}")(h)
        h = layers.LeakyReLU(0.1)(h)
    h = layers.Dense(128, activation="relu", name="hidden")(layers.Flatten()(h))
    outputs = {"present": layers.Dense(1, name="present")(h)}
    for key in ("shape", "colour", "size", "background"):
        outputs[key] = layers.Dense(len(_VALUES[key]), name=key)(h)
    return keras.Model(crop, outputs, name="shapes_attribute_classifier")


def _masked_ce(y_true, logits):
    """Sparse cross-entropy over entries with a label >= 0 (cells with an object)."""
    from keras import ops
    y = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    mask = ops.cast(y >= 0, "float32")
    ce = ops.sparse_categorical_crossentropy(ops.maximum(y, 0), logits, from_logits=True)
    return ops.sum(ce * mask) / ops.maximum(ops.sum(mask), 1.0)


def _presence_ce(y_true, logits):
    from keras import ops
    return ops.mean(ops.binary_crossentropy(ops.reshape(ops.cast(y_true, "float32"), (-1, 1)),
                                            logits, from_logits=True))


def train_classifier(images: np.ndarray, attributes: list[dict], out_dir: str | os.PathLike,
                     epochs: int = 2, batch_size: int = 128, seed: int = 0, log=print) -> Path:
    """Train on the cells of real images and save `attribute_classifier.keras` in out_dir."""
    import keras
    keras.utils.set_random_seed(seed)
    crops = cell_crops(images).reshape(-1, CROP, CROP, 3)
    labels = {k: v.reshape(-1) for k, v in cell_labels(attributes).items()}
    model = build_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss={"present": _presence_ce, **{k: _masked_ce for k in HEADS[1:]}})
    model.fit(crops, labels, batch_size=batch_size, epochs=epochs, shuffle=True,
              verbose=2 if log else 0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / CLASSIFIER_FILE)
    return out_dir / CLASSIFIER_FILE


def load_classifier(path: str | os.PathLike):
    import keras
    path = Path(path)
    file = path / CLASSIFIER_FILE if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"no attribute classifier at {str(path)!r}: train one with "
                        "`python -m condgan train-shapes-attributes`")
    return keras.saving.load_model(file, safe_mode=True, compile=False)


def is_attribute_classifier(path: str | os.PathLike) -> bool:
    """Whether `path` is a folder holding a Shapes attribute classifier."""
    return (Path(path) / CLASSIFIER_FILE).is_file()


def feature_maps_model(classifier):
    """(cell crops) -> the classifier's FEATURE_MAP_LAYERS maps, each after its LeakyReLU."""
    import keras

    layers = list(classifier.layers)   # in the order the network runs them
    outputs = []
    for name in FEATURE_MAP_LAYERS:
        activation = layers[layers.index(classifier.get_layer(name)) + 1]
        if not isinstance(activation, keras.layers.LeakyReLU):
            raise UserError(f"{classifier.name}: {name} is not followed by a LeakyReLU: not a Shapes "
                            "attribute classifier as `train-shapes-attributes` builds it; train "
                            "one again")
        outputs.append(activation.output)
    return keras.Model(classifier.inputs, outputs)


def predict_cells(classifier, images: np.ndarray, batch_size: int = 512) -> dict[str, np.ndarray]:
    """Per-cell predictions (N, 9): present (bool) and the argmax of each other head."""
    crops = cell_crops(images)
    n = len(images)
    flat = crops.reshape(-1, CROP, CROP, 3)
    parts = []
    for start in range(0, len(flat), batch_size):
        out = classifier.predict_on_batch(flat[start:start + batch_size])
        parts.append({k: np.asarray(v) for k, v in out.items()})
    pred = {"present": np.concatenate([p["present"][:, 0] for p in parts]).reshape(n, 9) > 0}
    for key in HEADS[1:]:
        pred[key] = np.concatenate([p[key].argmax(-1) for p in parts]).reshape(n, 9)
    return pred


def caption_accuracy(classifier, images: np.ndarray, attributes: list[dict]) -> dict:
    """Per-attribute accuracy of `images` against the attributes their captions name."""
    pred = predict_cells(classifier, images)
    hits = {k: [] for k in ("position", "colour", "shape", "size", "background")}
    all_ok, one_ok = [], []
    for i, attrs in enumerate(attributes):
        votes = np.bincount(pred["background"][i], minlength=len(BACKGROUNDS))
        ok = [int(votes.argmax()) == _VALUES["background"].index(attrs["background"])]
        hits["background"].append(ok[0])
        for obj in attrs["objects"]:
            cell = POSITIONS.index(obj["position"])
            hits["position"].append(bool(pred["present"][i, cell]))
            ok.append(hits["position"][-1])
            for key in OBJECT_ATTRIBUTES:
                hits[key].append(int(pred[key][i, cell]) == _VALUES[key].index(obj[key]))
                ok.append(hits[key][-1])
        all_ok.append(all(ok))
        if len(attrs["objects"]) == 1:
            one_ok.append(all(ok))
    result = {k: float(np.mean(v)) for k, v in hits.items()}
    result["all_correct"] = float(np.mean(all_ok))
    result["all_correct_one_object"] = float(np.mean(one_ok)) if one_ok else None
    result["images"] = len(attributes)
    result["one_object_images"] = len(one_ok)
    return result


def two_object_accuracy(classifier, images: np.ndarray, attributes: list[dict]) -> dict:
    """Accuracy of `images` against two-object captions' attributes (see the module docstring)."""
    if not attributes or any(len(attrs["objects"]) != 2 for attrs in attributes):
        raise ValueError("two_object_accuracy scores captions that name exactly two objects")
    pred = predict_cells(classifier, images)
    hits = {k: [] for k in ("position", "colour", "shape", "size")}
    both, background, dropped, extra = [], [], [], []
    for i, attrs in enumerate(attributes):
        votes = np.bincount(pred["background"][i], minlength=len(BACKGROUNDS))
        background.append(int(votes.argmax()) == _VALUES["background"].index(attrs["background"]))
        cells = [POSITIONS.index(obj["position"]) for obj in attrs["objects"]]
        objects_right = []
        for obj, cell in zip(attrs["objects"], cells):
            right = [bool(pred["present"][i, cell])]
            hits["position"].append(right[0])
            for key in OBJECT_ATTRIBUTES:
                right.append(int(pred[key][i, cell]) == _VALUES[key].index(obj[key]))
                hits[key].append(right[-1])
            objects_right.append(all(right))
        both.append(all(objects_right))
        dropped.append(not all(pred["present"][i, cell] for cell in cells))
        extra.append(bool(np.delete(pred["present"][i], cells).any()))
    result = {k: float(np.mean(v)) for k, v in hits.items()}
    result.update(both_objects_right=float(np.mean(both)), background=float(np.mean(background)),
                  dropped_object=float(np.mean(dropped)), extra_object=float(np.mean(extra)),
                  images=len(attributes))
    return result


def attribute_confusion(classifier, images: np.ndarray, attributes: list[dict],
                        key: str = "shape") -> dict:
    """{"values": names, "matrix": counts[named value][read value]} over every object named in
    the captions whose cell holds an object by the classifier: an attribute read from an empty
    cell says nothing about how the model draws it (position counts those)."""
    if key not in OBJECT_ATTRIBUTES:
        raise ValueError(f"attribute_confusion reads shape, colour or size, not {key!r}")
    pred = predict_cells(classifier, images)
    values = _VALUES[key]
    matrix = np.zeros((len(values), len(values)), int)
    for i, attrs in enumerate(attributes):
        for obj in attrs["objects"]:
            cell = POSITIONS.index(obj["position"])
            if pred["present"][i, cell]:
                matrix[values.index(obj[key]), int(pred[key][i, cell])] += 1
    return {"values": values, "matrix": matrix.tolist()}


def save_json(path: Path, data: dict) -> None:
    from condgan.basics import write_json_atomic
    write_json_atomic(path, json.loads(json.dumps(data)))
