"""The conditional VAE's config."""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class CvaeConfig:
    name: str = "cvae"
    # data
    data: str = "data/cifar10"            # anything condgan.data.sources.load_training_set accepts
    classes: list[str] | None = None      # keep only these classes
    conditional: bool = True              # False: ignore labels, an unconditional VAE
    image_size: int = 32
    cache: bool = True
    # model
    latent_dim: int = 64
    encoder_channels: int = 64
    decoder_channels: int = 64
    decoder_conditioning: str = "projection"  # concat | projection (the decoder is the DCGAN G)
    # objective and optimisation
    kl_weight: float = 1.0                # beta of beta-VAE; 1 is the ELBO
    kl_warmup_steps: int = 2000           # the KL weight ramps from 0 over these steps
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int = 64
    # schedule and bookkeeping
    epochs: int = 20
    max_minutes: float = 0.0              # stop after this wall-clock budget (0: no budget)
    seed: int = 0
    checkpoint_every_steps: int = 500
    sample_every_epochs: int = 1
    samples_per_class: int = 10
    held_out_images: int = 2000           # test images the epoch's held-out ELBO is measured on
    strategy: str = "default"             # default | mirrored (TF) | data_parallel (JAX)
    steps_per_execution: int = 1          # steps per compiled call between callbacks
    tensorboard: bool = True
    verbose: int = 1

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
