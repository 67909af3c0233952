"""Class-conditional GAN on MNIST digits: the first GAN people train, with the shipped cGAN recipe.

The recipe of configs/cgan_cifar10.py (conditional batch norm, projection discriminator with
an AC class head, spectral norm, hinge, EMA) on 32x32 digits: MNIST's 28x28 digits on a
2-pixel black border, grey copied to RGB (condgan.data.mnist).  Its data: the digits
`python -m condgan get-data mnist` writes, from MNIST's own splits when downloaded, or, from
the 10,000 test digits alone (`--from` a folder holding t10k-*-idx*-ubyte.gz), 8,000 of them
(80 % of each digit) to train on and 2,000 held out; the data's sidecar and the model's card
say which.

Not yet a shipped recipe: its first 30-epoch run reads 92 % of its digits as asked but draws
the 2s as a broken stroke and little variety (BENCHMARKS.md, "Digits").

Command:
    python -m condgan get-data mnist --from PATH/TO/mnist     # or without --from: download
    python -m condgan train --config configs/cgan_digits.py
    python -m condgan export runs/cgan_digits --name my_digits
"""
from condgan.families.gan import GanConfig


def get_config() -> GanConfig:
    return GanConfig(
        name="cgan_digits", data="data/mnist", conditional=True, conditioning="projection",
        image_size=32, latent_dim=64, g_channels=32, d_channels=32, spectral_norm=True,
        loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9, batch_size=64,
        ema_decay=0.999, aux_classifier_weight=1.0, epochs=30, max_minutes=0,
        checkpoint_every_steps=500, seed=0)
