"""The conditional VAE family (kind `cvae`): a class-conditional (or unconditional) variational
autoencoder whose decoder is served like a GAN generator, and whose encoder reconstructs and
interpolates real images."""
from condgan.families.cvae.config import CvaeConfig

__all__ = ["CvaeConfig"]
