"""AttnGAN on Shapes with a word-level discriminator head: configs/attngan_shapes_bind.py (whole
captions, exchange negatives, its DAMSM) with one change, `d_condition="words"`: each stage's
caption-conditional logit is the projection head's plus a word-region term, in which every word
of the caption attends over D's 4x4 regions and is scored against what it finds there
(condgan/models/attngan_discriminator.py).  The sentence vectors of "a red circle ... and a
blue square" and its exchange "a blue circle ... and a red square" are close; the DAMSM's
contextual word features are not, and each must now agree with a region, so D (and through it
G) has a signal for which object each attribute belongs to.

Command (its data: data/shapes; its DAMSM: runs/damsm_shapes_bind):
    python -m condgan train --config configs/damsm_shapes_bind.py
    python -m condgan train --config configs/attngan_shapes_words.py
    python -m condgan export runs/attngan_shapes_words --name attngan_shapes_words
    python -m condgan evaluate models/attngan_shapes_words --data data/shapes -n 1000
Measured at 216k images (BENCHMARKS.md, "Binding attributes to objects"): two-object colour 0.68,
shape 0.41, size 0.81, both objects right 4.8 %, background 1.00; one-object captions 46.6 %
all right: no better than the exchange recipe alone at the same images, at twice the CPU time.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    bind = load_config(str(Path(__file__).with_name("attngan_shapes_bind.py")))
    return dataclasses.replace(bind, name="attngan_shapes_words", d_condition="words")
