"""The GAN-INT-CLS family (Reed et al. 2016): text to image from a sentence embedding, with the
matching-aware discriminator and embedding interpolation (kind gan_int_cls)."""
from condgan.families.intcls.config import IntClsConfig

__all__ = ["IntClsConfig"]
