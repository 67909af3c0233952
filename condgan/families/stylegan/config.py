"""The StyleGAN family's config: StyleGAN2-lite, unconditional or class-conditional."""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class StyleganConfig:
    name: str = "run"
    # data
    data: str = "cifar10"                 # anything condgan.data.sources.load_training_set accepts
    classes: list[str] | None = None      # keep only these classes (e.g. ["horse"])
    conditional: bool = False             # True: the class enters through the mapping network
    image_size: int = 32                  # a power of two >= 8
    cache: bool = True
    # networks (condgan.models.stylegan)
    latent_dim: int = 128                 # z
    w_dim: int = 128                      # W, the mapping network's output
    mapping_layers: int = 4
    mapping_lr_multiplier: float = 0.01   # the mapping network learns this much slower (StyleGAN's 0.01)
    # The default trains at about 0.77x the images/s of configs/cgan_cifar10.py on a CPU;
    # 128 at 4-8 px and 64 at 16-32 px ran at about 0.3x.
    channels: list[int] = dataclasses.field(default_factory=lambda: [128, 64, 48, 32])  # G and D widths at 4, 8, 16... px
    minibatch_std: bool = True            # D sees the batch's spread at 4x4
    # objective and optimisation
    style_mixing: float = 0.9             # share of images drawn from two w's, crossing at a random layer
    w_avg_beta: float = 0.995             # decay of the tracked average w (the truncation centre)
    truncation: float = 1.0               # psi the exported model samples with unless asked otherwise
    r1_gamma: float = 0.01                # weight of the R1 penalty on real images (0: off)
    r1_interval: int = 16                 # R1 every this many steps, scaled up to match (lazy)
    diffaugment: str = ""                 # e.g. "color,translation,cutout"
    d_input_noise: float = 0.0            # std of Gaussian noise on every image D sees (instance noise)
    d_input_noise_steps: int = 0          # ... taken linearly down to 0 over these steps (0: constant)
    g_lr: float = 0.0025
    d_lr: float = 0.0025
    beta1: float = 0.0
    beta2: float = 0.99
    batch_size: int = 64
    ema_decay: float = 0.999              # 0 disables the EMA generator
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
