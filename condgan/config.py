"""One dataclass holds every training option; configs/*.py files return one.

A config file defines `get_config() -> TrainConfig` and carries, in its docstring, the exact
command, the expected result and the expected runtime (big_vision style).  Command-line
`--set key=value` overrides are type-checked against the dataclass, and an unknown key is an
error that lists the valid ones: a typo never trains the wrong model silently.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Sequence

from condgan.errors import UserError


@dataclasses.dataclass
class TrainConfig:
    name: str = "run"
    # data
    data: str = "cifar10"                 # anything condgan.data.load_training_set accepts
    classes: list[str] | None = None      # keep only these classes (e.g. ["horse"])
    conditional: bool = True              # False: ignore labels, train an unconditional GAN
    image_size: int = 32
    cache: bool = True
    # model
    conditioning: str = "projection"      # none | concat | projection (see condgan.models.dcgan)
    latent_dim: int = 128
    g_channels: int = 64
    d_channels: int = 64
    spectral_norm: bool = True
    d_dropout: float = 0.0
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
    aux_classifier_weight: float = 0.0    # AC-GAN class loss beside the projection (0: off)
    # schedule and bookkeeping
    epochs: int = 10
    max_minutes: float = 0.0              # stop after this wall-clock budget (0: no budget)
    seed: int = 0
    checkpoint_every_steps: int = 500
    sample_every_epochs: int = 1
    samples_per_class: int = 10
    strategy: str = "default"             # default | mirrored | multiworker
    tensorboard: bool = True
    verbose: int = 1

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_fields() -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(TrainConfig)}


def load_config(path: str | os.PathLike | None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Load a config file (or the defaults) and apply `key=value` overrides."""
    config = TrainConfig()
    if path is not None:
        config = _load_config_file(Path(path))
    return apply_overrides(config, overrides)


def dataclass_from_json(cls, obj: dict[str, Any], what: str = "config"):
    """`cls(**obj)`, but an unknown key is a UserError listing the valid ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise UserError(f"{what} keys {unknown} do not exist: valid keys are {sorted(names)}")
    return cls(**obj)


def config_from_json(obj: dict[str, Any]) -> TrainConfig:
    return dataclass_from_json(TrainConfig, obj)


def apply_overrides(config: TrainConfig, overrides: Sequence[str]) -> TrainConfig:
    fields = config_fields()
    changes: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"override {item!r} must look like key=value, e.g. epochs=5")
        if key not in fields:
            raise UserError(f"config key {key!r} does not exist: valid keys are {sorted(fields)}")
        changes[key] = _parse_value(key, raw, getattr(config, key))
    return dataclasses.replace(config, **changes)


def _parse_value(key: str, raw: str, current: Any) -> Any:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # bare strings need no quotes: name=my_run
    if isinstance(current, bool) and isinstance(value, bool):
        return value
    if isinstance(current, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, int) \
            and not isinstance(value, bool):
        return value
    if isinstance(current, str) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(raw)
    if key == "classes" and (value is None or isinstance(value, list)):
        return value
    if key == "classes" and isinstance(value, str):
        return [c.strip() for c in value.split(",") if c.strip()]
    raise UserError(f"config key {key!r} needs a value like {current!r}, got {raw!r}")


def _load_config_file(path: Path) -> TrainConfig:
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} does not exist: see configs/ for examples")
    spec = importlib.util.spec_from_file_location(f"condgan_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except TypeError as error:  # an unknown TrainConfig keyword in the file
        raise UserError(f"config file {path}: {error}; valid keys are {sorted(config_fields())}") from None
    if not hasattr(module, "get_config"):
        raise UserError(f"config file {path} must define get_config() returning a TrainConfig")
    try:
        config = module.get_config()
    except TypeError as error:
        raise UserError(f"config file {path}: {error}; valid keys are {sorted(config_fields())}") from None
    if not isinstance(config, TrainConfig):
        raise UserError(f"get_config() in {path} must return condgan.config.TrainConfig")
    return config
