"""Class-conditional GAN on CIFAR-10, the stronger recipe (shipped as models/cgan_cifar10).

Conditional batch norm in G, projection discriminator with spectral norm, hinge loss, TTUR
learning rates and Adam(0, 0.9) as in SAGAN (Zhang et al. 2019), EMA generator.  Widths are
sized for a 2-core CPU: G 64, D 32 base channels.

Command:
    python -m condgan train --config configs/cgan_cifar10.py --data ../shared/data/cifar10 (class folders)
    python -m condgan export runs/cgan_cifar10 --name cgan_cifar10
    python -m condgan evaluate models/cgan_cifar10 --data /path/to/cifar10 --n 10000
Expected: see models/cgan_cifar10/card.json and BENCHMARKS.md (classifier accuracy of samples,
per class).  Runtime: the 75-minute wall-clock budget (max_minutes) on a shared 2-core CPU.
"""
from condgan.config import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig(
        name="cgan_cifar10", data="cifar10", conditional=True, conditioning="projection",
        image_size=32, latent_dim=128, g_channels=64, d_channels=32, spectral_norm=True,
        loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9, batch_size=64,
        ema_decay=0.999, epochs=200, max_minutes=75, checkpoint_every_steps=500, seed=0)
