"""`tf.data` input of an `ArrayStream` (TensorFlow-only): the in-memory arrays as constants,
gathered per batch, split per input pipeline under `tf.distribute`."""
from __future__ import annotations

import tensorflow as tf


def _gather_fn(stream):
    if stream.device_arrays is None:
        source = stream.scaled if stream.scaled is not None else stream.images
        stream.device_arrays = (tf.constant(source), tf.constant(stream.labels))
    images, labels = stream.device_arrays

    def gather(indices):
        batch = tf.gather(images, indices)
        if batch.dtype != tf.float32:
            batch = tf.cast(batch, tf.float32) / 127.5 - 1.0
        return batch, tf.gather(labels, indices)

    return gather


def dataset(stream, epoch: int, start_step: int = 0, num_pipelines: int = 1,
            pipeline_id: int = 0) -> tf.data.Dataset:
    """Batches of epoch `epoch` from step `start_step` on; this pipeline's slice of each."""
    local = stream.global_batch // num_pipelines
    order = stream.batch_indices(epoch, start_step)[:, pipeline_id * local:(pipeline_id + 1) * local]
    ds = tf.data.Dataset.from_tensor_slices(order)
    # Fixed parallelism and buffer, no autotuning: a gather per batch needs neither, and
    # tf.data's autotune thread makes every iterator take seconds to delete, which fit()
    # pays at the end of each epoch (measured: 6 s per epoch on 2 cores).
    ds = ds.map(_gather_fn(stream), num_parallel_calls=2, deterministic=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    options.deterministic = True
    return ds.with_options(options).prefetch(2)


def distributed_dataset(stream, strategy, epoch: int, start_step: int = 0):
    """The epoch's dataset for `fit()`: plain with one replica, per-pipeline with several."""
    if strategy.num_replicas_in_sync == 1:
        return dataset(stream, epoch, start_step)

    def make(context: tf.distribute.InputContext):
        per_pipeline = dataset(stream, epoch, start_step, context.num_input_pipelines,
                               context.input_pipeline_id)
        replicas_here = context.num_replicas_in_sync // context.num_input_pipelines
        return per_pipeline.unbatch().batch(stream.global_batch // context.num_replicas_in_sync) \
            if replicas_here > 1 else per_pipeline

    return strategy.distribute_datasets_from_function(make)
