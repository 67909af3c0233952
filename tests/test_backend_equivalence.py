"""The JAX step and the TensorFlow step compute the same training, for every family.

One process per backend (Keras picks its backend once per process) runs a few steps of each
recipe from the same weights (written by the TensorFlow run), the same batches and the same
random numbers (tables indexed by the step counter): tests/scripts/step_equivalence.py.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "scripts" / "step_equivalence.py"
GAN_RECIPES = ["cgan", "concat_bce", "unconditional_diffaugment", "n_critic_2"]
CAPTION_RECIPES = ["damsm", "attngan"]
STEPS = 3


def run_backend(backend: str, workdir: Path, *extra: str) -> None:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(SCRIPT), str(workdir), *GAN_RECIPES,
                             *CAPTION_RECIPES, "--steps", str(STEPS), *extra],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("equivalence")
    run_backend("tensorflow", workdir, "--write-init")
    run_backend("jax", workdir)

    def load(backend, recipe):
        with np.load(workdir / f"{backend}_{recipe}.npz", allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}

    return {recipe: (load("tensorflow", recipe), load("jax", recipe))
            for recipe in GAN_RECIPES + CAPTION_RECIPES}


@pytest.mark.parametrize("recipe", GAN_RECIPES + CAPTION_RECIPES)
def test_every_step_logs_the_same_losses(runs, recipe):
    tf_run, jax_run = runs[recipe]
    assert list(tf_run["loss_names"]) == list(jax_run["loss_names"])
    assert tf_run["losses"].shape == (STEPS, len(tf_run["loss_names"]))
    np.testing.assert_allclose(jax_run["losses"], tf_run["losses"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("recipe", GAN_RECIPES + CAPTION_RECIPES)
def test_first_step_gradients_agree(runs, recipe):
    """Every player's gradient, to 1e-4 of that player's largest gradient component."""
    tf_run, jax_run = runs[recipe]
    players = {k.split(":")[2].split("/")[0] for k in tf_run if k.startswith("step1:grad:")}
    assert players
    for player in players:
        keys = [k for k in tf_run if k.startswith(f"step1:grad:{player}/")]
        scale = max(float(np.abs(tf_run[k]).max()) for k in keys)
        assert scale > 0
        worst = max(float(np.abs(tf_run[k] - jax_run[k]).max()) for k in keys)
        assert worst <= 1e-4 * scale, (player, worst, scale)


@pytest.mark.parametrize("recipe", GAN_RECIPES)
def test_gan_weights_agree_after_several_steps(runs, recipe):
    """All weights, optimizer slots and EMA weights after three steps.  (The caption families'
    image encoders have biases before batch norm, whose true gradient is zero: Adam turns the
    rounding noise there into full-size steps of either sign, so their weights are compared
    through the losses and gradients above.)"""
    tf_run, jax_run = runs[recipe]
    init = f"step{STEPS}:"
    keys = [k for k in tf_run if k.startswith(init) and tf_run[k].dtype.kind == "f"]
    assert len(keys) > 20
    for key in keys:
        np.testing.assert_allclose(jax_run[key], tf_run[key], rtol=0, atol=2e-5, err_msg=key)
    moved = max(float(np.abs(tf_run[k] - tf_run[k.replace(init, "step1:")]).max()) for k in keys
                if not k.startswith(init + "ema"))
    assert moved > 1e-4  # the steps did train
