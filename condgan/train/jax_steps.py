"""The JAX side of `condgan.train.trainer.Trainer`: `train_step(trainer, state, data)`, pure
and jit-compiled by Keras.

Each phase runs the trainer's own loss code (keras ops) inside a `StatelessScope` that maps
every variable to its value in `state`, under `jax.vjp`: one forward pass, then one pullback per
player (the loss of the other player gets a zero cotangent, and XLA drops the work that then
feeds nothing).  The scope records what the forward pass assigns (batch-norm statistics, the
spectral norm's u), and the optimizers update through `stateless_apply`.  The step sees the
global batch; under `keras.distribution.DataParallel` the compiler shards it over the devices,
so batch statistics and in-batch losses are those of the global batch, as on one device.
"""
from __future__ import annotations

import jax
from keras import StatelessScope


def train_step(trainer, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    optimizers = trainer.optimizer
    tracked = (list(trainer.trainable_variables), list(trainer.non_trainable_variables),
               list(optimizers.variables))
    values = {}
    for variables, current in zip(tracked, (trainable, non_trainable, optimizer_values)):
        values.update({id(v): x for v, x in zip(variables, current)})
    model_variables = tracked[0] + tracked[1]
    logs = {}
    for phase in trainer.phases(data):
        counter = values[id(optimizers[phase.counter].iterations)]
        players = {p: [values[id(v)] for v in trainer.player_variables[p]] for p in phase.players}

        def forward(player_values, phase=phase, counter=counter):
            mapping = dict(values)
            for p, variables in trainer.player_variables.items():
                if p in player_values:
                    mapping.update({id(v): x for v, x in zip(variables, player_values[p])})
            with StatelessScope(state_mapping=[(v, mapping[id(v)]) for v in model_variables]) as scope:
                losses, phase_logs = phase.losses(counter)
            assigned = [scope.get_current_value(v) for v in tracked[1]]
            return {p: losses[p] for p in phase.players}, (phase_logs, assigned)

        losses, pullback, (phase_logs, assigned) = jax.vjp(forward, players, has_aux=True)
        values.update({id(v): x for v, x in zip(tracked[1], assigned)})
        for player in phase.players:
            cotangent = {p: jax.numpy.ones_like(l) if p == player else jax.numpy.zeros_like(l)
                         for p, l in losses.items()}
            grads = trainer.transform_gradients(player, pullback(cotangent)[0][player])
            optimizer = optimizers[player]
            new_values, new_slots = optimizer.stateless_apply(
                [values[id(v)] for v in optimizer.variables], grads, players[player])
            values.update({id(v): x for v, x in zip(trainer.player_variables[player], new_values)})
            values.update({id(v): x for v, x in zip(optimizer.variables, new_slots)})
        logs.update(phase_logs)
    new_state = tuple([values[id(v)] for v in variables] for variables in tracked)
    return logs, (*new_state, metrics_values)


def global_batch(trainer, local_batch):
    return local_batch  # the step sees the global batch


_DRAWS = {"normal": jax.random.normal, "uniform": jax.random.uniform}


def random_numbers(trainer, kind, stream, counter, local_batch, width):
    key = jax.random.fold_in(jax.random.key(trainer.seed * 16 + stream), counter)
    return _DRAWS[kind](key, (local_batch, width), dtype="float32")


def local_rows(x, local_batch):
    return x


def all_gather(x):
    return x


def input_gradient(fn, x):
    """(fn(x), the gradient of sum(fn(x)) with respect to x), for a gradient penalty inside a
    phase: a `jax.vjp` nested in the step's, which differentiates through it.  `fn` reads the
    phase's variable values from the step's StatelessScope as closed-over constants."""
    y, pullback = jax.vjp(fn, x)
    return y, pullback(jax.numpy.ones_like(y))[0]


def describe_devices() -> str:
    """What this process trains on, e.g. "1 x NVIDIA H100 80GB HBM3" or "CPU"."""
    devices = jax.devices()
    if devices[0].platform == "cpu":
        return "CPU" if len(devices) == 1 else f"{len(devices)} x CPU"
    return f"{len(devices)} x {devices[0].device_kind}"
