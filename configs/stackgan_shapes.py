"""StackGAN (Zhang et al. 2017; the stages trained jointly as StackGAN-v2 does) on Shapes at
64 px: the text-to-image baseline AttnGAN is compared against.

configs/attngan_shapes.py with two changes, so the two differ in nothing else (sizes, stages,
schedule, discriminators, the DAMSM whose text encoder gives the sentence vector):
* `word_attention=False`: the 64 px stage refines the 32 px stage's features with the sentence's
  conditioning-augmentation code tiled over them (StackGAN-v2's residual stage), not with
  word attention; the generator sees the caption only through the sentence vector;
* `damsm_lambda=0`: no DAMSM loss on the generator, only the adversarial and KL terms.
The discriminators are AttnGAN's, which are StackGAN-v2's joint conditional and unconditional
ones on the sentence vector.  Kept from AttnGAN, not StackGAN-v2: the discriminator loss weights
(1/2 on real, 1/3 on fake and mismatched) and the KL weight 1 (StackGAN's paper; its v2 birds
config uses 2).  The model folder is a caption model like attngan_shapes (card kind attngan).

Command (after `python -m condgan make-shapes -o data/shapes` and the DAMSM pretraining
`python -m condgan train --config configs/damsm_shapes.py`; the config's data is data/shapes and
its DAMSM runs/damsm_shapes, `--data` / `--damsm` override; the DAMSM also judges R-precision):
    python -m condgan train --config configs/stackgan_shapes.py
    python -m condgan export runs/stackgan_shapes --name stackgan_shapes
    python -m condgan sample models/stackgan_shapes \\
        --caption "a large blue circle at the top on a black background" -n 8 -o out.png
    python -m condgan evaluate models/stackgan_shapes --data data/shapes -n 1000

Measured (BENCHMARKS.md, "Text-to-image baselines"; shipped as models/stackgan_shapes): 10
epochs (`--set epochs=10 --set max_minutes=0`, 180k images, the budget of the AttnGAN rows it is
compared with), 82.5 minutes on the 2-core CPU shared with another training run (41-55
images/s), with notebook 05's DAMSM (`--damsm runs/notebooks/full/05_damsm_shapes`): R-precision
0.399, caption accuracy colour 60.3 %, position 84.3 %, shape 28.6 %, all attributes of a
one-object caption 15.1 %.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    attngan = load_config(str(Path(__file__).with_name("attngan_shapes.py")))
    return dataclasses.replace(attngan, name="stackgan_shapes", word_attention=False,
                               damsm_lambda=0.0)
