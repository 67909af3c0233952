"""AttnGAN on Shapes with an object-wise discriminator: configs/attngan_shapes_layout.py (word
attention in the first stage, whole captions, exchange negatives) with one change,
`d_object_weight=1.0`.  Each stage's discriminator also reads the nine grid cells of an image
(is there an object, which shape, colour and size), learning from the real images and the data
set's per-object labels; the generator is scored by that reading against the objects its
caption names (condgan/models/attngan_discriminator.py, `build_object_head`).  A shape word
is then judged by a head that has seen thousands of labelled squares, not only through the
caption-conditional logit, which read shape right about 0.6 of the time in the layout runs.
Training needs the labels (Shapes has them); the trained generator reads captions only.

Command (its data: data/shapes; its DAMSM: configs/damsm_shapes_bind.py trained to its end):
    python -m condgan train --config configs/damsm_shapes_bind.py
    python -m condgan train --config configs/attngan_shapes_objects.py --set epochs=12 --set max_minutes=0
    python -m condgan export runs/attngan_shapes_objects --name attngan_shapes_objects
    python bench/two_object_captions.py --model models/attngan_shapes_objects
    python -m condgan evaluate models/attngan_shapes_objects --data data/shapes -n 1000
Measured beside the same recipe without the head, both against `--damsm runs/damsm_shapes_bind10`
(BENCHMARKS.md, "An object-wise discriminator"), at 216k images: on held-out two-object
captions colour of each object 0.94 (without the head 0.79), shape 0.78 (0.49), size 0.97,
position 0.92, both objects right 50.4 % (11.6 %), a named object missing 0.16 (0.50);
one-object captions all right 87.9 % (62.4 %; the shipped attngan_shapes at 582k: 81.6 %).
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    layout = load_config(str(Path(__file__).with_name("attngan_shapes_layout.py")))
    return dataclasses.replace(layout, name="attngan_shapes_objects", d_object_weight=1.0)
