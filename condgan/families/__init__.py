"""The registry of model families: kind -> the family that trains, exports and loads it.

A family is one folder under `condgan/families/` whose `family.py` defines `FAMILY`, an instance
of `condgan.families.base.Family`; adding a kind of model is that folder plus one entry below
(docs/ARCHITECTURE.md, "Add a model family").  Nothing outside a family's folder tests for a
kind by its name: commands, the front door, evaluation and serving ask the registry.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

from condgan.errors import UserError

# kind (in a run's config.json or a model's card) -> the module defining its family's FAMILY
REGISTRY = {
    "gan": "condgan.families.gan.family",
    "cgan": "condgan.families.gan.family",
    "attngan": "condgan.families.attngan.family",
    "damsm": "condgan.families.damsm.family",
    "cvae": "condgan.families.cvae.family",
    "gan_int_cls": "condgan.families.intcls.family",
    "stylegan": "condgan.families.stylegan.family",
}
KINDS = tuple(REGISTRY)


def get_family(kind: str):
    """The family of a run or card kind; a clear error for a kind nobody registered."""
    if kind not in REGISTRY:
        raise UserError(f"model kind {kind!r} is not known: condgan knows {', '.join(KINDS)}")
    return importlib.import_module(REGISTRY[kind]).FAMILY


def card_kinds() -> tuple[str, ...]:
    """The kinds a model folder's card may name (a family's runs may be of no servable kind)."""
    return tuple(kind for kind in REGISTRY if kind in get_family(kind).card_kinds)


def family_of_config(config):
    """The family whose config dataclass `config` is."""
    for kind in dict.fromkeys(REGISTRY.values()):
        family = importlib.import_module(kind).FAMILY
        if isinstance(config, family.config_class):
            return family
    raise UserError(f"{type(config).__name__} is not the config of a model family: load one with "
                    "condgan.load_config('configs/....py')")


def family_of_card(card: dict):
    return get_family(card["kind"])


def load_model_folder(path: str | os.PathLike):
    """A model folder loaded by its family (safe mode): a `condgan.generator.Generator`."""
    from condgan.model_folder import read_card

    card = read_card(path)
    return family_of_card(card).load(Path(path), card)


def read_run_config(run_dir: str | os.PathLike):
    """(family, config) of a run directory, from its config.json."""
    file = Path(run_dir) / "config.json"
    if not file.is_file():
        raise UserError(f"{str(run_dir)!r} is not a run directory (no config.json): pass the folder "
                        "`python -m condgan train` wrote, e.g. runs/NAME")
    try:
        saved: Any = json.loads(file.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{file} is not valid JSON ({error})") from None
    kind, fields = _kind_and_fields(saved)
    family = get_family(kind)
    return family, family.config_from_json(fields)


def _kind_and_fields(saved: dict) -> tuple[str, dict]:
    """A run's kind and config fields, from this version's `{"kind", "config"}` file or the
    layouts earlier versions wrote (a bare GAN config; {"config", "data"} for DAMSM; AttnGAN's
    data and DAMSM paths beside its config)."""
    if "config" not in saved:
        return "gan", saved
    fields = dict(saved["config"])
    kind = saved.get("kind") or "damsm"
    for key in ("data", "damsm"):   # the paths the run really used
        if key in saved:
            fields[key] = saved[key]
    return kind, fields


def write_run_config(run_dir: str | os.PathLike, family, config) -> None:
    from condgan.basics import write_json_atomic

    write_json_atomic(Path(run_dir) / "config.json",
                      {"kind": family.kind, "config": family.config_to_json(config)})
