"""Class-conditional ResNet GAN on CIFAR-10, in the SNGAN / BigGAN-DiffAug style.

Residual G with conditional batch norm (4.3M parameters) and a residual spectrally normalised D
with global sum pooling and a projection head (1.1M), as in SNGAN's CIFAR-10 networks (Miyato &
Koyama 2018); hinge loss, EMA generator, and DiffAugment (colour, translation, cutout) on real
and fake images, as PyTorch-StudioGAN's and DiffAugment's BigGAN-CIFAR recipes train it; the AC
class head of configs/cgan_cifar10.py beside the projection.  The optimiser is that config's
(TTUR learning rates, Adam(0, 0.9), one D step per G step); BigGAN-DiffAug's CIFAR recipe takes
four D steps per G step at one learning rate (`--set n_critic=4 --set g_lr=2e-4 --set
d_lr=2e-4 --set beta2=0.999`).  BENCHMARKS.md ("ResNet cGAN") records a 30-minute CPU probe at
the CPU widths below and 5.9 minutes at these widths on one H200 (2.6M images: classifier FID
8.9 against the shipped DCGAN recipe's 10.1, but recall 0.24 against 0.58: each class drawn as
a few prototypes, so it is not the shipped cgan_cifar10).

These widths (SNGAN's) are sized for a GPU; for a 2-core CPU, `--set g_channels=32 --set
d_channels=32` (1.1M / 0.3M parameters).

Command (its data: data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/cgan_cifar10_resnet.py
    python -m condgan export runs/cgan_cifar10_resnet --name my_resnet_cgan
    python -m condgan evaluate models/my_resnet_cgan --data data/cifar10 --n 10000
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="cgan_cifar10_resnet", data="data/cifar10", conditional=True,
        architecture="resnet", conditioning="projection", image_size=32, latent_dim=128,
        g_channels=64, d_channels=64, spectral_norm=True, loss="hinge", g_lr=1e-4, d_lr=4e-4,
        beta1=0.0, beta2=0.9, batch_size=64, ema_decay=0.999, aux_classifier_weight=1.0,
        diffaugment="color,translation,cutout", epochs=200, max_minutes=115,
        checkpoint_every_steps=500, seed=0)
