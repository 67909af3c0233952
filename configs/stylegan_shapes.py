"""StyleGAN2-lite, unconditional, on one-object Shapes at 32x32 (`condgan.families.stylegan`).

A mapping network (4 layers, learning 100x slower) to W, a synthesis network of modulated,
demodulated 3x3 convolutions with per-pixel noise and skip toRGB outputs, a residual D with a
minibatch-standard-deviation channel, the non-saturating logistic loss with lazy R1 (every 16
steps), style mixing (0.9), an EMA generator, and the tracked average w for the truncation
trick.  Instance noise on D's inputs (std 0.3, down to 0 over 10,000 steps), as configs/
gan_shapes.py needed against collapse on Shapes' exact flat colours.  Widths are sized for a
2-core CPU (`channels`: the width at 4, 8, 16 and 32 px, for G and D).

Commands (the data: `python -m condgan make-shapes -o data/shapes_one.npz --size 32`):
    python -m condgan train --config configs/stylegan_shapes.py
    python -m condgan export runs/stylegan_shapes --name my_stylegan_shapes
    python -m condgan find-directions models/my_stylegan_shapes          # in W
    python -m condgan sample models/my_stylegan_shapes -n 16 --truncation 0.7 -o shapes.png
The shipped models/stylegan_shapes is this recipe's run on the 2-core CPU (TensorFlow, about
400 images/s with the machine to itself), resumed twice and stopped by its time budget after
75 minutes of training: 1,767,104 images, in epoch 89 (the `epochs` below).  It draws a shape
in 83 % of its images (gan_shapes: 69 %), every colour, size, position and background, with
colour and size frequencies closer to the data's than gan_shapes' and positions as close; its shapes are
rounded blobs (shape distribution off by 0.32 in total variation).  BENCHMARKS.md, "StyleGAN-lite
on Shapes", has the numbers, how they moved during the run, and the edits in W.
"""
from condgan.families.stylegan import StyleganConfig


def get_config() -> StyleganConfig:
    return StyleganConfig(
        name="stylegan_shapes", data="data/shapes_one.npz", conditional=False, image_size=32,
        latent_dim=128, w_dim=128, mapping_layers=4, mapping_lr_multiplier=0.01,
        channels=[128, 64, 48, 32], minibatch_std=True, style_mixing=0.9, truncation=1.0,
        r1_gamma=0.1, r1_interval=16, d_input_noise=0.3, d_input_noise_steps=10000,
        g_lr=0.0025, d_lr=0.0025, beta1=0.0, beta2=0.99, batch_size=64, ema_decay=0.999,
        epochs=89, max_minutes=0, checkpoint_every_steps=1000, samples_per_class=16, seed=0)
