"""What every condgan trainer shares, on every Keras backend.

A trainer is a `keras.Model` that trains networks it holds, so `fit()` and the callbacks work.
It names its **players** (each a list of trainable variables and the optimizer that updates
them) and describes one training step as **phases**: each phase computes losses with keras ops
only and updates some players from them.  How gradients are taken and applied is the only
backend-specific part, the keras.io pattern of one `train_step` per backend behind one model:
`condgan.train.tf_steps` (a gradient tape, `tf.distribute` replicas) and
`condgan.train.jax_steps` (`jax.vjp` over a stateless call).  So one algorithm runs on every
backend, and a checkpoint written under one resumes under the other.

* All state (both optimizers) is built in `compile()`, inside the strategy scope when there is
  one, so there is nothing for `fit()` to build symbolically.
* Random numbers are a pure function of (seed, stream, optimizer step), drawn by the backend's
  counter-based generator for the *global* batch; a resumed run, and N replicas, draw exactly
  what one device in an uninterrupted run would.
* Embedding-style tables read with `ops.take` get dense gradients on every backend (TensorFlow
  would hand Adam per-row sparse updates, whose second moment sums g^2 per example rather than
  squaring the summed gradient).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import keras
from keras import ops


@dataclass(frozen=True)
class Phase:
    """One part of a training step: `losses(counter)` returns ({player: loss}, logs) computed
    with keras ops; each player in `players` is then updated from its loss.  `counter` names
    the player whose optimizer step keys the phase's random numbers."""
    players: tuple[str, ...]
    counter: str
    losses: Callable


class Optimizers:
    """The trainer's optimizers by player, as the one `model.optimizer` that Keras' JAX trainer
    carries through its stateless steps (`variables`: all of theirs, in player order).  Not a
    Keras optimizer, so `fit()` never applies end-of-training overwrites such as the EMA swap."""

    built = True

    def __init__(self, by_player: dict):
        self.by_player = dict(by_player)

    def __getitem__(self, player: str):
        return self.by_player[player]

    @property
    def variables(self) -> list:
        return [v for optimizer in self.by_player.values() for v in optimizer.variables]


def backend_steps():
    """The module holding this backend's `train_step`, random draws and batch bookkeeping."""
    if keras.backend.backend() == "jax":
        from condgan.train import jax_steps

        return jax_steps
    if keras.backend.backend() == "tensorflow":
        from condgan.train import tf_steps

        return tf_steps
    raise RuntimeError(f"condgan trains on the tensorflow and jax backends, not "
                       f"{keras.backend.backend()!r}: set KERAS_BACKEND=tensorflow or jax")


PRECISIONS = ("float32", "mixed_bfloat16")


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Build networks under a Keras dtype policy: "mixed_bfloat16" computes in bfloat16 and keeps
    float32 weights (and float32 outputs where the models ask for them: images, logits)."""
    from condgan.errors import UserError

    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r} is not known: use one of {PRECISIONS}")
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def clip_by_global_norm(grads: list, clip_norm: float) -> list:
    """`grads` scaled so that their joint L2 norm is at most `clip_norm` (tf.clip_by_global_norm)."""
    norm = ops.sqrt(sum(ops.sum(ops.square(g)) for g in grads))
    scale = clip_norm / ops.maximum(norm, clip_norm)
    return [g * ops.cast(scale, g.dtype) for g in grads]


class Trainer(keras.Model):
    """A `keras.Model` whose `train_step` trains the players it names.  Subclasses build their
    networks, call `compile_players()` and define `phases(data)`."""

    @property
    def metrics(self):
        return []

    def compile_players(self, players: dict, **kwargs) -> None:
        """`players`: name -> (trainable variables, optimizer).  Builds each optimizer."""
        super().compile(**kwargs)
        self.player_variables = {name: list(variables) for name, (variables, _) in players.items()}
        self.optimizer = Optimizers({name: optimizer for name, (_, optimizer) in players.items()})
        for name, (variables, optimizer) in players.items():
            optimizer.build(variables)

    def phases(self, data) -> list[Phase]:
        raise NotImplementedError

    def transform_gradients(self, player: str, grads: list) -> list:
        """A hook between the gradients and the optimizer (e.g. clipping); identity here."""
        return grads

    def train_step(self, *args):
        # TensorFlow calls train_step(data), JAX train_step(state, data).
        return backend_steps().train_step(self, *args)

    def _symbolic_build(self, *args, **kwargs):
        # Everything is built in compile(); Keras' symbolic peek at a batch would only trace.
        return

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # The TensorFlow trainer's version of the same peek, which also fails on int labels
        # under MultiWorkerMirroredStrategy (it MEAN-reduces the PerReplica batch).
        return

    # --- what the losses use ----------------------------------------------------------------
    def global_batch(self, local_batch):
        """The global batch of which `local_batch` is this replica's share."""
        return backend_steps().global_batch(self, local_batch)

    def random_numbers(self, kind: str, stream: int, counter, local_batch, width: int):
        """(local_batch, width) standard normals (`kind="normal"`) or uniforms on [0, 1),
        this replica's rows of the global batch's numbers keyed by (seed, stream, counter)."""
        return backend_steps().random_numbers(self, kind, stream, counter, local_batch, width)

    def instance_noise(self, images, stream: int, counter, std: float, steps: int = 0):
        """`images` plus Gaussian instance noise of standard deviation `std` (Sonderby et al.
        2017), taken linearly down to nothing over `steps` optimizer steps (0: constant), drawn
        like every other random number of the step (keyed by the counter, global batch)."""
        shape = ops.shape(images)
        noise = self.random_numbers("normal", stream, counter, shape[0],
                                    int(shape[1]) * int(shape[2]) * int(shape[3]))
        scale = ops.convert_to_tensor(std, images.dtype)
        if steps:
            done = ops.cast(counter, images.dtype) / float(steps)
            scale = scale * ops.maximum(1.0 - done, 0.0)
        return images + scale * ops.reshape(ops.cast(noise, images.dtype), shape)

    def input_gradient(self, fn, x):
        """(fn(x), d sum(fn(x)) / dx) inside a phase, differentiable again by the step (what a
        gradient penalty such as R1 needs), on every backend."""
        return backend_steps().input_gradient(fn, x)

    def all_gather(self, x):
        """The global batch of `x` (the gradient adds up the replicas' shares)."""
        return backend_steps().all_gather(x)

    def local_rows(self, x, local_batch):
        """This replica's rows of a global-batch tensor."""
        return backend_steps().local_rows(x, local_batch)

    def mean_over_batch(self, per_example, global_batch):
        """Sum over the local batch divided by the global batch: replicas' sums add up to the mean."""
        return ops.sum(per_example) / ops.cast(global_batch, per_example.dtype)


class TwoPlayerModel(Trainer):
    """The GAN trainers' base: a generator and a discriminator, one optimizer each."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.seed = int(seed)
        self.built = True  # the sub-models are built; nothing for fit() to trace symbolically

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.compile_players({"d": (self.discriminator.trainable_variables, d_optimizer),
                              "g": (self.generator.trainable_variables, g_optimizer)}, **kwargs)

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
