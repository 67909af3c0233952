"""The reference classifier: trains on tiny data, beats chance, resumes, saves a safe-mode model."""
import json

import numpy as np
import pytest

from condgan.data.arrays import ArraySet
from condgan.metrics.classifier import ClassifierConfig, augment_batch, build_classifier
from condgan.metrics.classifier_train import train_classifier
from condgan.metrics.reference import ReferenceClassifier
from tests.metrics_fixtures import CLASSES, quadrant_images


def test_augment_batch_crops_and_flips_within_the_image():
    x = np.arange(2 * 8 * 8 * 3, dtype=np.uint8).reshape(2, 8, 8, 3)
    out = augment_batch(x, np.random.default_rng(0), pad=0)
    for orig, aug in zip(x, out):  # pad 0: each image is itself or its mirror
        assert np.array_equal(aug, orig) or np.array_equal(aug, orig[:, ::-1])
    padded = augment_batch(x, np.random.default_rng(1), pad=2)
    assert padded.shape == x.shape and padded.dtype == np.uint8


def test_model_has_no_lambda_and_takes_other_sizes():
    model = build_classifier(3, image_size=24, width=4)
    assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)
    assert model.get_layer("features").output.shape[-1] == 32


def test_trained_classifier_beats_chance_and_resumes(tmp_path):
    x, y = quadrant_images(256, seed=0)
    xt, yt = quadrant_images(90, seed=1)
    train, test = ArraySet(x, y, CLASSES), ArraySet(xt, yt, CLASSES)
    cfg = ClassifierConfig(width=4, epochs=3, batch_size=32, peak_lr=0.1)
    lines = []
    card = train_classifier(train, test, tmp_path, cfg, say=lines.append, command="test")
    assert card["test_accuracy"] > 1.0 / len(CLASSES) + 0.2, card  # chance is 1/3
    assert set(card["per_class_test_accuracy"]) == set(CLASSES)
    assert json.loads((tmp_path / "card.json").read_text())["test_accuracy"] == card["test_accuracy"]
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3] and history[-1]["images_seen"] == 3 * 256
    # A finished run resumes to "nothing left to do" and reproduces the same weights.
    again = train_classifier(train, test, tmp_path, cfg, say=lines.append, command="test")
    assert any("resuming" in line for line in lines) and again["test_accuracy"] == card["test_accuracy"]
    reference = ReferenceClassifier(tmp_path)  # safe-mode load of classifier.keras
    pred = reference.predict_labels(xt)
    assert np.mean(pred == yt) == pytest.approx(card["test_accuracy"])
    out = reference(xt[:5])
    assert out["features"].shape == (5, 32) and np.allclose(out["probs"].sum(1), 1, atol=1e-5)
