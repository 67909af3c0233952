"""CIFAR-10 from wherever the user has it.

`load_cifar10(source, split)` accepts:
  * ``"cifar10"`` — `keras.datasets.cifar10` (downloads once; needs the internet);
  * the original python batches folder (`cifar-10-batches-py/` with `data_batch_1..5`, `test_batch`);
  * the `cifar-10-python.tar.gz` tarball itself (read in place, not extracted);
  * a class-folder tree `ROOT/{train,test}/<class>/*.jpg` (e.g. `../shared/data/cifar10-jpeg.tar.gz`
    extracted), or a `.npz` array set.
The batches are pickles, so they go through the restricted unpickler.
"""
from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from condgan.data.arrays import ArraySet, load_array_set
from condgan.data.folders import import_class_folders
from condgan.data.safe_pickle import safe_load
from condgan.errors import UserError

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
SPLITS = ("train", "test")
_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def load_cifar10(source: str | os.PathLike, split: str = "train") -> ArraySet:
    if split not in SPLITS:
        raise UserError(f"split {split!r} is not known: use one of {SPLITS}")
    if str(source) == "cifar10":
        return _from_keras(split)
    path = Path(source)
    if not path.exists():
        raise UserError(f"CIFAR-10 source {str(path)!r} does not exist: pass the python batches "
                        "folder, cifar-10-python.tar.gz, a class-folder tree with train/ and test/, "
                        "or 'cifar10' to download with keras")
    if path.suffix == ".npz":
        return load_array_set(path)
    if path.is_file() and tarfile.is_tarfile(path):
        return _from_tarball(path, split)
    if (path / _BATCHES[split][0]).is_file():
        return _from_batches({name: (path / name).read_bytes() for name in _BATCHES[split]}, split)
    if (path / split).is_dir():
        return _with_source(import_class_folders(path / split, 32), f"class folders {path / split}")
    raise UserError(f"{str(path)!r} is not a CIFAR-10 copy: expected data_batch_1..5/test_batch, "
                    f"or {split}/<class>/ image folders")


def _from_batches(blobs: dict[str, bytes], split: str) -> ArraySet:
    xs, ys = [], []
    for name in _BATCHES[split]:
        batch = safe_load(blobs[name], allow_numpy=True, encoding="bytes", name=name)
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return ArraySet(np.concatenate(xs), np.concatenate(ys), list(CIFAR10_CLASSES),
                    {"source": f"CIFAR-10 python batches ({split})"})


def _from_tarball(path: Path, split: str) -> ArraySet:
    blobs: dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name)
            if member.isfile() and base in _BATCHES[split]:
                blobs[base] = tar.extractfile(member).read()
    missing = [b for b in _BATCHES[split] if b not in blobs]
    if missing:
        raise UserError(f"{str(path)!r} lacks {missing}: is it cifar-10-python.tar.gz?")
    return _with_source(_from_batches(blobs, split), f"tarball {path}")


def _from_keras(split: str) -> ArraySet:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as error:  # noqa: BLE001 - any download failure means the same fix
        raise UserError(f"could not download CIFAR-10 with keras ({error.__class__.__name__}): "
                        "pass a local copy with --data PATH instead") from None
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    return ArraySet(x.astype(np.uint8), y.reshape(-1).astype(np.int64), list(CIFAR10_CLASSES),
                    {"source": "keras.datasets.cifar10"})


def _with_source(data: ArraySet, source: str) -> ArraySet:
    data.meta["source"] = source
    return data
