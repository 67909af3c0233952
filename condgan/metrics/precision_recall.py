"""Metrics that see mode collapse: improved precision and recall, and sample diversity.

FID folds quality and variety into one number, and a classifier's accuracy can be high for a
model that draws one image per class.  Improved precision and recall (Kynkäänniemi et al.,
NeurIPS 2019) keep them apart.  Each set of feature vectors stands for a manifold: the union of
balls around its points, each ball reaching the point's k-th nearest neighbour in its own set.

    precision = share of generated points inside the real manifold   (are the samples realistic?)
    recall    = share of real points inside the generated manifold   (is all of the data covered?)

A collapsed model keeps its precision and loses its recall.  Both depend on the sizes of the two
sets (the radii shrink as a set grows), so `evaluate` compares the model with real images at the
same sizes: the reference split in two halves, the generated set against one half, the other
half against it too (what a perfect model would score).

Diversity is the mean distance between two samples of a set (of one class, for a conditional
model), reported as the generated set's over the real set's: 1.0 is as varied as the data, a
collapsed class tends to 0.
"""
from __future__ import annotations

import numpy as np

# The paper's neighbourhood size: k = 3 gave the most faithful estimates in its experiments.
K_NEAREST = 3
# Rows per block of the pairwise distances: bounds memory at CHUNK x N floats.
CHUNK = 1024
# Below these, `evaluate` warns: recall more than RECALL_MARGIN under the real data's, a set or
# class less varied than DIVERSITY_FLOOR times the real one.
RECALL_MARGIN = 0.1
DIVERSITY_FLOOR = 0.9


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, float64, never negative."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_radii(features: np.ndarray, k: int = K_NEAREST) -> np.ndarray:
    """Squared distance from each point to its k-th nearest other point of the same set."""
    features = np.asarray(features, np.float64)
    if len(features) <= k:
        raise ValueError(f"need more than k={k} feature vectors, got {len(features)}")
    radii = np.empty(len(features))
    for start in range(0, len(features), CHUNK):
        d = _squared_distances(features[start:start + CHUNK], features)
        # Column k of the sorted row: column 0 is the point itself (distance 0).
        radii[start:start + CHUNK] = np.partition(d, k, axis=1)[:, k]
    return radii


def coverage(query: np.ndarray, support: np.ndarray, support_radii: np.ndarray) -> float:
    """Share of `query` points inside the manifold of `support` (some support point's ball)."""
    inside = 0
    for start in range(0, len(query), CHUNK):
        d = _squared_distances(query[start:start + CHUNK], support)
        inside += int((d <= support_radii[None, :]).any(axis=1).sum())
    return inside / len(query)


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = K_NEAREST) -> dict:
    """{"precision", "recall"} of `generated` against `real` (rows are feature vectors)."""
    real, generated = np.asarray(real, np.float64), np.asarray(generated, np.float64)
    return {"precision": coverage(generated, real, knn_radii(real, k)),
            "recall": coverage(real, generated, knn_radii(generated, k))}


def halves(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of range(count), the same for the same seed."""
    order = np.random.default_rng(seed).permutation(count)
    half = count // 2
    return order[:half], order[half:2 * half]


def mean_pairwise_distance(features: np.ndarray, max_points: int = 2000, seed: int = 0) -> float:
    """Mean Euclidean distance between two different points of the set (of at most
    `max_points` of them, drawn at random: the mean converges long before all pairs)."""
    features = np.asarray(features, np.float64)
    if len(features) < 2:
        return float("nan")
    if len(features) > max_points:
        features = features[np.random.default_rng(seed).choice(len(features), max_points, replace=False)]
    d = np.sqrt(_squared_distances(features, features))
    n = len(features)
    return float(d.sum() / (n * (n - 1)))


def diversity(generated: np.ndarray, real: np.ndarray, generated_labels=None, real_labels=None,
              classes=None, seed: int = 0) -> dict:
    """Generated diversity over real diversity: overall, and per class when labels are given
    ({"value": mean of the classes' ratios, "per_class": {name: ratio}}), else of the whole sets."""
    if generated_labels is None:
        return {"value": mean_pairwise_distance(generated, seed=seed)
                / mean_pairwise_distance(real, seed=seed)}
    generated_labels, real_labels = np.asarray(generated_labels), np.asarray(real_labels)
    per_class = {}
    for index, name in enumerate(classes):
        per_class[str(name)] = (mean_pairwise_distance(generated[generated_labels == index], seed=seed)
                                / mean_pairwise_distance(real[real_labels == index], seed=seed))
    return {"value": float(np.nanmean(list(per_class.values()))), "per_class": per_class}
