"""The GAN family: unconditional GANs (kind `gan`) and class-conditional GANs (kind `cgan`)."""
from condgan.families.gan.config import GanConfig

__all__ = ["GanConfig"]
