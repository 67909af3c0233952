"""What every condgan GAN trainer shares (TensorFlow-only): a `keras.Model` holding G and D,
compiled with one optimizer each, whose `train_step` draws its randomness from stateless ops.

* Both optimizers are built in `compile()`, inside the strategy scope when there is one
  (Keras 3 requirement), so there is no state for `fit()` to build symbolically.
* Random numbers are a pure function of (seed, stream, counter): drawn for the *global* batch
  and sliced per replica, so N replicas, and a resumed run, draw exactly what one device in an
  uninterrupted run would.
"""
from __future__ import annotations

import keras
import tensorflow as tf


class TwoPlayerModel(keras.Model):
    def __init__(self, generator: keras.Model, discriminator: keras.Model, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = int(seed)
        self.global_batch_size = None  # set when a strategy feeds per-replica batches
        self.built = True  # the sub-models are built; nothing for fit() to trace symbolically

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return []

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras' TF trainer peeks at a batch to build state symbolically; everything here is
        # built in compile(), and its peek fails on int labels under MultiWorkerMirroredStrategy
        # (it MEAN-reduces the PerReplica batch).  Nothing to do.
        return

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _global_batch(self, local_batch):
        if self.global_batch_size is not None:
            return self.global_batch_size
        return local_batch * tf.distribute.get_strategy().num_replicas_in_sync

    def _random(self, draw, stream, counter, global_batch, local_batch, width):
        """`draw` (tf.random.stateless_normal or _uniform) of (global_batch, width) numbers keyed
        by (seed, stream, counter); this replica's slice of them."""
        seed = tf.stack([tf.constant(self.seed * 16 + stream, tf.int64), tf.cast(counter, tf.int64)])
        return self._local_rows(draw((global_batch, width), seed=seed), local_batch)

    def _local_rows(self, x, local_batch):
        """This replica's rows of a global-batch tensor (all of it on one device)."""
        ctx = tf.distribute.get_replica_context()
        replica = ctx.replica_id_in_sync_group if ctx is not None else 0
        return x[replica * local_batch:(replica + 1) * local_batch]
