"""Streaming feature extraction: images in batches in, features and running moments out.

Images are never all in memory: reference sets are sliced, generated sets are drawn batch by
batch (`generated_batches`).  What is kept is the N x D feature matrix (float32, needed by KID
and intra-class statistics) plus float64 running moments merged per batch with Chan et al.'s
parallel update, which avoids the cancellation of the naive sum-of-squares covariance.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Iterator, Protocol, Sequence

import numpy as np

from condgan.errors import UserError


class FeatureNetwork(Protocol):
    name: str                 # e.g. "InceptionV3 pool3 (keras.applications)"
    dim: int
    weights_fingerprint: str | None
    resize: str

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """uint8 (B, H, W, C) -> {"features": (B, dim), "probs": (B, K)}."""


class RunningMoments:
    """Mean and covariance of a stream of row vectors, in float64."""

    def __init__(self, dim: int):
        self.count = 0
        self.mean = np.zeros(dim, np.float64)
        self.m2 = np.zeros((dim, dim), np.float64)

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, np.float64)
        nb = batch.shape[0]
        if nb == 0:
            return
        mean_b = batch.mean(axis=0)
        centred = batch - mean_b
        delta = mean_b - self.mean
        total = self.count + nb
        self.m2 += centred.T @ centred + np.outer(delta, delta) * (self.count * nb / total)
        self.mean += delta * (nb / total)
        self.count = total

    @property
    def covariance(self) -> np.ndarray:
        if self.count < 2:
            raise UserError(f"a covariance needs at least 2 images, got {self.count}")
        return self.m2 / (self.count - 1)


@dataclasses.dataclass
class Extracted:
    features: np.ndarray          # float32 (N, D)
    probs: np.ndarray | None      # float32 (N, K) or None
    mean: np.ndarray              # float64 (D,)
    covariance: np.ndarray        # float64 (D, D)

    @property
    def count(self) -> int:
        return int(self.features.shape[0])


class _Accumulator:
    """Features (preallocated), probabilities and moments of one network over one stream."""

    def __init__(self, total: int, keep_probs: bool):
        self.total, self.keep_probs, self.filled = total, keep_probs, 0
        self.features = self.probs = self.moments = None

    def add(self, out: dict) -> None:
        f = np.asarray(out["features"], np.float32)
        if self.features is None:
            self.features = np.empty((self.total, f.shape[1]), np.float32)
            self.moments = RunningMoments(f.shape[1])
            if self.keep_probs and out.get("probs") is not None:
                self.probs = np.empty((self.total, np.shape(out["probs"])[1]), np.float32)
        if self.filled + len(f) > self.total:
            raise ValueError(f"batches hold more than the announced {self.total} images")
        self.features[self.filled:self.filled + len(f)] = f
        if self.probs is not None:
            self.probs[self.filled:self.filled + len(f)] = np.asarray(out["probs"], np.float32)
        self.moments.update(f)
        self.filled += len(f)

    def result(self) -> Extracted:
        if self.features is None or self.filled != self.total:
            raise ValueError(f"expected {self.total} images, got {self.filled}")
        return Extracted(self.features, self.probs, self.moments.mean, self.moments.covariance)


def extract_many(networks: dict[str, Callable[[np.ndarray], dict]], batches: Iterable[np.ndarray],
                 total: int, keep_probs: bool = True) -> dict[str, Extracted]:
    """Run every network over each batch as it comes, so images are drawn (generated) once."""
    accumulators = {name: _Accumulator(total, keep_probs) for name in networks}
    for images in batches:
        for name, network in networks.items():
            accumulators[name].add(network(images))
    return {name: acc.result() for name, acc in accumulators.items()}


def extract(network: Callable[[np.ndarray], dict], batches: Iterable[np.ndarray], total: int,
            keep_probs: bool = True) -> Extracted:
    """Run `network` over `batches` holding `total` images; stream the moments."""
    return extract_many({"net": network}, batches, total, keep_probs)["net"]


def array_batches(x: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size]


def balanced_labels(n: int, num_classes: int) -> np.ndarray:
    """0, 1, ..., K-1, 0, 1, ...: every class gets n // K or n // K + 1 images."""
    return np.arange(n) % num_classes


def generated_batches(sample_fn: Callable[[np.ndarray | None, Sequence[int]], np.ndarray], n: int,
                      batch_size: int, seed: int, labels: np.ndarray | None) -> Iterator[np.ndarray]:
    """Draw n images batch by batch: image i uses seed `seed + i` (and labels[i])."""
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        yield sample_fn(None if labels is None else labels[start:stop], range(seed + start, seed + stop))
