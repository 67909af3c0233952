"""The library's front door: one function per step of the workflow, whatever the kind of model.

    config = condgan.load_config("configs/cgan_cifar10.py", ["max_minutes=10"])
    condgan.train_model(config, "runs/mine", data="data/cifar10")
    condgan.export_model("runs/mine", "mine")
    condgan.load_generator("models/mine").generate(labels=["horse"], seed=7)
    condgan.evaluate_model("models/mine", "data/cifar10", n=1000)

Nothing here imports TensorFlow or Keras at import time: each function loads what its kind of
model needs when it is called, without TensorFlow's start-up noise (`condgan.quiet`).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from condgan.config import load_config  # noqa: F401  (the front door's config loader)
from condgan.errors import UserError
from condgan.quiet import import_keras_quietly


def config_kind(config) -> str:
    from condgan.config import TrainConfig
    from condgan.train.attngan_run import AttnGANConfig
    from condgan.train.damsm_trainer import DamsmConfig

    kinds = {TrainConfig: "gan", AttnGANConfig: "attngan", DamsmConfig: "damsm"}
    for cls, kind in kinds.items():
        if isinstance(config, cls):
            return kind
    raise UserError(f"{type(config).__name__} is not a condgan config: load one with "
                    "condgan.load_config('configs/....py')")


def train_model(config, run_dir: str | os.PathLike, *, data=None, damsm: str | os.PathLike | None = None,
          resume: bool | str = "auto", say=print) -> dict:
    """Train a run of `config`'s kind into `run_dir`, or resume it (`resume="auto"`: when the
    folder already holds the run).  `data`: an ArraySet or a data path (GAN/cGAN; default the
    config's `data`), a captioned folder (DAMSM, AttnGAN).  `damsm`: the pretrained DAMSM run
    an AttnGAN trains against.  Returns the run's summary."""
    import_keras_quietly()
    kind = config_kind(config)
    if kind == "gan":
        from condgan.train.loop import train as train_gan

        if isinstance(data, (str, os.PathLike)):
            config = dataclasses.replace(config, data=str(data))
            data = None
        return train_gan(config, run_dir, resume=resume, data=data, say=say)
    if data is None:
        raise UserError(f"a {kind} run needs data=: the captioned folder, e.g. data/shapes")
    if kind == "damsm":
        from condgan.train.damsm_trainer import pretrain_damsm

        return pretrain_damsm(config, data, run_dir, log=say)
    if damsm is None:
        raise UserError("an AttnGAN run needs damsm=: the pretrained DAMSM run folder, "
                        "e.g. runs/damsm_shapes")
    from condgan.train.attngan_run import train_attngan

    return train_attngan(config, data, damsm, run_dir, log_fn=say)


def export_model(run_dir: str | os.PathLike, name: str, models_dir: str | os.PathLike = "models", *,
           replace: bool = False, checkpoint: str | os.PathLike | None = None) -> Path:
    """Write `models_dir/name/` from a run's newest checkpoint (or `checkpoint`); an existing
    model folder is replaced only with `replace=True`."""
    import_keras_quietly()
    config_file = Path(run_dir) / "config.json"
    try:
        kind = json.loads(config_file.read_text()).get("kind") if config_file.is_file() else None
    except (json.JSONDecodeError, AttributeError):
        kind = None  # the exporter names the broken file
    if kind == "attngan":
        from condgan.attngan_export import export_run as export_attngan_run

        return export_attngan_run(run_dir, name, models_dir, checkpoint, replace=replace)
    from condgan.train.export_run import export_run

    return export_run(run_dir, name, models_dir, checkpoint=checkpoint, replace=replace)


def load_generator(path: str | os.PathLike):
    """An exported model folder, loaded in Keras safe mode (see `condgan.export`)."""
    import_keras_quietly()
    from condgan.export import load_generator as load

    return load(path)


def evaluate_model(model_dir: str | os.PathLike, data: str | os.PathLike, *, n: int = 10000,
             write_card: bool = True, replace: bool = False, **options) -> dict:
    """Measure an exported model against `data` (the metrics its kind supports) and write them
    into its card; a metric the card already has is replaced only with `replace=True`."""
    import_keras_quietly()
    from condgan.export import read_card

    if read_card(model_dir)["kind"] == "attngan":
        from condgan.metrics.attngan_evaluate import evaluate_attngan

        return evaluate_attngan(model_dir, data, n=n, write_card=write_card, replace=replace,
                                **options)
    from condgan.metrics.evaluate import evaluate_model as evaluate_classes

    return evaluate_classes(str(model_dir), str(data), n=n, write_card=write_card, replace=replace,
                          **options)
