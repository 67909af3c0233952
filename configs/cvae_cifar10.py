"""Conditional VAE on CIFAR-10 (32x32): the same decoder as the DCGAN generator, trained by the
ELBO instead of a discriminator.  Its samples are blurry by construction: a Gaussian decoder
with one learned sigma draws the mean of what it cannot tell apart.

Command:
    python -m condgan get-data cifar10
    python -m condgan train --config configs/cvae_cifar10.py
    python -m condgan export runs/cvae_cifar10 --name my_cvae_cifar10
"""
from condgan.families.cvae import CvaeConfig


def get_config():
    return CvaeConfig(name="cvae_cifar10", data="data/cifar10", latent_dim=128, epochs=30,
                      kl_warmup_steps=5000)
