"""CIFAR-10 from wherever the user has it.

`load_cifar10(source, split)` accepts:
  * ``"cifar10"`` — `keras.datasets.cifar10` (downloads once; needs the internet);
  * the original python batches folder (`cifar-10-batches-py/` with `data_batch_1..5`, `test_batch`);
  * the `cifar-10-python.tar.gz` tarball itself (read in place, not extracted);
  * a class-folder tree `ROOT/{train,test}/<class>/*.jpg`, or a `.tar.gz` of that tree;
  * a folder holding `train.npz` and `test.npz` array sets (what `write_cifar10` and
    `python -m condgan get-data cifar10` write: the fastest to read), or one `.npz` array set.
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
    if (path / f"{split}.npz").is_file():
        return load_array_set(path / f"{split}.npz")
    if path.is_file() and tarfile.is_tarfile(path):
        return _from_tarball(path, split)
    if (path / _BATCHES[split][0]).is_file():
        return _from_batches({name: (path / name).read_bytes() for name in _BATCHES[split]}, split)
    if (path / split).is_dir():
        return _with_source(import_class_folders(path / split, 32), f"class folders {path.name}/{split}")
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
    """`cifar-10-python.tar.gz` (pickled batches) or a tarball of `{train,test}/<class>/*.jpg`,
    read in place."""
    blobs: dict[str, bytes] = {}
    images: list[tuple[str, str, bytes]] = []   # (class, member name, encoded image)
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            base = os.path.basename(member.name)
            parts = Path(member.name).parts
            if base in _BATCHES[split]:
                blobs[base] = tar.extractfile(member).read()
            elif len(parts) >= 3 and parts[-3] == split and parts[-2] in CIFAR10_CLASSES:
                images.append((parts[-2], member.name, tar.extractfile(member).read()))
    if images:
        return _with_source(_from_encoded(images), f"{path.name} ({split})")
    missing = [b for b in _BATCHES[split] if b not in blobs]
    if missing:
        raise UserError(f"{str(path)!r} lacks {missing} and has no {split}/<class>/ images: is it "
                        "cifar-10-python.tar.gz or a tarball of CIFAR-10 class folders?")
    return _with_source(_from_batches(blobs, split), f"{path.name} ({split})")


def _from_encoded(images: list[tuple[str, str, bytes]]) -> ArraySet:
    """Decode (class, name, bytes) triples in a fixed order (class, then file name)."""
    import io

    from PIL import Image

    images.sort(key=lambda item: (CIFAR10_CLASSES.index(item[0]), item[1]))
    x = np.stack([np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"), dtype=np.uint8)
                  for _, _, blob in images])
    y = np.array([CIFAR10_CLASSES.index(name) for name, _, _ in images], dtype=np.int64)
    return ArraySet(x, y, list(CIFAR10_CLASSES), {})


def write_cifar10(source: str | os.PathLike, out_dir: str | os.PathLike, command: str | None = None
                  ) -> dict[str, Path]:
    """Read CIFAR-10 from any source `load_cifar10` accepts and write `out_dir/train.npz` and
    `out_dir/test.npz` (with their .json sidecars), which every command then reads in a second."""
    from condgan.data.arrays import save_array_set

    out_dir = Path(out_dir)
    if out_dir.resolve() == Path(source).resolve():
        raise UserError(f"output folder {str(out_dir)!r} is the source itself: choose another -o")
    written = {}
    for split in SPLITS:
        data = load_cifar10(source, split)
        written[split] = save_array_set(out_dir / f"{split}.npz", data,
                                        source=f"CIFAR-10 {split} split from {data.meta.get('source')}",
                                        command=command)
    return written


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
