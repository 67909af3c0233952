"""DAMSM pretraining on Shapes at 64 px with the small CNN image encoder, from scratch, on CPU.

Command (its data: data/shapes):
    python -m condgan make-shapes -o data/shapes --n 20000 --size 64
    python -m condgan train --config configs/damsm_shapes.py
    python -m condgan evaluate-damsm runs/damsm_shapes

Expected result (2-core CPU, shared): validation R-precision >= 0.90 (AttnGAN protocol, 1 true
caption among 100, 2000 held-out images); measured numbers and training time are recorded in
docs/attngan.md.  Expected runtime: see docs/attngan.md (about 1 hour on 2 shared CPU cores).
FC ablation: add `--set fc=false --name damsm_shapes_nofc`.
"""
from condgan.families.damsm import DamsmConfig


def get_config() -> DamsmConfig:
    return DamsmConfig(
        name="damsm_shapes",
        data="data/shapes",
        image_size=64,
        image_encoder="cnn",
        cnn_width=32,
        dim=128,            # smaller than AttnGAN's 256: Shapes has ~50 words, CPU budget
        embed_dim=128,
        dropout=0.2,        # AttnGAN's 0.5 is for 5,450 bird words; Shapes' short vocabulary
        fc=True,
        batch_size=48,
        epochs=6,
        lr=0.002,
        flip=False,         # captions say left/right: flipping would make them wrong
        checkpoint_every_steps=100,
        val_batches=20,
        rp_images=2000,
    )
