"""The GAN-INT-CLS family's config (Reed et al. 2016, "Generative Adversarial Text to Image
Synthesis"): a DCGAN conditioned on a frozen, pretrained sentence encoder."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class IntClsConfig:
    name: str = "gan_int_cls"
    data: str = "data/shapes"  # a captioned folder (captions.jsonl) or AttnGAN's birds layout
    # The frozen sentence encoder: a DAMSM run (runs/damsm_NAME) or a local sentence-encoder
    # folder (sentence_encoder.keras + vocabulary.json, condgan/text/sentence_encoders.py).
    text_encoder: str = "runs/damsm_shapes"
    image_size: int = 64       # a power of two >= 16 (the paper: 64)
    latent_dim: int = 100      # the paper's z
    projected_dim: int = 128   # the text embedding's projection in G and in D (the paper's 128)
    g_channels: int = 64       # the paper's ngf
    d_channels: int = 64       # the paper's ndf
    # GAN-CLS: D also learns that a real image with a mismatched caption is fake.
    cls: bool = True
    # GAN-INT: G also draws from beta * t1 + (1 - beta) * t2 of two captions' embeddings.
    interpolation: bool = True
    interpolation_beta: float = 0.5
    interpolation_weight: float = 1.0   # the interpolated term's weight in G's loss
    # The discriminator and objective of the project's working Shapes GANs (all off: the paper's):
    # SNGAN's D (spectrally normalised convolutions and dense layers, no batch norm) ...
    spectral_norm: bool = False
    # ... a minibatch-standard-deviation channel in D at 4x4, before the text joins (ProGAN) ...
    minibatch_std: bool = False
    loss: str = "bce"          # "bce" (the paper's cross-entropy) or "hinge" (SNGAN's)
    # An EMA of G's weights (the G optimizer's, with warm-up), exported and drawn in the epoch's
    # grid; 0 keeps none (the paper keeps none).
    ema_decay: float = 0.0
    # Instance noise: std of Gaussian noise on every image D sees, taken linearly down to 0
    # over d_input_noise_steps (0: constant); what keeps D from winning at once on flat colours.
    d_input_noise: float = 0.0
    d_input_noise_steps: int = 0
    batch_size: int = 64       # the paper's
    epochs: int = 600          # the paper's
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    checkpoint_every_steps: int = 500
    sample_captions: int = 8   # held-out captions (rows) of the epoch's sample grid
    samples_per_caption: int = 4
    sample_every_epochs: int = 1
    max_train_images: int | None = None
    max_minutes: float = 0.0   # stop after this much training time (0 = no limit)
    strategy: str = "default"
    tensorboard: bool = True
    verbose: int = 1           # 1: a line per epoch (and a bar in a terminal); 2: Keras' own too

    def to_json(self) -> dict:
        return dataclasses.asdict(self)
