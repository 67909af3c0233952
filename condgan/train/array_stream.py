"""Deterministic batches of an in-memory image set for GAN training, on every backend.

The order of examples is a pure function of (seed, epoch) (`condgan.train.epochs`), so a
resumed run rebuilds exactly the stream it would have seen, starting at the saved batch, with
no iterator state to checkpoint.  TensorFlow gets a `tf.data` pipeline (split per worker under
`tf.distribute`: each input pipeline takes its own contiguous slice of every global batch, so N
workers together see the same global batches as one device); JAX gets the global batches as
numpy arrays, which Keras moves to the devices (and shards under `keras.distribution`).
"""
from __future__ import annotations

import keras
import numpy as np

from condgan.data.arrays import ArraySet
from condgan.train.epochs import epoch_order, steps_per_epoch


class ArrayStream:
    """(images in [-1, 1], labels) batches of an ArraySet."""

    def __init__(self, data: ArraySet, global_batch: int, seed: int, cache: bool = True):
        self.num_examples = len(data)
        self.global_batch = global_batch
        self.seed = seed
        self.steps_per_epoch = steps_per_epoch(self.num_examples, global_batch)
        # `cache` keeps the scaled float32 copy in memory (4x the bytes, no per-batch scaling).
        self.cache = cache
        self.images = data.x
        self.scaled = data.x.astype(np.float32) / 127.5 - 1.0 if cache else None
        self.labels = data.y.astype(np.int32)
        self.device_arrays = None  # the backend's own copy, made by its input module

    def batch_indices(self, epoch: int, start_step: int = 0) -> np.ndarray:
        """(steps, global_batch) example indices of epoch `epoch` from step `start_step` on."""
        order = epoch_order(self.num_examples, self.seed, epoch)
        order = order[: self.steps_per_epoch * self.global_batch].reshape(self.steps_per_epoch, -1)
        return order[start_step:].astype(np.int32)

    def batches(self, epoch: int, start_step: int = 0):
        """The epoch's global batches as numpy arrays, each gathered when it is needed."""
        for index in self.batch_indices(epoch, start_step):
            images = (self.scaled[index] if self.scaled is not None
                      else self.images[index].astype(np.float32) / 127.5 - 1.0)
            yield images, self.labels[index]

    def distributed(self, strategy, epoch: int, start_step: int = 0):
        """The epoch's input for `fit()` on this backend, under `strategy`."""
        if keras.backend.backend() != "tensorflow":
            return self.batches(epoch, start_step)
        from condgan.train.tf_data import distributed_dataset

        return distributed_dataset(self, strategy, epoch, start_step)
