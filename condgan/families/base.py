"""The contract of a model family: what the one training loop, the exporter, evaluation and
serving need from a kind of model.

A family is an instance of `Family` (one per folder under `condgan/families/`, registered in
`condgan.families.REGISTRY`).  Training goes through `condgan.runs.train_run`, which
calls, in this order: `check` (before any data is read), `prepare` (the data stream and the
record written to dataset.json), `build` (the compiled trainer, inside the distribution scope),
`start` (fresh runs only), `sampler`, `validation` and `callbacks` (each epoch), `finish` (the
run's end).  `export` writes a model folder through `condgan.model_folder`; `load` reads one back
as a `condgan.generator.Generator`.

The trainer `build` returns is a `keras.Model` with a `train_step` and two methods the loop uses
for checkpoints: `checkpoint_parts()` (prefix -> variables or arrays to save) and
`restorable_parts()` (prefix -> variables to assign on resume).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from condgan.config import dataclass_from_json
from condgan.errors import UserError

# Fields every family's config has: the loop reads them.
LOOP_FIELDS = ("name", "data", "batch_size", "epochs", "max_minutes", "seed",
               "checkpoint_every_steps", "sample_every_epochs", "strategy", "tensorboard", "verbose")
# What a resumed run may change in any family: its schedule and where the (same) data lives.
SCHEDULE_FIELDS = ("epochs", "max_minutes", "checkpoint_every_steps", "sample_every_epochs",
                   "verbose", "tensorboard", "data", "strategy", "steps_per_execution")


@dataclasses.dataclass
class Prepared:
    """What `prepare` hands to the other hooks: the batch stream (`steps_per_epoch`,
    `global_batch`, `distributed(strategy, epoch, skip)`), the data record written to the run's
    dataset.json (with a `fingerprint` a resumed run must match) and anything else the family's
    hooks share (loaded encoders, held-out data)."""
    stream: Any
    record: dict
    extras: dict = dataclasses.field(default_factory=dict)


class Family:
    kind: str = ""                      # the run kind written into config.json
    config_class: type = object         # its config dataclass (configs/*.py return one)
    card_kinds: tuple[str, ...] = ()    # the kinds its model folders' cards carry
    conditioning: str = "none"          # "none" | "class" | "caption" (a config may refine it)
    resumable: tuple[str, ...] = SCHEDULE_FIELDS
    exportable: bool = True             # False: its runs are used as they are (DAMSM)

    # --- configs -----------------------------------------------------------------------------
    def config_to_json(self, config) -> dict:
        return dataclasses.asdict(config)

    def config_from_json(self, fields: Mapping[str, Any]):
        return dataclass_from_json(self.config_class, dict(fields), f"{self.kind} config")

    def card_kind(self, config) -> str:
        return self.card_kinds[0] if self.card_kinds else self.kind

    # --- training ----------------------------------------------------------------------------
    def check(self, config) -> None:
        """Reject a config this family cannot train, before any data is read."""

    def prepare(self, config, data, run_dir: Path, say: Callable[[str], None]) -> Prepared:
        """Nothing may be written yet: `run_dir` may not exist (a new run); read what a resumed
        run kept there."""
        raise NotImplementedError

    def build(self, config, prepared: Prepared, distributed: bool):
        raise NotImplementedError

    def start(self, trainer, prepared: Prepared, config, strategy) -> None:
        """Work before the first epoch of a fresh run (not on resume)."""

    def sampler(self, trainer, prepared: Prepared, config, run_dir: Path):
        """A callable drawing the epoch's sample grid (uint8 images, `columns`), or None."""
        return None

    def validation(self, trainer, prepared: Prepared, config):
        """A callable giving numbers to add to each epoch's history line, or None."""
        return None

    def callbacks(self, trainer, prepared: Prepared, config) -> list:
        return []

    def finish(self, trainer, prepared: Prepared, config, sampler) -> dict:
        """Extra entries of the run's summary.json."""
        return {}

    # --- model folders -----------------------------------------------------------------------
    def export(self, run_dir: Path, config, out_dir: Path, *, checkpoint=None, weights: str = "ema",
               replace: bool = False, legacy_h5: bool = True, say: Callable[[str], None] = print) -> Path:
        raise UserError(f"{self.kind} runs are not exported as models: use the run folder itself")

    def load(self, path: str | os.PathLike, card: Mapping[str, Any]):
        raise NotImplementedError


def prepare_array_set(config, data) -> Prepared:
    """`prepare` for the families that train on an in-memory labelled image set (the GAN and the
    VAE): `data` (an ArraySet from a test or notebook) or `config.data` loaded at the config's
    image size and classes, streamed in the config's batches; the record names its classes and
    fingerprint."""
    from condgan.data.sources import load_training_set
    from condgan.train.array_stream import ArrayStream

    if data is None:
        data = load_training_set(config.data, config.image_size, config.classes)
    if data.image_size != config.image_size:
        raise UserError(f"images are {data.image_size}px but the config says image_size="
                        f"{config.image_size}: set image_size={data.image_size} or resize the data")
    record = {"classes": data.classes, "fingerprint": data.fingerprint(), "num_images": len(data),
              "source": data.meta.get("source", str(config.data))}
    stream = ArrayStream(data, config.batch_size, config.seed, config.cache)
    return Prepared(stream, record, {"classes": list(data.classes)})
