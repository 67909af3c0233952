"""Class-conditional GAN on CIFAR-10, the stronger recipe without the auxiliary classifier
(configs/cgan_cifar10.py, the shipped recipe, adds it; this one is the side-by-side in
BENCHMARKS.md, "Shipped GAN runs").

Conditional batch norm in G, projection discriminator with spectral norm, hinge loss, TTUR
learning rates and Adam(0, 0.9) as in SAGAN (Zhang et al. 2019), EMA generator.  Widths are
sized for a 2-core CPU: G 64, D 32 base channels.

Command (its data: data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/cgan_cifar10_projection.py
    python -m condgan export runs/cgan_cifar10_projection --name cgan_cifar10_projection
    python -m condgan evaluate models/cgan_cifar10_projection --data data/cifar10 --n 10000 \\
        --classifier models/classifiers/cifar10 --metrics accuracy,classifier_fid --seed 0
Expected: 23.2 % of samples labelled as their class, classifier FID 134.9 after the 75-minute
budget (295k images on a shared CPU; BENCHMARKS.md).  Runtime: 75 minutes (max_minutes).
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="cgan_cifar10_projection", data="data/cifar10", conditional=True, conditioning="projection",
        image_size=32, latent_dim=128, g_channels=64, d_channels=32, spectral_norm=True,
        loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9, batch_size=64,
        ema_decay=0.999, epochs=200, max_minutes=75, checkpoint_every_steps=500, seed=0)
