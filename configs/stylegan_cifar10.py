"""StyleGAN2-lite, class-conditional, on CIFAR-10 at 32x32 (`condgan.families.stylegan`).

The class enters through the mapping network (a normalised class embedding beside z, as
StyleGAN2-ADA conditions) and D's projection term.  A 2-layer mapping network (StyleGAN2-ADA's
CIFAR-10 choice) learning 100x slower, modulated and demodulated convolutions with per-pixel
noise and skip toRGB outputs, a residual D with a minibatch-standard-deviation channel, the
non-saturating logistic loss with lazy R1 (gamma 0.01, StyleGAN2-ADA's CIFAR-10 value, every
16 steps), style mixing (0.9), DiffAugment (colour, translation, cutout: Zhao et al. 2020's
StyleGAN2 CIFAR-10 policy) and an EMA generator.  Widths are sized for a 2-core CPU
(`channels`: the width at 4, 8, 16 and 32 px, for G and D).

Commands (its data: data/cifar10, from `python -m condgan get-data cifar10`):
    python -m condgan train --config configs/stylegan_cifar10.py
    python -m condgan export runs/stylegan_cifar10 --name my_stylegan_cifar10
    python -m condgan sample models/my_stylegan_cifar10 --label horse -n 8 --truncation 0.7 -o horses.png
    python -m condgan evaluate models/my_stylegan_cifar10 --data data/cifar10 --n 10000 \\
        --classifier models/classifiers/cifar10 --metrics accuracy,classifier_fid --seed 0
Throughput (TensorFlow, the 2-core CPU, batch 64): 97 img/s measured with `--set
max_minutes=1.5` while other training jobs held the machine (load 8-9 on its 2 cores, this run
getting 0.6 of them; configs/cgan_cifar10.py gave 142 img/s under such load, 250-300 alone).
Paired with that recipe in one process it trains 0.77x its images per CPU-second: about 190-230
img/s on an idle machine.
Expected result: not yet measured.
"""
from condgan.families.stylegan import StyleganConfig


def get_config() -> StyleganConfig:
    return StyleganConfig(
        name="stylegan_cifar10", data="data/cifar10", conditional=True, image_size=32,
        latent_dim=128, w_dim=128, mapping_layers=2, mapping_lr_multiplier=0.01,
        channels=[128, 64, 48, 32], minibatch_std=True, style_mixing=0.9, truncation=1.0,
        r1_gamma=0.01, r1_interval=16, diffaugment="color,translation,cutout",
        g_lr=0.0025, d_lr=0.0025, beta1=0.0, beta2=0.99, batch_size=64, ema_decay=0.999,
        epochs=200, max_minutes=120, checkpoint_every_steps=500, seed=0)
