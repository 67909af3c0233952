"""GAN-INT-CLS (Reed et al. 2016) on Shapes at 64 px with the recipe of the project's working
unconditional Shapes GAN (configs/gan_shapes.py) instead of the paper's DCGAN training: SNGAN's
discriminator (spectral norm on every convolution and dense layer, no batch norm), a
minibatch-standard-deviation channel in D, the hinge form of the GAN-CLS losses, an EMA
generator (0.999, exported and drawn in the epoch's grid), TTUR (G 1e-4, D 4e-4, Adam betas
0 / 0.9) and instance noise (0.3, faded out over the run).  Captions, CLS, INT and the network
sizes are configs/gan_int_cls_shapes.py's, so the two differ in the training recipe alone.

Command (after `python -m condgan make-shapes -o data/shapes` and the DAMSM pretraining
`python -m condgan train --config configs/damsm_shapes.py`; `--data` and
`--set text_encoder=FOLDER` override, FOLDER a DAMSM run or a local sentence-encoder folder):
    python -m condgan train --config configs/gan_int_cls_shapes_sn.py
    python -m condgan export runs/gan_int_cls_shapes_sn --name gan_int_cls_shapes_sn
    python -m condgan sample models/gan_int_cls_shapes_sn \\
        --caption "a large blue circle at the top on a black background" -n 8 -o out.png
    python -m condgan evaluate models/gan_int_cls_shapes_sn --data data/shapes
`export --weights live` gives G's own weights instead of their EMA.

Measured (2026-11-27, the 2-core CPU, `--set text_encoder=runs/notebooks/full/05_damsm_shapes`:
notebook 05's DAMSM, as the other baselines): the 10 epochs, 180k images, in 45.8 min (85-90
images/s with the CPU to itself, 45 while another run shared it); shipped as
models/gan_int_cls_shapes.  On 1,000 held-out captions: R-precision 0.487 (StackGAN 0.399,
configs/gan_int_cls_shapes.py 0.069), colour 66.4 %,
position 95.5 %, shape 33.3 %, size 84.1 %, background 100 %, all attributes of a one-object
caption 18.2 % (BENCHMARKS.md, "Text-to-image baselines").  The noise changes little: one
picture per caption, more or less, as with StackGAN and AttnGAN at this budget.
"""
import dataclasses
from pathlib import Path

from condgan.config import load_config   # the loader --config uses


def get_config():
    baseline = load_config(str(Path(__file__).with_name("gan_int_cls_shapes.py")))
    # configs/gan_shapes.py's recipe: SNGAN's D with the batch's spread, hinge, EMA, TTUR.
    return dataclasses.replace(baseline, name="gan_int_cls_shapes_sn", spectral_norm=True,
                               minibatch_std=True, loss="hinge", ema_decay=0.999, g_lr=1e-4,
                               d_lr=4e-4, beta1=0.0, beta2=0.9)
