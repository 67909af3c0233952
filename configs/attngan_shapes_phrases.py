"""AttnGAN on Shapes with a phrase-level discriminator head: configs/attngan_shapes_bind.py (whole
captions, exchange negatives, its DAMSM) with one change, `d_condition="phrases"`: each stage's
caption-conditional logit is the projection head's plus a phrase-region term.  The caption is
split into its object phrases at the word "and" ("a large red circle in the upper left corner" |
"a large blue square at the bottom on a white background"), each phrase is the mean of its
words' DAMSM features, attends over D's 4x4 regions and is scored against what it finds there
(condgan/models/attngan_discriminator.py).  One phrase carries one object's colour, shape, size
and position together, so a region passes only when it shows all of them: the exchange negative
("a blue circle ... and a red square") fails on both objects' regions.

Command (its data: data/shapes; its DAMSM: runs/damsm_shapes_bind):
    python -m condgan train --config configs/damsm_shapes_bind.py
    python -m condgan train --config configs/attngan_shapes_phrases.py
    python -m condgan export runs/attngan_shapes_phrases --name attngan_shapes_phrases
    python -m condgan evaluate models/attngan_shapes_phrases --data data/shapes -n 1000
Measured at 216k images (BENCHMARKS.md, "Binding attributes to objects"): two-object colour 0.68,
shape 0.39, size 0.80, both objects right 4.9 %, background 1.00; one-object captions 50.1 % all
right: within noise of the exchange recipe alone and of the word-level head at the same images.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    bind = load_config(str(Path(__file__).with_name("attngan_shapes_bind.py")))
    return dataclasses.replace(bind, name="attngan_shapes_phrases", d_condition="phrases",
                               d_phrase_separators="and", d_max_phrases=2)
