"""AttnGAN on Shapes whose first stage reads the words: configs/attngan_shapes_bind.py (whole
captions, exchange negatives, its DAMSM) with one change, `initial_word_attention=True`.  In
AttnGAN the first stage (32 px here), which decides where the objects go and what colour they
are, sees the caption only through one sentence vector; the later stage's word attention can
then only refine a layout whose colours may already sit on the wrong object.  Here each 8x8 cell
of the first stage, given its own coordinates, attends over the words
(condgan/models/attngan_generator.py), so the cell at the top left can take the words of the
phrase that names the top left.

Command (its data: data/shapes; its DAMSM: runs/damsm_shapes_bind):
    python -m condgan train --config configs/damsm_shapes_bind.py
    python -m condgan train --config configs/attngan_shapes_layout.py --set epochs=12 --set max_minutes=0
    python -m condgan export runs/attngan_shapes_layout --name attngan_shapes_layout
    python -m condgan evaluate models/attngan_shapes_layout --data data/shapes -n 1000
    python bench/two_object_captions.py --model models/attngan_shapes_layout
Measured at 216k images beside the exchange recipe (BENCHMARKS.md, "Word attention in the
generator's first stage"): on held-out two-object captions colour of each object 0.80 (0.68),
shape 0.49 (0.37), size 0.89 (0.77), both objects right 12.2 % (4.5 %); one-object captions all
right 54.6 % (49.3 %).  Those runs trained against the bind DAMSM stopped after epoch 7, which
reads shape at 0.78 by the swap probe; against the same DAMSM trained to its end (0.91,
`--damsm runs/damsm_shapes_bind10`) the two-object figures are the same at 216k and one-object
captions all right 62.4 %.  Either way most shape errors are squares drawn as round blobs, which
the DAMSM itself takes for squares ("Where the shape errors go").
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    bind = load_config(str(Path(__file__).with_name("attngan_shapes_bind.py")))
    return dataclasses.replace(bind, name="attngan_shapes_layout", initial_word_attention=True)
