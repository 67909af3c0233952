"""Batch-norm statistics for an averaged (EMA) generator.

The EMA weights were never run through the network during training, so the moving means and
variances that G accumulated belong to G's own weights, not to the average; sampling the
EMA generator with them gives washed-out images.  Re-estimating the statistics by running the
EMA generator in training mode on fresh noise (BigGAN's "standing statistics", Brock et al.
2019) fixes that.  Deterministic for a given seed; backend-neutral.
"""
from __future__ import annotations

import keras
import numpy as np

STANDING_BATCHES = 4
STANDING_BATCH_SIZE = 256


def _batch_norms(model) -> list:
    return [layer for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)]


def recompute_bn_statistics(generator, latent_dim: int, num_classes: int = 0, seed: int = 0,
                            batches: int = STANDING_BATCHES, batch_size: int = STANDING_BATCH_SIZE) -> None:
    """Set every batch norm's moving mean/variance to the exact average of its batch
    statistics over `batches` batches of fresh noise (and evenly spread labels)."""
    norms = _batch_norms(generator)
    if not norms:
        return
    saved_momentum = [bn.momentum for bn in norms]
    sums = [[np.zeros(bn.moving_mean.shape), np.zeros(bn.moving_variance.shape)] for bn in norms]
    rng = np.random.default_rng([seed, 2024])
    try:
        for bn in norms:
            bn.momentum = 0.0  # each call then stores exactly that batch's statistics
        for _ in range(batches):
            noise = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
            if num_classes:
                labels = (np.arange(batch_size) % num_classes).astype(np.int32)
                generator([noise, labels], training=True)
            else:
                generator(noise, training=True)
            for total, bn in zip(sums, norms):
                total[0] += keras.ops.convert_to_numpy(bn.moving_mean)
                total[1] += keras.ops.convert_to_numpy(bn.moving_variance)
    finally:
        for bn, momentum in zip(norms, saved_momentum):
            bn.momentum = momentum
    for (mean, var), bn in zip(sums, norms):
        bn.moving_mean.assign(mean / batches)
        bn.moving_variance.assign(var / batches)
