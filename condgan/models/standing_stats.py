"""Batch-norm statistics for an averaged (EMA) generator.

The EMA weights were never run through the network during training, so the moving means and
variances that G accumulated belong to G's own weights, not to the average; sampling the
EMA generator with them gives washed-out images.  Re-estimating the statistics by running the
EMA generator in training mode on fresh noise (BigGAN's "standing statistics", Brock et al.
2019) fixes that.  Deterministic for a given seed; backend-neutral.
"""
from __future__ import annotations

import numpy as np

STANDING_BATCHES = 40
STANDING_BATCH_SIZE = 64


def recompute_bn_statistics(generator, latent_dim: int, num_classes: int = 0, seed: int = 0,
                            batches: int = STANDING_BATCHES, batch_size: int = STANDING_BATCH_SIZE) -> None:
    """Run `generator` in training mode on `batches` noise batches so that every batch-norm
    layer's moving statistics (momentum 0.9) converge to the EMA weights' own statistics."""
    if not any("moving_mean" in v.path for v in generator.non_trainable_variables):
        return
    rng = np.random.default_rng([seed, 2024])
    for _ in range(batches):
        noise = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
        if num_classes:
            labels = (np.arange(batch_size) % num_classes).astype(np.int32)
            generator([noise, labels], training=True)
        else:
            generator(noise, training=True)
