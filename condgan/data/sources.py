"""One entry point from a `--data` value to an ArraySet for training.

Accepted: ``cifar10`` (keras download), any CIFAR-10 copy `load_cifar10` reads, a `.npz` array
set (e.g. from `dataset/build_arrays.py`), or a folder of class folders.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from condgan.data.arrays import ArraySet, load_array_set
from condgan.data.cifar10 import load_cifar10
from condgan.data.folders import import_class_folders
from condgan.errors import UserError


def _is_cifar_copy(path: Path) -> bool:
    return (path.is_file() and path.suffix != ".npz") or (path / "data_batch_1").is_file() \
        or (path / "train.npz").is_file() \
        or ((path / "train").is_dir() and (path / "test").is_dir())


def has_test_split(source: str) -> bool:
    """Whether `source` is a copy with a held-out split of its own that
    `load_training_set(source, ..., split="test")` reads (data/cifar10, data/mnist, a CIFAR-10
    batches folder or class-folder tree); an array file or a folder of class folders has none."""
    path = Path(source)
    return (path / "test.npz").is_file() or (path / "test_batch").is_file() \
        or ((path / "train").is_dir() and (path / "test").is_dir())


def load_training_set(source: str, image_size: int, classes: Sequence[str] | None = None,
                      split: str = "train") -> ArraySet:
    path = Path(source)
    if source == "cifar10" or (path.exists() and _is_cifar_copy(path)):
        data = load_cifar10(source, split)
    elif path.suffix == ".npz":
        data = load_array_set(path)
    elif path.is_dir():
        data = import_class_folders(path, image_size)
    else:
        raise UserError(f"data {source!r} does not exist: pass 'cifar10', a CIFAR-10 copy, an "
                        ".npz array set or a folder of class folders")
    if classes:
        data = data.select_classes(list(classes))
    if data.image_size != image_size:
        data = ArraySet(_resize(data.x, image_size), data.y, data.classes, data.meta)
    return data


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(img.squeeze()).resize((size, size), Image.BICUBIC))
                     .reshape(size, size, -1) for img in x]).astype(np.uint8)
