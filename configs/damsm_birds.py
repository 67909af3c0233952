"""DAMSM pretraining on CUB birds, AttnGAN's published setup (code/cfg/DAMSM/bird.yml).

Command (its data: data/birds in AttnGAN's birds layout, CUB_200_2011/, text/,
train|test/filenames.pickle; `--data DIR` for another folder):
    python -m condgan train --config configs/damsm_birds.py
    python -m condgan evaluate-damsm runs/damsm_birds

Expected result: AttnGAN reports R-precision 67.82 +- 4.43 % for its generated birds; real
images with a converged DAMSM score higher.  Not run for this project: the CUB images were
not at hand, and 600 epochs of frozen InceptionV3 at 299 px need a GPU (AttnGAN: ~1 day on one).
ImageNet weights come from the Keras cache
(~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5) when present.
"""
from condgan.families.damsm import DamsmConfig


def get_config() -> DamsmConfig:
    return DamsmConfig(
        name="damsm_birds",
        data="data/birds",      # AttnGAN's birds layout (CUB_200_2011/, text/, filenames.pickle)
        image_size=299,          # AttnGAN TREE.BASE_SIZE for DAMSM
        image_encoder="inception",
        dim=256, embed_dim=300, dropout=0.5, fc=True,
        batch_size=48, epochs=600, lr=0.002, lr_decay=0.98,
        flip=True,               # AttnGAN RandomHorizontalFlip
        checkpoint_every_steps=500, val_batches=20, rp_images=2933,
    )
