"""The library's front door: one function per step of the workflow, whatever the kind of model.

    config = condgan.load_config("configs/cgan_cifar10.py", ["max_minutes=10"])
    condgan.train_model(config, "runs/mine", data="data/cifar10")
    condgan.export_model("runs/mine", "mine")
    condgan.load_generator("models/mine").generate(labels=["horse"], seed=7)
    condgan.evaluate_model("models/mine", "data/cifar10", n=1000)

Each step asks the family registry (`condgan.families`) what to do for the model's kind.
Nothing here imports TensorFlow or Keras at import time: each function loads what its kind of
model needs when it is called, without TensorFlow's start-up noise (`condgan.quiet`).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from condgan.config import load_config  # noqa: F401  (the front door's config loader)
from condgan.quiet import import_keras_quietly


def train_model(config, run_dir: str | os.PathLike, *, data=None, damsm: str | os.PathLike | None = None,
                resume: bool | str = "auto", say=print) -> dict:
    """Train a run of `config`'s family into `run_dir`, or resume it (`resume="auto"`: when the
    folder already holds the run).  `data`: a path (it becomes the config's `data`) or, for the
    GAN family, an ArraySet already in memory; `damsm`: the pretrained DAMSM run an AttnGAN
    trains against (the config's `damsm`).  Returns the run's summary."""
    import_keras_quietly()
    from condgan.runs import train_run

    if isinstance(data, (str, os.PathLike)):
        config = dataclasses.replace(config, data=str(data))
        data = None
    if damsm is not None:
        config = dataclasses.replace(config, damsm=str(damsm))
    return train_run(config, run_dir, resume=resume, data=data, say=say)


def export_model(run_dir: str | os.PathLike, name: str, models_dir: str | os.PathLike = "models", *,
                 replace: bool = False, checkpoint: str | os.PathLike | None = None,
                 weights: str = "ema", legacy_h5: bool = True, formats=(), new_version: bool = False,
                 say=print) -> Path:
    """Write `models_dir/name/` from a run's newest checkpoint (or `checkpoint`); an existing
    model folder is replaced only with `replace=True`.  `new_version=True` writes the next
    version instead, `models_dir/name/<N>/` (versions kept side by side, the newest served).  `formats` ("saved_model", "onnx") adds
    the generator in those serving formats (`condgan.export_formats`).  `run_dir` may also be a
    model folder: it is copied under the new name with the formats added, and left as it was."""
    import_keras_quietly()
    from condgan.export_formats import check_formats
    from condgan.families import read_run_config
    from condgan.model_folder import CARD_FILE, check_export_target

    from condgan.model_folder import new_version_target

    target = new_version_target(models_dir, name) if new_version else Path(models_dir) / name
    out_dir = check_export_target(target, replace and not new_version)
    formats = check_formats(formats)
    if (Path(run_dir) / CARD_FILE).is_file():
        return _copy_with_formats(Path(run_dir), out_dir, formats)
    family, config = read_run_config(run_dir)
    out = family.export(Path(run_dir), config, out_dir, checkpoint=checkpoint, weights=weights,
                        replace=replace, legacy_h5=legacy_h5, say=say)
    return _copy_with_formats(out, out, formats) if formats else out


def _copy_with_formats(source: Path, out_dir: Path, formats) -> Path:
    """`source`'s model folder written as `out_dir` (the same folder: rewritten in place, by
    renames) with `formats` added; only Keras generators (kinds gan, cgan) have them."""
    import shutil

    from condgan.errors import UserError
    from condgan.export_formats import write_formats
    from condgan.generator import KerasGenerator
    from condgan.model_folder import read_card, write_model_folder

    if source.resolve() == out_dir.resolve() and not formats:
        return out_dir
    card = read_card(source)
    generator = load_generator(source) if formats else None   # only the formats need it
    if formats and not isinstance(generator, KerasGenerator):
        raise UserError(f"--format applies to one-network Keras generators (kinds gan and cgan); "
                        f"{str(source)!r} is a {card['kind']} model")

    def write_files(folder: Path) -> dict:
        files = {}
        for role, file_name in card.get("files", {}).items():
            copy = shutil.copytree if (source / file_name).is_dir() else shutil.copy2
            copy(source / file_name, folder / file_name)
            files[role] = file_name
        return {**files, **write_formats(generator, folder, formats)}

    return write_model_folder(out_dir, {**card, "name": out_dir.name}, write_files)


def load_generator(path: str | os.PathLike):
    """A model folder, loaded in Keras safe mode (no code runs from the files), as a
    `condgan.generator.Generator`: `generate(...)` returns uint8 images for every kind."""
    import_keras_quietly()
    from condgan.families import load_model_folder

    return load_model_folder(path)


def evaluate_model(model_dir: str | os.PathLike, data: str | os.PathLike, *, n: int = 10000,
                   write_card: bool = True, replace: bool = False, **options) -> dict:
    """Measure an exported model against `data` with the metrics its kind supports
    (`condgan.metrics.registry`) and write them into its card; a metric the card already has is
    replaced only with `replace=True`."""
    import_keras_quietly()
    from condgan.metrics.evaluate import evaluate

    return evaluate(model_dir, data, n=n, write_card=write_card, replace=replace, **options)
