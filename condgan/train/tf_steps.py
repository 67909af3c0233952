"""The TensorFlow side of `condgan.train.trainer.Trainer`: `train_step(trainer, data)` with a
gradient tape, under `tf.distribute` replicas.

Each replica holds its share of the global batch: random numbers are drawn for the global batch
and sliced, losses are sums over the local batch divided by the global batch, and Keras adds the
replicas' gradients, so N replicas compute the single-device update.
"""
from __future__ import annotations

import tensorflow as tf


def dense_gradients(grads):
    """Gradients of tables read with `ops.take` arrive as IndexedSlices; Keras' Adam would update
    their moments row by row per example.  Dense, they update as on every other backend."""
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]


def train_step(trainer, data):
    logs = {}
    for phase in trainer.phases(data):
        counter = trainer.optimizer[phase.counter].iterations
        with tf.GradientTape(persistent=len(phase.players) > 1) as tape:
            losses, phase_logs = phase.losses(counter)
        for player in phase.players:
            variables = trainer.player_variables[player]
            grads = dense_gradients(tape.gradient(losses[player], variables))
            trainer.optimizer[player].apply(trainer.transform_gradients(player, grads), variables)
        del tape
        logs.update(phase_logs)
    return replica_logs(logs)


def replica_logs(logs):
    """Losses as `fit()` should report them: each replica holds its share of the global mean
    and fit() averages the replicas' logs, so scale by their number."""
    strategy = tf.distribute.get_strategy()
    logs = {k: v * strategy.num_replicas_in_sync for k, v in logs.items()}
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Keras reduces multi-worker logs with MEAN over axis 0, which needs a vector.
        logs = {k: tf.reshape(v, (1,)) for k, v in logs.items()}
    return logs


def global_batch(trainer, local_batch):
    return local_batch * tf.distribute.get_strategy().num_replicas_in_sync


_DRAWS = {"normal": tf.random.stateless_normal, "uniform": tf.random.stateless_uniform}


def random_numbers(trainer, kind, stream, counter, local_batch, width):
    seed = tf.stack([tf.constant(trainer.seed * 16 + stream, tf.int64), tf.cast(counter, tf.int64)])
    numbers = _DRAWS[kind]((global_batch(trainer, local_batch), width), seed=seed)
    return local_rows(numbers, local_batch)


def local_rows(x, local_batch):
    """This replica's rows of a global-batch tensor (all of it on one device)."""
    ctx = tf.distribute.get_replica_context()
    replica = ctx.replica_id_in_sync_group if ctx is not None else 0
    return x[replica * local_batch:(replica + 1) * local_batch]


def all_gather(x):
    """The global batch of `x` on every replica (identity on one device).  The gradient of
    all_gather sums the replicas' upstream gradients."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    return ctx.all_gather(x, axis=0)


def input_gradient(fn, x):
    """(fn(x), the gradient of sum(fn(x)) with respect to x), for a gradient penalty inside a
    phase: an inner tape, whose gradient the step's own (outer) tape differentiates again."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        total = tf.reduce_sum(y)  # on the tape: the target must be recorded too
    return y, tape.gradient(total, x)


def describe_devices() -> str:
    """What this process trains on, e.g. "1 x NVIDIA H100 80GB HBM3" or "CPU"."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"{len(gpus)} x {name}"
