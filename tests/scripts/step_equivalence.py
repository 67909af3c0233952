"""A few training steps of each family's trainer on the backend KERAS_BACKEND names, from given
weights, data and random numbers, for the cross-backend equivalence tests.  Usage:
    KERAS_BACKEND=tensorflow|jax python tests/scripts/step_equivalence.py WORKDIR RECIPE...
        [--steps N] [--write-init]
`--write-init` saves each freshly built trainer's state to WORKDIR/init_RECIPE.npz before
training (the other backend then starts from it).  The trainer's random numbers come from fixed
numpy tables indexed by the step counter, the same on every backend.  Writes
WORKDIR/BACKEND_RECIPE.npz: every checkpointed array and the gradients after the first step
("step1:..."), every array after the last ("stepN:..."), and each step's losses.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

RECIPES = {
    # the shipped cGAN recipe's ingredients: projection, spectral norm, hinge, AC head, EMA
    "cgan": dict(conditional=True, conditioning="projection", spectral_norm=True, loss="hinge",
                 aux_classifier_weight=1.0, ema_decay=0.999),
    # the classic recipe: concat conditioning, BCE (TensorFlow takes the shared backward pass)
    "concat_bce": dict(conditional=True, conditioning="concat", spectral_norm=False, loss="bce"),
    "unconditional_diffaugment": dict(conditional=False, conditioning="none", loss="hinge",
                                      spectral_norm=True, diffaugment="color,translation,cutout"),
    "n_critic_2": dict(conditional=True, conditioning="projection", spectral_norm=True,
                       loss="hinge", n_critic=2, diffaugment="translation"),
}
FAMILY_RECIPES = ("damsm", "attngan")


def tiny_images(n: int, size: int = 16):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = rng.integers(0, 60, (n, size, size, 3)).astype(np.uint8)
    x[y == 1, :, ::2] = 230
    return x, y


class RandomTables:
    """The trainer's `random_numbers` as lookups into fixed numpy tables, keyed by (kind,
    stream) and indexed by the step counter, so both backends draw the same numbers."""

    def __init__(self, steps: int, batch: int):
        self.steps, self.batch, self.tables = steps, batch, {}

    def __call__(self, kind, stream, counter, local_batch, width):
        from keras import ops

        key = (kind, stream, width)
        if key not in self.tables:
            rng = np.random.default_rng([stream, width, kind == "normal"])
            shape = (self.steps + 4, self.batch, width)
            self.tables[key] = (rng.standard_normal(shape) if kind == "normal"
                                else rng.random(shape)).astype(np.float32)
        index = ops.cast(counter, "int32") % (self.steps + 4)
        return ops.take(ops.convert_to_tensor(self.tables[key]), index, axis=0)


def nudged_zeros(state: dict) -> dict:
    """The networks' all-zero arrays (biases, batch-norm means) made small and nonzero.  With
    zero biases, zero-filled pixels (DiffAugment's translation and cutout) put pre-activations
    at exactly 0, where backends define LeakyReLU's derivative differently; real training leaves
    that point after its first update."""
    rng = np.random.default_rng(1)
    nudged = dict(state)
    for key, value in state.items():
        if key.split("/")[0] in ("g", "d") and value.dtype.kind == "f" and not value.any():
            nudged[key] = (0.01 * rng.standard_normal(value.shape)).astype(value.dtype)
    return nudged


def build_gan_trainer(recipe: str, batch: int):
    from condgan.data.arrays import ArraySet
    from condgan.families.gan import GanConfig
    from condgan.families.gan.family import FAMILY

    x, y = tiny_images(4 * batch)
    data = ArraySet(x, y.astype(np.int64), ["dark", "stripes"], {"source": "tiny"})
    config = GanConfig(name="eq", image_size=16, batch_size=batch, latent_dim=8, g_channels=8,
                       d_channels=8, tensorboard=False, verbose=0, **RECIPES[recipe])
    prepared = FAMILY.prepare(config, data, None, print)
    return FAMILY.build(config, prepared, False), prepared.stream


def build_caption_trainer(recipe: str, batch: int, workdir: Path):
    """The DAMSM or AttnGAN trainer on the tiny captioned shapes of the family tests; the data
    and the (frozen, untrained) DAMSM that AttnGAN trains against are made once in `workdir`,
    so both backends use the same."""
    import dataclasses

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from attngan_fixtures import TINY, TINY_DAMSM, make_damsm_run, make_shapes

    from condgan.families import family_of_config

    data = workdir / "shapes"
    if not data.is_dir():
        make_shapes(data)
    if recipe == "damsm":
        config = dataclasses.replace(TINY_DAMSM, data=str(data), batch_size=batch, verbose=0)
    else:
        damsm = workdir / "damsm"
        if not damsm.is_dir():
            make_damsm_run(damsm, data)
        config = dataclasses.replace(TINY, data=str(data), damsm=str(damsm), batch_size=batch)
    family = family_of_config(config)
    run_dir = workdir / f"run_{os.environ.get('KERAS_BACKEND', 'tensorflow')}"
    run_dir.mkdir(exist_ok=True)
    prepared = family.prepare(config, None, run_dir, lambda line: None)
    return family.build(config, prepared, False), prepared.stream


def first_step_gradients(trainer) -> dict:
    """Each player's gradients of the first step, read back from Adam's first moments
    (m = (1 - beta_1) g after one step)."""
    grads = {}
    for player in trainer.player_variables:
        optimizer = trainer.optimizer[player]
        for i, m in enumerate(optimizer._momentums):
            grads[f"grad:{player}/{i:04d}"] = np.asarray(m.numpy()) / (1 - optimizer.beta_1)
    return grads


def recorder(snapshot: dict, losses: list):
    """A callback keeping every checkpointed array and the gradients after the first step,
    and each step's logged losses."""
    import keras

    from condgan.train.callbacks import sync_variables
    from condgan.train.state import training_state

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append({k: float(v) for k, v in logs.items()})
            if batch == 0:
                sync_variables(self.model)
                snapshot.update(training_state(self.model, 1, 0, 0.0))
                snapshot.update(first_step_gradients(self.model))

    return Record()


def run_recipe(recipe: str, workdir: Path, steps: int, write_init: bool) -> None:
    import keras

    from condgan.train.state import restore_training_state, training_state
    from condgan.train.strategies import make_strategy

    keras.utils.set_random_seed(0)
    batch = 8
    if recipe in RECIPES:
        trainer, stream = build_gan_trainer(recipe, batch)
    else:
        trainer, stream = build_caption_trainer(recipe, batch, workdir)
    init_file = workdir / f"init_{recipe}.npz"
    if write_init:
        np.savez(init_file, **nudged_zeros(training_state(trainer, 0, 0, 0.0)))
    with np.load(init_file, allow_pickle=False) as init:
        restore_training_state(trainer, dict(init), stream.global_batch)
    trainer.random_numbers = RandomTables(steps, stream.global_batch)
    first, losses = {}, []
    trainer.fit(stream.distributed(make_strategy("default"), 0), steps_per_epoch=steps, epochs=1,
                verbose=0, shuffle=False, callbacks=[recorder(first, losses)])
    final = training_state(trainer, steps, 0, 0.0)
    names = sorted(losses[0])
    np.savez(workdir / f"{keras.backend.backend()}_{recipe}.npz",
             **{f"step1:{k}": v for k, v in first.items()},
             **{f"step{steps}:{k}": v for k, v in final.items()},
             losses=np.array([[step[k] for k in names] for step in losses]),
             loss_names=np.array(names))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path, help="inputs and outputs (and the caption data)")
    parser.add_argument("recipes", nargs="+", choices=[*RECIPES, *FAMILY_RECIPES])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--write-init", action="store_true")
    args = parser.parse_args()
    for recipe in args.recipes:
        run_recipe(recipe, args.workdir, args.steps, args.write_init)


if __name__ == "__main__":
    main()
