"""The GAN family's config: an unconditional GAN or a class-conditional GAN (cGAN) on images."""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class GanConfig:
    name: str = "run"
    # data
    data: str = "cifar10"                 # anything condgan.data.sources.load_training_set accepts
    classes: list[str] | None = None      # keep only these classes (e.g. ["horse"])
    conditional: bool = True              # False: ignore labels, train an unconditional GAN
    image_size: int = 32
    cache: bool = True
    # model
    architecture: str = "dcgan"           # dcgan | resnet (condgan.models.resnet_gan)
    conditioning: str = "projection"      # none | concat | projection (see condgan.models.dcgan)
    latent_dim: int = 128
    g_channels: int = 64
    d_channels: int = 64
    spectral_norm: bool = True
    d_dropout: float = 0.0
    minibatch_std: bool = False           # D sees the batch's spread (ProGAN), against collapse (dcgan)
    # objective and optimisation
    loss: str = "hinge"                   # hinge | bce
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.0
    beta2: float = 0.999
    batch_size: int = 64
    n_critic: int = 1                     # D updates per G update; 1 uses the fused step
    d_pretrain_steps: int = 0             # D-only steps before the adversarial loop
    ema_decay: float = 0.999              # 0 disables the EMA generator
    diffaugment: str = ""                 # e.g. "color,translation,cutout"
    d_input_noise: float = 0.0            # std of Gaussian noise on every image D sees (instance noise)
    d_input_noise_steps: int = 0          # ... taken linearly down to 0 over these steps (0: constant)
    aux_classifier_weight: float = 0.0    # AC-GAN class loss beside the projection (0: off)
    precision: str = "float32"            # or "mixed_bfloat16": bf16 arithmetic, float32 weights (GPU)
    # schedule and bookkeeping
    epochs: int = 10
    max_minutes: float = 0.0              # stop after this wall-clock budget (0: no budget)
    seed: int = 0
    checkpoint_every_steps: int = 500
    sample_every_epochs: int = 1
    samples_per_class: int = 10
    strategy: str = "default"             # default | mirrored | multiworker (TF) | data_parallel (JAX)
    steps_per_execution: int = 1          # steps per compiled call between callbacks (GPU: 8-32)
    tensorboard: bool = True
    verbose: int = 1

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
