"""Gradient penalties on the discriminator, in keras ops on every backend.

The gradient of D's output with respect to its input is taken inside the training step by the
backend's own machinery (`Trainer.input_gradient`: a nested tape on TensorFlow, a nested
`jax.vjp` on JAX), and the step then differentiates the penalty again with respect to D's
weights.  `lazily` computes a penalty only every `interval` steps (StyleGAN2's lazy
regularisation): a `cond` on the step counter, so the other steps skip the work entirely.
"""
from __future__ import annotations

from typing import Callable

from keras import ops


def r1_penalty(trainer, judge: Callable, real):
    """Per image, the squared L2 norm of the gradient of D's output with respect to the real
    image D saw (R1, Mescheder et al. 2018): `judge(images)` gives D's logits."""
    _, grads = trainer.input_gradient(judge, real)
    return ops.sum(ops.square(grads), axis=tuple(range(1, len(grads.shape))))


def lazily(counter, interval: int, penalty: Callable):
    """`penalty()` (a scalar) on the steps whose counter is a multiple of `interval`, else 0.
    The caller scales it by `interval`, so that on average it weighs what an every-step
    penalty would."""
    if interval <= 1:
        return penalty()
    due = ops.equal(ops.mod(ops.convert_to_tensor(counter), interval), 0)
    return ops.cond(due, penalty, lambda: ops.zeros((), "float32"))
