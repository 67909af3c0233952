"""Class-conditional GAN on CIFAR-10: the stronger recipe plus an auxiliary classifier in D.

Everything as configs/cgan_cifar10.py (conditional batch norm in G, projection D with spectral
norm, hinge loss, TTUR, EMA generator, same widths) and one change: D also has an AC-GAN class
head (Odena et al. 2017), trained on real images, whose cross-entropy on the fakes is added to
G's loss (aux_classifier_weight=1).  The projection alone gave samples whose class a CIFAR-10
classifier recognised 23 % of the time after 295k images on this CPU (BENCHMARKS.md).

Command:
    python -m condgan train --config configs/cgan_cifar10_ac.py --data /path/to/cifar10
    python -m condgan export runs/cgan_cifar10_ac --name cgan_cifar10
    python -m condgan evaluate models/cgan_cifar10 --data /path/to/cifar10_test.npz --n 10000 \\
        --classifier models/classifiers/cifar10 --metrics accuracy,classifier_fid --seed 0
Expected: see BENCHMARKS.md ("Shipped GAN runs").  Runtime: the 115-minute wall-clock budget
(max_minutes) on a 2-core CPU, about 1.9M images.
"""
from condgan.config import TrainConfig


def get_config() -> TrainConfig:
    return TrainConfig(
        name="cgan_cifar10_ac", data="cifar10", conditional=True, conditioning="projection",
        image_size=32, latent_dim=128, g_channels=64, d_channels=32, spectral_norm=True,
        loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9, batch_size=64,
        ema_decay=0.999, aux_classifier_weight=1.0, epochs=200, max_minutes=115,
        checkpoint_every_steps=500, seed=0)
