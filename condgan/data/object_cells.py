"""Per-cell object labels of a captioned set whose images are laid out on a grid of positions.

A captioned folder may describe each image's objects (`captions.jsonl` "attributes", kept by
`condgan.data.captioned`), as Shapes does:
    {"background": "black", "objects": [{"shape": "square", "colour": "purple",
                                          "size": "small", "position": "bottom"}, ...]}
with the possible values in `dataset.json` "attribute_values" (the positions in grid order,
row by row).  A discriminator that reads each cell (an object-wise discriminator in the
spirit of Obj-GAN, Li et al. 2019, on a fixed grid instead of boxes) learns from these
labels on real images what the object in each cell is.
"""
from __future__ import annotations

import numpy as np

from condgan.errors import UserError

EMPTY = -1   # a cell without an object: its attributes are not scored


def parse_object_attributes(spec: str) -> tuple[str, ...]:
    """"shape,colour,size" -> ("shape", "colour", "size")."""
    names = tuple(name.strip() for name in str(spec).split(",") if name.strip())
    if not names:
        raise UserError(f"d_object_attributes={spec!r} names no attribute: list the objects' "
                        "attributes to read per cell, e.g. 'shape,colour,size'")
    return names


def attribute_values(dataset: dict | None, names: tuple[str, ...], source: str) -> dict[str, list]:
    """{"position": [...], name: [...] for each name} from a data set's dataset.json."""
    values = (dataset or {}).get("attribute_values") or {}
    missing = [n for n in ("position",) + names if not values.get(n)]
    if missing:
        raise UserError(f"{source}: dataset.json lists no attribute_values for {', '.join(missing)}; "
                        "per-cell object labels need the positions and each attribute's values "
                        "(Shapes has them: python -m condgan make-shapes -o data/shapes), "
                        "or set d_object_weight=0")
    cells = len(values["position"])
    side = int(round(cells ** 0.5))
    if side * side != cells:
        raise UserError(f"{source}: {cells} positions do not form a square grid; per-cell object "
                        "labels need rows x rows positions, listed row by row")
    return {n: list(values[n]) for n in ("position",) + names}


def object_cell_labels(objects_per_image: list, values: dict[str, list],
                       names: tuple[str, ...], source: str) -> np.ndarray:
    """int32 (N, cells, len(names)): each attribute's value index of the object in each cell,
    EMPTY where a cell has none.  `objects_per_image`: each image's "attributes" record."""
    positions = {p: i for i, p in enumerate(values["position"])}
    lookup = {n: {v: i for i, v in enumerate(values[n])} for n in names}
    labels = np.full((len(objects_per_image), len(positions), len(names)), EMPTY, np.int32)
    for row, record in enumerate(objects_per_image):
        objects = (record or {}).get("objects") if isinstance(record, dict) else None
        if objects is None:
            raise UserError(f"{source}: image {row} has no \"attributes\": {{\"objects\": [...]}} "
                            "record; per-cell object labels need every image's objects, "
                            "or set d_object_weight=0")
        for obj in objects:
            cell = positions.get(obj.get("position"))
            if cell is None:
                raise UserError(f"{source}: image {row} has an object at position "
                                f"{obj.get('position')!r}, not one of dataset.json's positions")
            for k, name in enumerate(names):
                value = lookup[name].get(obj.get(name))
                if value is None:
                    raise UserError(f"{source}: image {row} has {name}={obj.get(name)!r}, not one "
                                    f"of dataset.json's values for {name}")
                labels[row, cell, k] = value
    return labels
