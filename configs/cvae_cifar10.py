"""Conditional VAE on CIFAR-10 (32x32): the same decoder as the DCGAN generator, trained by the
ELBO instead of a discriminator, the label given beside the latent (as configs/cvae_digits.py:
with the class only in the decoder's batch norms a VAE ignores it) and the KL term weighted 4
(beta-VAE) so that prior samples land nearer the codes of real images.

Command:
    python -m condgan get-data cifar10
    python -m condgan train --config configs/cvae_cifar10.py
    python -m condgan export runs/cvae_cifar10 --name my_cvae_cifar10
    python -m condgan reconstruct models/my_cvae_cifar10 --image photo.png --label cat -o rebuilt.png
The shipped models/cvae_cifar10 is this recipe on the 2-core CPU (TensorFlow), stopped by a
35-minute budget in its 24th epoch (1.20M images; about 900 images/s in its first epochs, 430-650
while other runs shared the CPU).
Its samples are blurred patches of colour in which the class hardly shows (18 % read as their
class by the reference classifier, recall 0.07), its reconstructions of real photographs keep
their layout and colours, blurred: a Gaussian decoder draws the mean of what its latent leaves
open (BENCHMARKS.md, "CIFAR-10: the conditional VAE").
"""
from condgan.families.cvae import CvaeConfig


def get_config():
    return CvaeConfig(name="cvae_cifar10", data="data/cifar10", latent_dim=128,
                      decoder_conditioning="concat", kl_weight=4.0, epochs=24,
                      kl_warmup_steps=5000)
