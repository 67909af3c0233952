"""Class-conditional GAN on CIFAR-10, the stronger recipe (shipped as models/cgan_cifar10).

Conditional batch norm in G, projection discriminator with spectral norm, hinge loss, TTUR
learning rates and Adam(0, 0.9) as in SAGAN (Zhang et al. 2019), EMA generator, and an AC-GAN
class head in D (Odena et al. 2017; aux_classifier_weight=1): D also learns the class of real
images, and G's loss adds that head's cross-entropy on the fakes.  Widths are sized for a
2-core CPU: G 64, D 32 base channels.  Without the class head (configs/cgan_cifar10_projection.py)
the samples were recognisable as their class far less often (BENCHMARKS.md, "Shipped GAN runs").

Command (its data: data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/cgan_cifar10.py
    python -m condgan export runs/cgan_cifar10 --name my_cgan   # --name cgan_cifar10 --replace re-ships it
    python -m condgan evaluate models/my_cgan --data data/cifar10 --n 10000 \\
        --classifier models/classifiers/cifar10 --metrics accuracy,classifier_fid --seed 0
Expected: the 115-minute wall-clock budget (max_minutes) on a 2-core CPU trains about 1.7M
images: 81.6 % of samples labelled as their class, classifier FID 16.2 (BENCHMARKS.md).  The
shipped model (models/cgan_cifar10/card.json, run name gpu_run) is this recipe trained under
KERAS_BACKEND=jax on one H100 for 4.8 minutes, 4.85M images: 86.6 %, FID 10.1 (docs/gpu.md).
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="cgan_cifar10", data="data/cifar10", conditional=True, conditioning="projection",
        image_size=32, latent_dim=128, g_channels=64, d_channels=32, spectral_norm=True,
        loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9, batch_size=64,
        ema_decay=0.999, aux_classifier_weight=1.0, epochs=200, max_minutes=115,
        checkpoint_every_steps=500, seed=0)
