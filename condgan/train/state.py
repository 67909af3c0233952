"""Everything a run needs to resume exactly, as named arrays, and the EMA generator's weights.

Backend-neutral: it only reads and assigns Keras variables.
"""
from __future__ import annotations

import numpy as np

from condgan.train.checkpoint import assign_state, variables_state


def ema_weights(generator, g_optimizer) -> list[np.ndarray]:
    """G's variables in `generator.variables` order, with each trainable one replaced by its
    exponential moving average (the optimizer's `use_ema` slot).  Non-trainable variables
    (batch-norm statistics) are taken from G as they are."""
    averages = getattr(g_optimizer, "_model_variables_moving_average", None)
    live = [np.asarray(v.numpy()) for v in generator.variables]
    if not getattr(g_optimizer, "use_ema", False) or not averages:
        return live
    index = {id(v): i for i, v in enumerate(generator.trainable_variables)}
    return [np.asarray(averages[index[id(v)]].numpy()) if id(v) in index else value
            for v, value in zip(generator.variables, live)]


def training_state(gan, step: int, images_seen: int, wall_time_s: float) -> dict[str, np.ndarray]:
    state = {}
    state.update(variables_state("g", gan.generator.variables))
    state.update(variables_state("d", gan.discriminator.variables))
    state.update(variables_state("g_opt", gan.g_optimizer.variables))
    state.update(variables_state("d_opt", gan.d_optimizer.variables))
    state.update(variables_state("ema", ema_weights(gan.generator, gan.g_optimizer)))
    state["progress"] = np.array([step, images_seen], dtype=np.int64)
    state["wall_time_s"] = np.array(wall_time_s, dtype=np.float64)
    return state


def restore_training_state(gan, state) -> tuple[int, int, float]:
    """Assign a checkpoint to the GAN; returns (step, images_seen, wall_time_s)."""
    assign_state("g", gan.generator.variables, state)
    assign_state("d", gan.discriminator.variables, state)
    assign_state("g_opt", gan.g_optimizer.variables, state)
    assign_state("d_opt", gan.d_optimizer.variables, state)
    step, images_seen = (int(v) for v in state["progress"])
    return step, images_seen, float(state["wall_time_s"])
