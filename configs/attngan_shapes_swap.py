"""AttnGAN on Shapes with swap negatives (configs/attngan_shapes_proj.py, the shipped recipe,
adds projection discriminator heads to it).

configs/attngan_shapes.py with two changes aimed at the shape words its model ignores
(docs/attngan_part2.md, "Swap negatives"):
* the DAMSM it is trained against separates shapes (configs/damsm_shapes_swapshape.py);
* each stage's sentence-conditional discriminator also rejects real images paired with their
  caption with one attribute word swapped (`swap_negatives="shapes"`).

Command (its data: data/shapes; its DAMSM: runs/damsm_shapes_swapshape):
    python -m condgan train --config configs/damsm_shapes_swapshape.py
    python -m condgan train --config configs/attngan_shapes_swap.py
    python -m condgan export runs/attngan_shapes_swap --name attngan_shapes_swap
    python -m condgan evaluate models/attngan_shapes_swap --data data/shapes -n 1000
Measured numbers and training time: docs/attngan_part2.md and BENCHMARKS.md.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    plain = load_config(str(Path(__file__).with_name("attngan_shapes.py")))
    return dataclasses.replace(plain, name="attngan_shapes_swap", swap_negatives="shapes",
                               damsm="runs/damsm_shapes_swapshape", max_minutes=65.0)
