"""AttnGAN on CUB-200-2011 birds at 256 px: three stages (64 -> 128 -> 256), the paper's setup
(AttnGAN `code/cfg/bird_attn2.yml` and its `miscc/config.py` defaults).

Command (after `python -m condgan train --config configs/damsm_birds.py`, see docs/attngan.md;
the config's data is data/birds and its DAMSM runs/damsm_birds, `--data` / `--damsm` override):
    python -m condgan train --config configs/attngan_birds.py --strategy mirrored
    python -m condgan export runs/attngan_birds --name attngan_birds

Expected result (the paper, on CUB): R-precision 67.82 +- 4.43 %, Inception score 4.36.
Runtime: GPU work (the paper trains 600 epochs of 8,855 images); not trained for this project,
whose numbers come from a CPU machine.  Generated images are resized to the DAMSM's 299 px for
its loss and R-precision.
"""
from condgan.families.attngan import AttnGANConfig


def get_config() -> AttnGANConfig:
    return AttnGANConfig(
        name="attngan_birds",
        data="data/birds",      # AttnGAN's birds layout (CUB_200_2011/, text/, filenames.pickle)
        damsm="runs/damsm_birds",
        image_size=256,
        stages=3,
        z_dim=100,
        condition_dim=100,
        gf=32,
        df=64,
        residual_blocks=2,
        batch_size=20,
        epochs=600,
        g_lr=2e-4,
        d_lr=2e-4,
        damsm_lambda=5.0,
        checkpoint_every_steps=2000,
        rp_images=2933,   # the CUB test split's images
    )
