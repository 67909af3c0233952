"""The AttnGAN family: text to image with word attention, trained against a DAMSM (kind attngan);
with both off, the StackGAN baseline."""
from condgan.families.attngan.config import AttnGANConfig

__all__ = ["AttnGANConfig"]
