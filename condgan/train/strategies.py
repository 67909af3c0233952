"""`--strategy default|mirrored|multiworker` (TensorFlow-only).

mirrored: `tf.distribute.MirroredStrategy` over every local GPU (or the logical CPU devices a
test creates).  multiworker: `MultiWorkerMirroredStrategy`, cluster taken from `TF_CONFIG`.
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

from condgan.errors import UserError

STRATEGIES = ("default", "mirrored", "multiworker")


def make_strategy(name: str):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
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
    raise UserError(f"strategy {name!r} is not known: use one of {STRATEGIES}")
