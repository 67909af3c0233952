"""A VAE on one-object Shapes: the baseline tried before the steerable GAN (configs/gan_shapes.py),
kept so that its result can be rerun.  Unconditional, 16 latents, KL weight 4 (a beta-VAE).

Result (BENCHMARKS.md, "Controllable generation"): after 6 epochs its samples are plain
backgrounds without the coloured shapes (with KL weight 1 and 32 latents, after 7, too): the
shapes cover a few per cent of the pixels, and the reconstruction term gives up on them before
the KL term lets the latents carry them.

Commands (the data: `python -m condgan make-shapes -o data/shapes_one.npz --size 32`):
    python -m condgan train --config configs/cvae_shapes.py
    python -m condgan export runs/cvae_shapes --name my_cvae_shapes
Runtime: about 25 s per epoch on a 2-core CPU.
"""
from condgan.families.cvae import CvaeConfig


def get_config():
    return CvaeConfig(name="cvae_shapes", data="data/shapes_one.npz", conditional=False,
                      latent_dim=16, encoder_channels=64, decoder_channels=64,
                      decoder_conditioning="concat", kl_weight=4.0, kl_warmup_steps=2000,
                      epochs=30, samples_per_class=64)
