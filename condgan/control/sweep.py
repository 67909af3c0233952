"""Sweeps for looking at an edit: the same seeds drawn at a row of strengths."""
from __future__ import annotations

from typing import Sequence

import numpy as np

DEFAULT_STRENGTHS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def edit_sweep(generator, name: str, seeds: Sequence[int],
               strengths: Sequence[float] = DEFAULT_STRENGTHS, directions=None) -> np.ndarray:
    """uint8 (len(seeds) * len(strengths), H, W, 3): one row per seed, one column per strength
    of the edit `name` along `directions` (default: the ones stored beside the model);
    strength 0 is the image as drawn."""
    directions = directions if directions is not None else generator.directions
    if directions is None:
        from condgan.errors import UserError
        raise UserError(f"model {generator.name!r} has no attribute directions: find them with "
                        "`python -m condgan find-directions`")
    columns = [generator.generate_moved(list(seeds), None, directions.offset(directions.check(
        {name: float(s)})), directions.space) for s in strengths]
    pixels = np.stack(columns, axis=1).reshape(-1, *columns[0].shape[1:])
    return np.rint(pixels).astype(np.uint8)
