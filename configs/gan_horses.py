"""Unconditional GAN on one CIFAR-10 class: the 5,000 horses (shipped as models/gan_horses).

DCGAN backbone, spectral norm in D, hinge loss, EMA generator, and DiffAugment (Zhao et al.
2020: colour, translation, cutout) because 5,000 images are few for a GAN.

Train it for its 300 epochs (1.5M images), not for a time budget: every run of this recipe
first passes through a stage where G draws a 4x4 lattice of blobs, all alike (recall 0; at 12
epochs on either backend), and leaves it only with enough images (BENCHMARKS.md, "The horse
GAN").  A 75-minute budget on a busy 2-core CPU (74 epochs) stopped inside that stage.

Command (its data: the horses of data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/gan_horses.py
    python -m condgan export runs/gan_horses --name my_gan_horses   # --name gan_horses --replace re-ships it
Runtime: 81 minutes of training on a 2-core CPU (notebook 02's full run) and 1.3
minutes of training on one H200 under KERAS_BACKEND=jax with `--set steps_per_execution=16`,
which is how the shipped model was trained (its card's trained_on).
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="gan_horses", data="data/cifar10", classes=["horse"], conditional=False,
        conditioning="none", image_size=32, latent_dim=128, g_channels=64, d_channels=32,
        spectral_norm=True, loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9,
        batch_size=64, ema_decay=0.999, diffaugment="color,translation,cutout", epochs=300,
        max_minutes=0, checkpoint_every_steps=500, samples_per_class=8, seed=0)
