"""How a data set is cut into epochs: the same rule for every family's stream.

An epoch is `num_examples // batch` full batches (the last, partial one is dropped, as AttnGAN
does), and epoch e visits the examples in the order `default_rng([seed, e])` draws, so a resumed
run rebuilds the very same batches from (seed, epoch) alone.
"""
from __future__ import annotations

import numpy as np

from condgan.errors import UserError


def steps_per_epoch(num_examples: int, batch: int) -> int:
    """Full batches per epoch; a data set smaller than one batch is a UserError."""
    steps = num_examples // batch
    if steps < 1:
        raise UserError(f"the data set has {num_examples} examples, fewer than one batch of "
                        f"{batch}: lower batch_size in the config or add data")
    return steps


def epoch_order(num_examples: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(num_examples)
