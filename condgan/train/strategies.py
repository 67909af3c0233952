"""`--strategy`: how one run uses several devices, per Keras backend.

TensorFlow (`tf.distribute`): `default` (one device), `mirrored` (every local GPU, or the
logical CPU devices a test creates), `multiworker` (`MultiWorkerMirroredStrategy`, cluster from
`TF_CONFIG`).  JAX (`keras.distribution`): `default`, and `data_parallel`: every device JAX
sees (all hosts' after `keras.distribution.initialize()`), each holding a copy of the weights
and a slice of the global batch.  The step sees global arrays and the compiler shards them, so
it computes what one device would.
"""
from __future__ import annotations

import contextlib
import json
import os

from condgan.errors import UserError

STRATEGIES = {"tensorflow": ("default", "mirrored", "multiworker"),
              "jax": ("default", "data_parallel")}
ALL_STRATEGIES = ("default", "mirrored", "multiworker", "data_parallel")


def check_strategy(name: str) -> None:
    import keras

    backend = keras.backend.backend()
    known = STRATEGIES.get(backend, ("default",))
    if name in known:
        return
    other = [b for b, names in STRATEGIES.items() if name in names]
    hint = f" (it is a {other[0]} strategy: set KERAS_BACKEND={other[0]})" if other else ""
    raise UserError(f"strategy {name!r} is not available on the {backend} backend{hint}: "
                    f"use one of {known}")


def make_strategy(name: str):
    """The strategy object the training loop builds and fits under: `scope()` and
    `num_replicas_in_sync` (the replicas among which a step splits the batch; 1 on JAX, whose
    step sees the global batch)."""
    import keras

    check_strategy(name)
    if keras.backend.backend() == "jax":
        return JaxStrategy(_data_parallel() if name == "data_parallel" else None)
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if "TF_CONFIG" not in os.environ:
        raise UserError("--strategy multiworker needs the TF_CONFIG environment variable "
                        "(cluster and task), e.g. TF_CONFIG='{\"cluster\": {\"worker\": "
                        "[\"host1:port\", \"host2:port\"]}, \"task\": {\"type\": \"worker\", "
                        "\"index\": 0}}'")
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as error:
        raise UserError(f"TF_CONFIG is not valid JSON ({error})") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def _data_parallel():
    import keras

    devices = keras.distribution.list_devices()
    return keras.distribution.DataParallel(devices=devices)


class JaxStrategy:
    """`keras.distribution` behind the tf.distribute-like surface the training loop uses."""

    num_replicas_in_sync = 1

    def __init__(self, distribution=None):
        self.distribution = distribution

    @property
    def num_devices(self) -> int:
        return len(self.distribution.device_mesh.devices.flatten()) if self.distribution else 1

    def scope(self):
        return self.distribution.scope() if self.distribution else contextlib.nullcontext()
