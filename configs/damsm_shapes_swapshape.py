"""DAMSM on Shapes with shape-swap hard negatives: the encoders the attngan_shapes_swap and
attngan_shapes_proj generators are trained against.

The plain DAMSM (configs/damsm_shapes.py) retrieves captions at R-precision 0.94 on colour,
position and size alone: given a real image, it picks the true shape word among four
variants of its caption only 48 % of the time (chance 25 %), and its sentence vectors for
"circle / square / triangle / diamond" captions are nearly identical (cosine >= 0.98).  Here each
image is also scored against its own caption with the shape word swapped to another shape
(`swap_negatives`, condgan/text/word_swap.py), so the encoders must separate shapes.

Command (its data: data/shapes):
    python -m condgan train --config configs/damsm_shapes_swapshape.py
    python bench/attngan_swap_probe.py --damsm runs/damsm_shapes_swapshape
Measured numbers (R-precision, the swap probe) and time: docs/attngan_part2.md, BENCHMARKS.md.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    plain = load_config(str(Path(__file__).with_name("damsm_shapes.py")))
    return dataclasses.replace(plain, name="damsm_shapes_swapshape", swap_negatives="shapes:shape",
                               epochs=10)
