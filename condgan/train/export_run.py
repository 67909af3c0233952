"""Turn a run directory into an exported model: rebuild G from the run's config, load the
EMA weights from the newest checkpoint (or a named one), write `models/<name>/` with its card."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from condgan.config import config_from_json
from condgan.errors import UserError
from condgan.export import (arrays_fingerprint, card_path, card_safe, carried_metrics,
                            check_export_target, check_model_name, export_generator)


WEIGHTS = ("ema", "live")


def build_ema_generator(run_dir: str | os.PathLike, weights: str = "ema", checkpoint=None):
    """(generator, config, dataset meta, checkpoint state) of a run.  `weights="ema"` (the
    default) takes the exponential moving average; "live" takes G's current weights, for runs
    too short for the average to have left its random start behind."""
    if weights not in WEIGHTS:
        raise UserError(f"weights {weights!r} is not known: use one of {WEIGHTS}")
    from condgan.models import build_generator
    from condgan.models.standing_stats import recompute_bn_statistics
    from condgan.train.checkpoint import assign_state, load_run_checkpoint

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise UserError(f"{str(run_dir)!r} is not a run directory (no config.json): pass runs/NAME")
    config = config_from_json(json.loads((run_dir / "config.json").read_text()))
    dataset = json.loads((run_dir / "dataset.json").read_text())
    _, state = load_run_checkpoint(run_dir, checkpoint)
    conditioning = config.conditioning if config.conditional else "none"
    classes = dataset["classes"] if config.conditional else []
    generator = build_generator(config.image_size, config.latent_dim, config.g_channels,
                                len(classes), conditioning)
    assign_state("ema" if weights == "ema" else "g", generator.variables, state)
    recompute_bn_statistics(generator, config.latent_dim, len(classes), config.seed)
    return generator, config, dataset, state


def export_run(run_dir: str | os.PathLike, name: str, models_dir: str | os.PathLike = "models",
               legacy_h5: bool = True, weights: str = "ema", checkpoint=None, *,
               replace: bool = False, say: Callable[[str], None] = print) -> Path:
    """Export a run to `models_dir/name`.  An existing model folder is replaced only with
    `replace=True`, and keeps its card's metrics only if the new export is the very same weights
    (`condgan.export.carried_metrics`)."""
    check_model_name(name)
    out = check_export_target(Path(models_dir) / name, replace)
    generator, config, dataset, state = build_ema_generator(run_dir, weights, checkpoint)
    step, images_seen = (int(v) for v in state["progress"])
    identity = {"run_dir": card_path(run_dir), "step": step, "weights": weights,
                "generator_fingerprint": arrays_fingerprint(state, "ema" if weights == "ema" else "g")}
    metrics = carried_metrics(out, identity, say) if replace else {}
    return export_generator(
        generator, out, kind="cgan" if config.conditional else "gan", latent_dim=config.latent_dim,
        classes=dataset["classes"] if config.conditional else None,
        training=card_safe(config.to_json()), dataset=card_safe(dataset), images_seen=images_seen,
        wall_time_s=round(float(state["wall_time_s"]), 1), metrics=card_safe(metrics),
        legacy_h5=legacy_h5, extra=identity)
