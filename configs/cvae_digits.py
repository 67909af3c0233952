"""Conditional VAE on MNIST digits (32x32, grey copied to RGB; `get-data mnist` writes them).

Command:
    python -m condgan get-data mnist --from PATH/TO/mnist     # or without --from: download
    python -m condgan train --config configs/cvae_digits.py
    python -m condgan export runs/cvae_digits --name my_cvae_digits
"""
from condgan.families.cvae import CvaeConfig


def get_config():
    return CvaeConfig(name="cvae_digits", data="data/mnist", latent_dim=16, encoder_channels=32,
                      decoder_channels=32, epochs=30, kl_warmup_steps=2000)
