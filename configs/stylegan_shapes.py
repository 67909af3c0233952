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
    python -m condgan sample models/my_stylegan_shapes -n 16 --truncation 0.7 -o shapes.png
Throughput (TensorFlow, the 2-core CPU, batch 64): 400-415 images/s with the machine to itself
(`--set max_minutes=18`: 432,704 images, 22 epochs, in 18 minutes, 2026-11-27).  That run's
grids: varied black, white and gray backgrounds with coloured blobs in many cells, no collapse,
most blobs orange; shapes not yet drawn.
Quality of a full run: not yet measured.
"""
from condgan.families.stylegan import StyleganConfig


def get_config() -> StyleganConfig:
    return StyleganConfig(
        name="stylegan_shapes", data="data/shapes_one.npz", conditional=False, image_size=32,
        latent_dim=128, w_dim=128, mapping_layers=4, mapping_lr_multiplier=0.01,
        channels=[128, 64, 48, 32], minibatch_std=True, style_mixing=0.9, truncation=1.0,
        r1_gamma=0.1, r1_interval=16, d_input_noise=0.3, d_input_noise_steps=10000,
        g_lr=0.0025, d_lr=0.0025, beta1=0.0, beta2=0.99, batch_size=64, ema_decay=0.999,
        epochs=40, max_minutes=0, checkpoint_every_steps=1000, samples_per_class=16, seed=0)
