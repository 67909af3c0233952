"""AttnGAN on Shapes at 64 px on CPU: a 32 px initial stage and one attentional stage to 64 px.

Command (after part 1's `make-shapes` and `python -m condgan train --config
configs/damsm_shapes.py`, see docs/attngan.md; the config's data is data/shapes and its DAMSM
runs/damsm_shapes, `--data` / `--damsm` override):
    python -m condgan train --config configs/attngan_shapes.py
    python -m condgan export runs/attngan_shapes --name attngan_shapes_plain
    python -m condgan sample models/attngan_shapes_plain \\
        --caption "a large blue circle at the top on a black background" -n 8 -o out.png
No-attention baseline at the same budget (sentence vector only, a text-conditioned DCGAN):
    add `--set stages=1 --name attngan_shapes_noattn` (the run goes to runs/attngan_shapes_noattn).

Expected result and runtime: measured numbers are in docs/attngan_part2.md (the quality
targets: R-precision of generated images >= 0.6; caption accuracy per attribute).
Sizes are scaled down from AttnGAN's birds config (gf 32, df 64, z 100, c 100) to train on
two shared CPU cores; the losses and lambda (5) are the paper's.
"""
from condgan.families.attngan import AttnGANConfig


def get_config() -> AttnGANConfig:
    return AttnGANConfig(
        name="attngan_shapes",
        data="data/shapes",     # python -m condgan make-shapes -o data/shapes
        damsm="runs/damsm_shapes",
        image_size=64,          # the DAMSM image encoder of runs/damsm_shapes is 64 px
        stages=2,               # 32 px initial stage + one attentional stage
        z_dim=64,
        condition_dim=64,
        gf=16,
        df=32,
        residual_blocks=2,
        batch_size=32,
        epochs=20,
        g_lr=2e-4,
        d_lr=2e-4,
        damsm_lambda=5.0,
        ema_decay=0.999,
        checkpoint_every_steps=200,
        sample_captions=8,
        samples_per_caption=6,
        rp_images=1000,
        max_minutes=120.0,      # CPU budget; `--resume --set max_minutes=...` trains on
    )
