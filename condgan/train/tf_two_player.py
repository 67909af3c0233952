"""What every condgan trainer shares (TensorFlow-only): `Trainer`, a `keras.Model` that trains
the networks it holds (no symbolic build, logs scaled for replicas), and `TwoPlayerModel`, the
GAN trainers' base: G and D, compiled with one optimizer each, whose `train_step` draws its
randomness from stateless ops.

* Both optimizers are built in `compile()`, inside the strategy scope when there is one
  (Keras 3 requirement), so there is no state for `fit()` to build symbolically.
* Random numbers are a pure function of (seed, stream, counter): drawn for the *global* batch
  and sliced per replica, so N replicas, and a resumed run, draw exactly what one device in an
  uninterrupted run would.
"""
from __future__ import annotations

import keras
import tensorflow as tf


class Trainer(keras.Model):
    """A `keras.Model` whose `train_step` trains networks it holds (no outputs to fit): the
    base of every family's trainer.  All state is built in `compile()`."""

    @property
    def metrics(self):
        return []

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras' TF trainer peeks at a batch to build state symbolically; everything here is
        # built in compile(), and its peek fails on int labels under MultiWorkerMirroredStrategy
        # (it MEAN-reduces the PerReplica batch).  Nothing to do.
        return

    def replica_logs(self, logs):
        """Losses as `fit()` should report them: each replica holds its share of the global
        mean and fit() averages the replicas' logs, so scale by their number."""
        strategy = tf.distribute.get_strategy()
        logs = {k: v * strategy.num_replicas_in_sync for k, v in logs.items()}
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Keras reduces multi-worker logs with MEAN over axis 0, which needs a vector.
            logs = {k: tf.reshape(v, (1,)) for k, v in logs.items()}
        return logs


class TwoPlayerModel(Trainer):
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

    def checkpoint_parts(self) -> dict:
        """What a checkpoint holds (condgan.train.state): both players, both optimizers' slots
        and iteration counters, and the EMA generator's weights (what gets exported)."""
        from condgan.train.state import ema_weights

        return {**self.restorable_parts(), "ema": ema_weights(self.generator, self.g_optimizer)}

    def restorable_parts(self) -> dict:
        return {"g": self.generator.variables, "d": self.discriminator.variables,
                "g_opt": self.g_optimizer.variables, "d_opt": self.d_optimizer.variables}

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
