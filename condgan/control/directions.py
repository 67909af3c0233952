"""Latent directions stored beside a model: `directions.npz` (the unit vectors) and
`directions.json` (their names, scales, how they were found and how well they edit).

An edit names an attribute value and a strength, `{"position=center": 1.0}`.  Strength is measured
in the direction's own `scale`: the gap between the mean noise projection of images that show
the value and of those that do not, so strength 1 moves a typical image that lacks the value by
the distance that separates the two groups.  Edits add up: noise + sum(strength * scale * unit).

`space` says which of the model's latent spaces the vectors live in: "z", the noise a seed
draws (every generator), or "w", a StyleGAN's intermediate latent, the mapping network's output
(`condgan.families.stylegan.model`), where attributes are laid out more nearly along lines.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from condgan.errors import UserError

VECTORS_FILE = "directions.npz"
INFO_FILE = "directions.json"
STRENGTH_LIMIT = 3.0   # beyond this the noise leaves the region the generator was trained on
SPACES = ("z", "w")


@dataclass
class LatentDirections:
    names: list[str]                 # "attribute=value"
    units: np.ndarray                # float32 (K, noise_dim), unit length
    scales: np.ndarray               # float32 (K,)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.units = np.asarray(self.units, np.float32)
        self.scales = np.asarray(self.scales, np.float32)
        if self.units.ndim != 2 or not len(self.units) == len(self.names) == len(self.scales):
            raise UserError(f"directions: {len(self.names)} names, units of shape "
                            f"{self.units.shape} and {len(self.scales)} scales do not match")

        if self.space not in SPACES:
            raise UserError(f"directions: space {self.space!r} is not one of {', '.join(SPACES)}")

    @property
    def noise_dim(self) -> int:
        return int(self.units.shape[1])

    @property
    def space(self) -> str:
        """The latent space the directions live in: "z" (noise) or "w" (a StyleGAN's W)."""
        return self.info.get("space", "z")

    def attributes(self) -> dict[str, list[str]]:
        """{attribute: [values]} in the stored order."""
        out: dict[str, list[str]] = {}
        for name in self.names:
            attribute, value = name.split("=", 1)
            out.setdefault(attribute, []).append(value)
        return out

    def check(self, edits: Mapping[str, Any], model: str = "this model") -> dict[str, float]:
        """`edits` as {name: float strength}; UserError naming the bad entry and the valid ones."""
        if not isinstance(edits, Mapping):
            raise UserError(f'edits must be an object of "attribute=value": strength, e.g. '
                            f'{{"{self.names[0]}": 1.0}}')
        checked = {}
        for name, strength in edits.items():
            if name not in self.names:
                why = (" (its noise does not lay that value out along a line: find-directions "
                       "found no direction for it)" if name in self.info.get("not_linear", ()) else "")
                raise UserError(f"{model} has no edit {name!r}{why}: valid edits are "
                                f"{', '.join(self.names)}")
            if isinstance(strength, bool) or not isinstance(strength, (int, float, np.floating)) \
                    or not np.isfinite(strength):
                raise UserError(f"edit {name!r}: strength must be a number, got {strength!r}")
            if abs(float(strength)) > STRENGTH_LIMIT:
                raise UserError(f"edit {name!r}: strength {strength} is out of range: use "
                                f"-{STRENGTH_LIMIT:g} to {STRENGTH_LIMIT:g}")
            checked[name] = float(strength)
        return checked

    def offset(self, edits: Mapping[str, float]) -> np.ndarray:
        """float32 (noise_dim,): what `edits` (already checked) add to every noise row."""
        total = np.zeros(self.noise_dim, np.float32)
        for name, strength in edits.items():
            k = self.names.index(name)
            total += np.float32(strength) * self.scales[k] * self.units[k]
        return total

    def save(self, folder: str | os.PathLike) -> None:
        """Write both files, each atomically (a partial file never replaces a good one)."""
        folder = Path(folder)
        tmp = folder / (VECTORS_FILE + ".partial.npz")
        np.savez(tmp, units=self.units, scales=self.scales)
        os.replace(tmp, folder / VECTORS_FILE)
        text = json.dumps(dict(self.info, names=self.names), indent=1) + "\n"
        tmp_info = folder / (INFO_FILE + ".partial")
        tmp_info.write_text(text)
        os.replace(tmp_info, folder / INFO_FILE)


def load_directions(folder: str | os.PathLike) -> LatentDirections | None:
    """The directions stored in a model folder, or None when it has none."""
    folder = Path(folder)
    if not (folder / VECTORS_FILE).is_file():
        return None
    info = json.loads((folder / INFO_FILE).read_text())
    with np.load(folder / VECTORS_FILE, allow_pickle=False) as npz:
        units, scales = npz["units"], npz["scales"]
    names = info.pop("names")
    return LatentDirections(names, units, scales, info)


def describe_edits(directions: LatentDirections | None) -> dict[str, Any] | None:
    """What a client needs to build sliders: the attributes with their values and the range."""
    if directions is None:
        return None
    return {"attributes": directions.attributes(), "strength_range": [-STRENGTH_LIMIT, STRENGTH_LIMIT],
            "space": directions.space, "measured": directions.info.get("measured")}

