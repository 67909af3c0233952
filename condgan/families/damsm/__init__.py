"""The DAMSM family: AttnGAN's text and image encoders, pretrained (kind damsm; not exported,
AttnGAN runs read its run folder)."""
from condgan.families.damsm.config import DamsmConfig

__all__ = ["DamsmConfig"]
