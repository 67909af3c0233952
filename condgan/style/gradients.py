"""The one backend-specific part of style transfer: the loss and its gradient with respect to
the image, compiled once per transfer.

The loss itself is Keras ops (`gatys.py`); only how a gradient is taken differs, as in
training (`condgan/train/tf_steps.py`, `jax_steps.py`): a gradient tape in a `tf.function` on
TensorFlow, `jax.value_and_grad` under `jax.jit` on JAX, where the network's weights enter as
arguments through a `StatelessScope` (closed over, they would be baked into the compiled
program as constants).  Each backend is imported only when it is the one in use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from condgan.errors import UserError

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def loss_and_gradient(loss, network_variables: list) -> Callable:
    """`loss(images) -> (total, parts)` -> a function of a float32 numpy batch returning
    (total: float, parts: {name: float}, gradient: float32 numpy array like the images)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        compiled = _tensorflow(loss)
    elif backend == "jax":
        compiled = _jax(loss, network_variables)
    else:
        raise UserError(f"style transfer runs on the {' and '.join(SUPPORTED_BACKENDS)} Keras "
                        f"backends, not {backend!r}: set KERAS_BACKEND=tensorflow (or jax)")

    def evaluate(images: np.ndarray):
        total, parts, gradient = compiled(images)
        return (float(total), {name: float(value) for name, value in parts.items()},
                np.asarray(gradient, dtype=np.float32))

    return evaluate


def _tensorflow(loss):
    import tensorflow as tf

    @tf.function
    def compiled(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            total, parts = loss(images)
        return total, parts, tape.gradient(total, images)

    return lambda images: compiled(tf.constant(images, dtype=tf.float32))


def _jax(loss, network_variables: list):
    import jax
    from keras import StatelessScope

    def pure(images, values):
        with StatelessScope(state_mapping=list(zip(network_variables, values))):
            return loss(images)

    compiled = jax.jit(jax.value_and_grad(pure, has_aux=True))
    values = [variable.value for variable in network_variables]

    def evaluate(images):
        (total, parts), gradient = compiled(images, values)
        return total, parts, gradient

    return evaluate
