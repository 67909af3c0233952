"""Class-conditional quality: per-class accuracy and intra-class Frechet distance.

Per-class accuracy (the "classification accuracy score" direction of Ravuri & Vinyals 2019,
here simply: does a reference classifier label a sample as the class it was asked for) says
whether conditioning works; it is bounded by the classifier's own test accuracy.  Intra-class
FID (Miyato & Koyama 2018) is the Frechet distance computed per class and averaged, so a model
that draws good images of the wrong class is not rewarded.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from condgan.metrics.fid import feature_statistics, frechet_distance


def per_class_accuracy(pred: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    """Fraction of images of each class predicted as that class (NaN for absent classes)."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    return {name: float(np.mean(pred[labels == i] == i)) if np.any(labels == i) else float("nan")
            for i, name in enumerate(classes)}


def accuracy_report(pred: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> dict:
    """{"value": overall accuracy, "per_class": {...}, "confusion": K x K counts (rows: asked)}."""
    k = len(classes)
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (np.asarray(labels), np.asarray(pred)), 1)
    return {"value": float(np.mean(np.asarray(pred) == np.asarray(labels))),
            "per_class": per_class_accuracy(pred, labels, classes),
            "confusion": confusion.tolist()}


def subset_share(pred: np.ndarray, subset: Sequence[int], classes: Sequence[str]) -> dict:
    """{"value": share of predictions in `subset`, "predicted_as": share per class}: how often a
    classifier puts an unconditional model's samples in the classes it was trained on."""
    pred = np.asarray(pred)
    return {"value": float(np.mean(np.isin(pred, list(subset)))),
            "trained_classes": [classes[i] for i in subset],
            "predicted_as": {name: float(np.mean(pred == i)) for i, name in enumerate(classes)}}


def intra_class_fid(gen_features: np.ndarray, gen_labels: np.ndarray, ref_features: np.ndarray,
                    ref_labels: np.ndarray, classes: Sequence[str]) -> dict:
    """{"value": mean over classes, "per_class": {...}}; classes with < 2 images are skipped."""
    per_class = {}
    for i, name in enumerate(classes):
        g, r = gen_features[gen_labels == i], ref_features[ref_labels == i]
        if len(g) >= 2 and len(r) >= 2:
            per_class[name] = frechet_distance(*feature_statistics(g), *feature_statistics(r))
    value = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return {"value": value, "per_class": per_class}
