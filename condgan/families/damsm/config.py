"""The DAMSM family's config: AttnGAN's text and image encoders, pretrained (Xu et al. 2018)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class DamsmConfig:
    name: str = "damsm"
    data: str = "data/shapes"         # a captioned folder (captions.jsonl) or AttnGAN's birds layout
    image_size: int = 64
    image_encoder: str = "cnn"        # "cnn" (from scratch) | "inception" (frozen ImageNet)
    cnn_width: int = 32
    dim: int = 256                    # D: shared word/region feature size (AttnGAN 256)
    embed_dim: int = 300              # word embedding size (AttnGAN 300)
    dropout: float = 0.5
    fc: bool = True                   # the seed project's extra Dense on the text features
    max_len: int = 18                 # AttnGAN TEXT.WORDS_NUM
    min_count: int = 1                # vocabulary frequency cut
    captions_per_image: int = 10
    batch_size: int = 48              # AttnGAN 48
    epochs: int = 600                 # AttnGAN 600 for birds
    lr: float = 0.002
    lr_decay: float = 0.98
    beta1: float = 0.5
    rnn_grad_clip: float = 0.25
    gamma1: float = 4.0
    gamma2: float = 5.0
    gamma3: float = 10.0
    flip: bool = False                # random horizontal flips (never for Shapes: left/right words)
    class_masking: bool = True        # same-class pairs are not negatives
    # Hard negatives: each image also against its caption with one attribute word swapped
    # ("shapes" or a word-group JSON, condgan/text/word_swap.py), so the encoders must separate
    # every attribute, not just the one that retrieves among random captions.  A selection may
    # weigh groups: "shapes:shape=3,colour,size".  None = AttnGAN.  A resume may change it.
    swap_negatives: str | None = None
    # With this probability a caption naming two values of one group (two objects' colours)
    # gets them exchanged instead: the negative that tests binding (word_swap.py).
    swap_exchange: float = 0.0
    seed: int = 0
    checkpoint_every_steps: int = 200   # also at every epoch end
    val_batches: int = 20             # validation loss batches per epoch
    rp_images: int = 2000             # held-out images used for R-precision
    max_train_images: int | None = None
    max_minutes: float = 0.0          # stop after this much training time (0 = no limit)
    sample_every_epochs: int = 1      # (a DAMSM run draws no samples)
    strategy: str = "default"
    tensorboard: bool = True
    verbose: int = 1

    def to_json(self) -> dict:
        return dataclasses.asdict(self)
