"""Unconditional GAN on one-object Shapes (shipped as models/gan_shapes): the generator whose
noise space the attribute edits steer (colour, size, position, background; `condgan.control`).

DCGAN at half the width, spectral norm, hinge, TTUR, EMA, a minibatch-standard-deviation
channel in D, and instance noise: Gaussian noise (std 0.3, down to 0 over the run) on every
image D sees.  Without the noise D tells Shapes' exact flat colours from generated ones within a
hundred steps and G draws one image for every noise; that happened with hinge or BCE, with and
without spectral norm, with DiffAugment and with the minibatch channel alone (BENCHMARKS.md,
"Controllable generation").  No DiffAugment: with the noise it collapsed again, and its
colour and translation changes blur exactly the attributes to be steered.

Commands (the data: `python -m condgan make-shapes -o data/shapes_one.npz --size 32`):
    python -m condgan train --config configs/gan_shapes.py
    python -m condgan export runs/gan_shapes --name my_gan_shapes
    python -m condgan find-directions models/my_gan_shapes
Runtime: see the card's trained_on (a 2-core CPU).
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="gan_shapes", data="data/shapes_one.npz", conditional=False, conditioning="none",
        image_size=32, latent_dim=64, g_channels=32, d_channels=32, spectral_norm=True,
        minibatch_std=True, loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9,
        batch_size=64, ema_decay=0.999, d_input_noise=0.3, d_input_noise_steps=11232, epochs=36,
        max_minutes=0, checkpoint_every_steps=1000, samples_per_class=16, seed=0)
