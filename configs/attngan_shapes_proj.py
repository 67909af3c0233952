"""AttnGAN on Shapes: the swap-negative recipe with a projection discriminator head.

configs/attngan_shapes_swap.py with one change: each stage's sentence-conditional head is a
projection head (`d_condition="projection"`, Miyato & Koyama 2018) instead of AttnGAN's
concatenation.  Why: the probe (bench/attngan_swap_probe.py) found the concatenating heads of the
swap run read size but not shape (0.39 / 0.29 at stage 1 / 2, chance 0.25), while the frozen
DAMSM the generator also answers to is fooled on shape (it rates 92 % of generated shapes as
the captioned one; the held-out classifier, 51.5 %).  See docs/attngan_part2.md.

Command (the shipped models/attngan_shapes: 65 minutes, then resumed to step 18,200 = 582k
images, 155 min in all; BENCHMARKS.md).  Its data is data/shapes and its DAMSM
runs/damsm_shapes_swapshape (`python -m condgan train --config configs/damsm_shapes_swapshape.py`):
    python -m condgan train --config configs/attngan_shapes_proj.py
    python -m condgan train --config configs/attngan_shapes_proj.py --resume \\
        --set max_minutes=160 --set epochs=40      # the shipped run was stopped by hand at step 18,200
    python -m condgan export runs/attngan_shapes_proj --name my_attngan   # --name attngan_shapes --replace re-ships it
    python -m condgan evaluate models/my_attngan --data data/shapes -n 1000
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    swap = load_config(str(Path(__file__).with_name("attngan_shapes_swap.py")))
    return dataclasses.replace(swap, name="attngan_shapes_proj", d_condition="projection")
