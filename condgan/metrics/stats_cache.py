"""Reference features and statistics, computed once per (data set, feature network) and cached.

The cache key is the data set's content fingerprint plus the network's name, weights sha256
and resize method, so a changed data set or a different weights file can never be served stale
statistics.  A cache file is one `.npz` of plain arrays (loaded with allow_pickle=False),
written to a temporary name and renamed into place.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from condgan.data.arrays import ArraySet
from condgan.metrics.features import Extracted, array_batches, extract


def cache_key(data_fingerprint: str, network) -> str:
    identity = json.dumps([data_fingerprint, network.name, network.weights_fingerprint,
                           network.resize])
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


def reference_features(network, data: ArraySet, cache_dir: str | os.PathLike | None,
                       batch_size: int = 100, say=print) -> Extracted:
    """Features of every image in `data` (in order, so `data.y` labels them), cached."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"ref-{cache_key(data.fingerprint(), network)}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as npz:
                probs = npz["probs"] if npz["probs"].size else None
                return Extracted(npz["features"], probs, npz["mean"], npz["covariance"])
    say(f"computing reference features of {len(data)} images with {network.name}")
    result = extract(network, array_batches(data.x, batch_size), total=len(data))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.partial.npz")
        np.savez(tmp, features=result.features, mean=result.mean, covariance=result.covariance,
                 probs=result.probs if result.probs is not None else np.zeros(0, np.float32))
        os.replace(tmp, path)
    return result


def restrict_features(extracted: Extracted, keep: np.ndarray) -> Extracted:
    """The rows of `extracted` where `keep` is true, with their own mean and covariance."""
    from condgan.metrics.fid import feature_statistics

    features = extracted.features[keep]
    probs = extracted.probs[keep] if extracted.probs is not None else None
    mean, covariance = feature_statistics(features)
    return Extracted(features, probs, mean, covariance)
