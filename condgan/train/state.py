"""Everything a run needs to resume exactly, as named arrays, and the EMA generator's weights.

A trainer names its parts (`checkpoint_parts()`: prefix -> variables, or arrays computed from
them such as the EMA weights; `restorable_parts()`: prefix -> the variables a resume assigns),
so one pair of functions serves every family.  Backend-neutral: it only reads and assigns Keras
variables.
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


def training_state(trainer, step: int, images_seen: int, wall_time_s: float) -> dict[str, np.ndarray]:
    state = {}
    for prefix, variables in trainer.checkpoint_parts().items():
        state.update(variables_state(prefix, variables))
    state["progress"] = np.array([step, images_seen], dtype=np.int64)
    state["wall_time_s"] = np.array(wall_time_s, dtype=np.float64)
    return state


def restore_training_state(trainer, state, global_batch: int) -> tuple[int, int, float]:
    """Assign a checkpoint to the trainer; returns (step, images_seen, wall_time_s).  A
    checkpoint of an earlier DAMSM version holds its step as `step` and its time as `elapsed`."""
    for prefix, variables in trainer.restorable_parts().items():
        assign_state(prefix, variables, state)
    if "progress" in state:
        step, images_seen = (int(v) for v in state["progress"])
        return step, images_seen, float(state["wall_time_s"])
    step = int(state["step"])
    return step, step * global_batch, float(state.get("elapsed", 0.0))
