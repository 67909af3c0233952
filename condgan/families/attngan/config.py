"""The AttnGAN family's config (Xu et al. 2018): text to image against a pretrained DAMSM."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class AttnGANConfig:
    name: str = "attngan"
    data: str = "data/shapes"  # a captioned folder (captions.jsonl) or AttnGAN's birds layout
    damsm: str = "runs/damsm_shapes"   # the pretrained DAMSM run (family damsm) it trains against
    image_size: int = 64
    stages: int = 2            # 1 = no attention (sentence-only baseline); 3 at 256 px = paper
    z_dim: int = 100           # AttnGAN GAN.Z_DIM
    condition_dim: int = 100   # AttnGAN GAN.CONDITION_DIM
    gf: int = 32               # AttnGAN GAN.GF_DIM (birds)
    df: int = 64               # AttnGAN GAN.DF_DIM
    residual_blocks: int = 2   # AttnGAN GAN.R_NUM
    # False: the later stages refine the previous stage's features with the sentence's
    # conditioning-augmentation code (StackGAN-v2's residual stages); with damsm_lambda=0 this
    # is the StackGAN baseline (configs/stackgan_shapes.py).
    word_attention: bool = True  # later stages attend over the caption's words (AttnGAN)
    # The first stage attends over the words too, each 8x8 cell knowing where it is, so that
    # layout and colours can come from the phrase naming that place rather than from the
    # sentence vector alone (condgan/models/attngan_generator.py).
    initial_word_attention: bool = False
    batch_size: int = 20       # AttnGAN birds
    epochs: int = 600
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    damsm_lambda: float = 5.0  # AttnGAN TRAIN.SMOOTH.LAMBDA (birds); 0 = no DAMSM loss (StackGAN)
    kl_weight: float = 1.0
    # Hard "wrong" pairs for the conditional discriminators: the true caption with one attribute
    # word swapped ("shapes" or a word-group JSON, see condgan/text/word_swap.py); None = AttnGAN.
    swap_negatives: str | None = None
    swap_from_epoch: int = 0   # epochs before this one train without them (mask 0: AttnGAN's loss)
    # With this probability a caption naming two values of one group (two objects' colours)
    # gets them exchanged instead: the negative that tests binding (word_swap.py).
    swap_exchange: float = 0.0
    # The discriminators' caption-conditional head: "concat" (AttnGAN), "projection",
    # "words" (projection plus a word-region term) or "phrases" (the same term over the object
    # phrases between the `d_phrase_separators` words, at most `d_max_phrases`);
    # condgan/models/attngan_discriminator.py.
    d_condition: str = "concat"
    d_phrase_separators: str = "and"   # comma-separated words of the DAMSM's vocabulary
    d_max_phrases: int = 3
    # Weight of the object-wise discriminator term (0 = off, AttnGAN): each stage's D reads
    # every grid cell of an image (an object? its `d_object_attributes`?), learning from real
    # images and the data set's per-object labels (captions.jsonl "attributes", dataset.json
    # "attribute_values"; condgan/data/object_cells.py), and the generator's images are scored
    # by that reading against the objects their caption names.  Needs those labels (Shapes has
    # them); the served model still reads only the caption.
    d_object_weight: float = 0.0
    d_object_attributes: str = "shape,colour,size"
    ema_decay: float = 0.999
    seed: int = 0
    checkpoint_every_steps: int = 200
    sample_captions: int = 8
    samples_per_caption: int = 4
    sample_every_epochs: int = 1
    rp_images: int = 1000      # held-out captions scored at the end (R-precision)
    max_train_images: int | None = None
    max_minutes: float = 0.0   # stop after this much training time (0 = no limit)
    strategy: str = "default"
    tensorboard: bool = True
    verbose: int = 1           # 1: a line per epoch (and a bar in a terminal); 2: Keras' own too

    def to_json(self) -> dict:
        return dataclasses.asdict(self)
