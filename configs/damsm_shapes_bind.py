"""DAMSM on Shapes trained to bind attributes to objects: configs/damsm_shapes_long.py (whole
captions, shape-swap negatives) with exchange negatives as well: half of the two-object captions'
negatives trade two objects' words of one group ("a *red* circle ... and a *blue* square" ->
"a *blue* circle ... and a *red* square"; condgan/text/word_swap.py), which a bag of words cannot
tell from the true caption.  Swaps and exchanges draw from shape, colour and size words.
Command (its data: data/shapes):
    python -m condgan train --config configs/damsm_shapes_bind.py
    python -m condgan evaluate-damsm runs/damsm_shapes_bind
Measured (BENCHMARKS.md, "Binding attributes to objects"): R-precision 0.993; its sentence
score tells a two-object caption from its colour exchange 98.5 % of the time (the plain
whole-caption DAMSM: 66.1 %).
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    long = load_config(str(Path(__file__).with_name("damsm_shapes_long.py")))
    return dataclasses.replace(long, name="damsm_shapes_bind", swap_negatives="shapes:shape,colour,size",
                               swap_exchange=0.5)
