"""Labelled array sets: `NAME.npz` (x uint8 (N,H,W,C), y int64 (N,)) plus `NAME.json`.

This is the contract between the scrapers, the importers and the trainers (DESIGN.md).  The
npz never holds object arrays, so it is always read with `allow_pickle=False`.  Pixels stay
uint8 on disk and are scaled to [-1, 1] only when a pipeline reads them.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from condgan.basics import digest_arrays, write_json_atomic
from condgan.errors import UserError

FORMAT_VERSION = 1


@dataclasses.dataclass
class ArraySet:
    """Images, integer labels and the metadata that says what the labels mean."""

    x: np.ndarray  # uint8 (N, H, W, C)
    y: np.ndarray  # int64 (N,)
    classes: list[str]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_arrays(self.x, self.y, self.classes)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def image_size(self) -> int:
        return int(self.x.shape[1])

    def select_classes(self, names: Sequence[str]) -> "ArraySet":
        """Keep only `names`, relabelled 0..len(names)-1 in the order given."""
        indices = [class_index(self.classes, name) for name in names]
        keep = np.isin(self.y, indices)
        remap = np.full(len(self.classes), -1, dtype=np.int64)
        remap[indices] = np.arange(len(indices))
        meta = dict(self.meta, selected_from=self.classes)
        if "keys" in meta:
            meta["keys"] = [k for k, m in zip(meta["keys"], keep) if m]
        return ArraySet(self.x[keep], remap[self.y[keep]], list(names), meta)

    def fingerprint(self) -> str:
        return fingerprint_arrays(self.x, self.y, self.classes)


def class_index(classes: Sequence[str], name: str | int) -> int:
    """Index of a class given by name or by index; a clear error listing the valid names."""
    if isinstance(name, (int, np.integer)) or (isinstance(name, str) and name.isdigit()):
        index = int(name)
        if 0 <= index < len(classes):
            return index
        raise UserError(f"class index {index} is out of range: use 0..{len(classes) - 1} "
                        f"or a name from {list(classes)}")
    if name in classes:
        return list(classes).index(name)
    raise UserError(f"unknown class {name!r}: choose one of {list(classes)}")


def validate_arrays(x: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> None:
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise UserError(f"images must be uint8 (N, H, W, 1|3), got {x.dtype} {x.shape}")
    if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer):
        raise UserError(f"labels must be integers of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= len(classes)):
        raise UserError(f"labels must lie in 0..{len(classes) - 1} for {len(classes)} classes, "
                        f"got {int(y.min())}..{int(y.max())}")


def fingerprint_arrays(x: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> str:
    """A short content hash: same pixels, labels and class names give the same fingerprint."""
    return digest_arrays([x, y.astype(np.int64)], header=[list(x.shape), list(classes)])


def sidecar_path(npz_path: str | os.PathLike) -> Path:
    return Path(npz_path).with_suffix(".json")


def save_array_set(path: str | os.PathLike, data: ArraySet, *, source: str,
                   command: str | None = None) -> Path:
    """Write `path` (.npz) and its `.json` sidecar atomically: a crash never leaves half a file."""
    path = Path(path)
    if path.suffix != ".npz":
        raise UserError(f"array set path {str(path)!r} must end in .npz, e.g. data/mine.npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(data.meta)
    meta.update(
        format_version=FORMAT_VERSION,
        classes=list(data.classes),
        source=source,
        num_images=len(data),
        image_size=[int(s) for s in data.x.shape[1:3]],
        channels=int(data.x.shape[3]),
        class_counts=np.bincount(data.y, minlength=len(data.classes)).tolist(),
        fingerprint=data.fingerprint(),
        command=command if command is not None else " ".join(sys.argv),
    )
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez(tmp, x=data.x, y=data.y.astype(np.int64))
    os.replace(tmp, path)
    write_json_atomic(sidecar_path(path), meta)
    return path


def load_array_set(path: str | os.PathLike) -> ArraySet:
    """Read an array set written by `save_array_set` (never unpickles anything)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"array set {str(path)!r} does not exist: build one with "
                        "`python dataset/build_arrays.py FOLDER -o data/NAME.npz`")
    with np.load(path, allow_pickle=False) as npz:
        if "x" not in npz or "y" not in npz:
            raise UserError(f"{str(path)!r} is not a condgan array set: it needs arrays 'x' and 'y'")
        x, y = npz["x"], npz["y"].astype(np.int64)
    side = sidecar_path(path)
    if side.exists():
        meta = json.loads(side.read_text())
        classes = list(meta.get("classes") or [])
    else:
        meta, classes = {}, []
    if not classes:
        classes = [str(i) for i in range(int(y.max()) + 1 if len(y) else 0)]
    return ArraySet(x, y, classes, meta)
