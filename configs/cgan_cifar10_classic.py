"""Class-conditional GAN on CIFAR-10, the classic Keras recipe (the baseline).

Label embedding concatenated to the noise in G and as an extra image plane in D, BCE loss,
Adam(2e-4, 0.5) for both, dropout 0.4 in D, no spectral norm, no EMA: the Keras-2-era
tutorial recipe, on the same backbone widths and wall-clock budget as configs/cgan_cifar10_projection.py.

Command (its data: data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/cgan_cifar10_classic.py
    python -m condgan export runs/cgan_cifar10_classic --name cgan_cifar10_classic
Expected: clearly behind configs/cgan_cifar10_projection.py and configs/cgan_cifar10.py on
classifier accuracy of samples (BENCHMARKS.md).  Runtime: the same 75-minute budget
(max_minutes), measured side by side with configs/cgan_cifar10_projection.py.
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="cgan_cifar10_classic", data="data/cifar10", conditional=True, conditioning="concat",
        image_size=32, latent_dim=128, g_channels=64, d_channels=32, spectral_norm=False,
        d_dropout=0.4, loss="bce", g_lr=2e-4, d_lr=2e-4, beta1=0.5, beta2=0.999, batch_size=64,
        ema_decay=0.0, epochs=200, max_minutes=75, checkpoint_every_steps=500, seed=0)
