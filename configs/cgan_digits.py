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
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    cifar = load_config(str(Path(__file__).with_name("cgan_cifar10.py")))
    # Digits are simpler than CIFAR-10 scenes: a narrower G and a smaller latent, 30 epochs of
    # the 8,000 digits whatever the time.
    return dataclasses.replace(cifar, name="cgan_digits", data="data/mnist", latent_dim=64,
                               g_channels=32, epochs=30, max_minutes=0)
