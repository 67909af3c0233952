"""Reference data for the metrics: anything `load_cifar10` reads, or any .npz array set."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.data.arrays import ArraySet, load_array_set
from condgan.errors import UserError


def load_reference(source: str, split: str) -> ArraySet:
    """The `split` of `source`; an .npz array set is one split already and is used whole."""
    if str(source).endswith(".npz"):
        data = load_array_set(source)
        data.meta.setdefault("source", str(source))
        return data
    from condgan.data.cifar10 import load_cifar10

    return load_cifar10(source, split)


def stratified_holdout(data: ArraySet, fraction: float, seed: int) -> tuple[ArraySet, ArraySet]:
    """Split off `fraction` of every class (at least one image each) as a test set."""
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(data), dtype=bool)
    for label in np.unique(data.y):
        members = np.flatnonzero(data.y == label)
        if len(members) < 2:
            raise UserError(f"class {data.classes[label]!r} has {len(members)} image(s): a held-out "
                            "test set needs at least 2 per class; add images or pass --test-data")
        take = max(1, int(round(fraction * len(members))))
        test_mask[rng.choice(members, take, replace=False)] = True

    def part(mask: np.ndarray, name: str) -> ArraySet:
        meta = dict(data.meta, source=f"{data.meta.get('source', 'array set')} ({name}, "
                    f"stratified {fraction:g} holdout, seed {seed})")
        meta.pop("keys", None)
        return ArraySet(data.x[mask], data.y[mask], data.classes, meta)

    return part(~test_mask, "train"), part(test_mask, "test")


def train_test_sets(data: str, test_data: str | None, holdout: float,
                    seed: int) -> tuple[ArraySet, ArraySet]:
    if test_data is not None:
        train, test = load_reference(data, "train"), load_reference(test_data, "test")
    elif str(data).endswith(".npz"):
        train, test = stratified_holdout(load_reference(data, "train"), holdout, seed)
    else:
        train, test = load_reference(data, "train"), load_reference(data, "test")
    if list(train.classes) != list(test.classes):
        raise UserError(f"test classes {test.classes} differ from training classes {train.classes}: "
                        "pass a --test-data built with the same class list")
    if train.x.shape[1:] != test.x.shape[1:]:
        raise UserError(f"test images are {test.x.shape[1:]} but training images {train.x.shape[1:]}: "
                        "build both sets at the same image size")
    return train, test


def data_name(source: str) -> str:
    """A short name for default paths: 'cifar10' for CIFAR-10 sources, else the file/folder stem."""
    path = Path(str(source).rstrip("/"))
    return "cifar10" if "cifar" in path.name.lower() else path.stem


def made_by_shapes(meta) -> bool:
    """Whether a data set's record (an array set's meta, or a captioned split's, which keeps it
    under "dataset") says condgan's Shapes generator (`make-shapes`) drew it: the images the
    Shapes attribute classifier reads."""
    from condgan.data import shapes

    records = (meta, meta.get("dataset"))
    return any(isinstance(record, dict)
               and str(record.get("generator") or "").startswith(shapes.__name__ + ".")
               for record in records)
