"""The StyleGAN family: StyleGAN2-lite (Karras et al. 2020) cut to 32-64 px and a CPU,
unconditional or class-conditional through its mapping network (kind `stylegan`)."""
from condgan.families.stylegan.config import StyleganConfig

__all__ = ["StyleganConfig"]
