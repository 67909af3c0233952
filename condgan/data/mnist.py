"""MNIST digits from the original IDX files (LeCun et al.), as array sets the GAN family reads.

`write_mnist(source, out_dir)` accepts a folder holding the IDX files (`.gz` or not):
`t10k-images-idx3-ubyte` + `t10k-labels-idx1-ubyte`, and, when present, the training pair
`train-images-idx3-ubyte` + `train-labels-idx1-ubyte`; or `"mnist"` to download both with Keras.
With both splits, `train.npz` and `test.npz` are MNIST's own; with the 10,000 test digits alone,
they are split per digit into `train.npz` (80 %) and `test.npz` (20 %, a fixed seed), and the
sidecars say so.

Digits become 32x32 RGB images: the 28x28 digit centred on a 2-pixel black border (LeNet-5's
input size; a power of two for the DCGAN builders, no resampling) and the grey level copied to
the three channels, so every GAN recipe, the reference classifier and the server take them as
they take CIFAR-10.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from condgan.data.arrays import ArraySet, save_array_set
from condgan.errors import UserError

CLASSES = [str(digit) for digit in range(10)]
FILES = {"test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
         "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049   # 0x00000803: uint8, 3 dims; 0x00000801: uint8, 1 dim
PAD = 2                                 # 28 + 2 + 2 = 32
TEST_FRACTION = 0.2
SPLIT_SEED = 0


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The uint8 array of one IDX file (gzipped or not); a clear error for anything else."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise UserError(f"{path} is a damaged gzip file ({error}): download it again") from None
    if len(raw) < 8:
        raise UserError(f"{path} is not an IDX file (it has {len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or magic not in (IMAGE_MAGIC, LABEL_MAGIC):
        raise UserError(f"{path} is not an MNIST IDX file of uint8 images or labels (magic number "
                        f"{magic:#010x}, expected {IMAGE_MAGIC:#010x} or {LABEL_MAGIC:#010x})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    start, count = 4 + 4 * dims, int(np.prod(shape))
    if len(raw) != start + count:
        raise UserError(f"{path} holds {len(raw) - start} bytes of data where its header announces "
                        f"{count} ({' x '.join(map(str, shape))}): the file is cut short or damaged")
    return np.frombuffer(raw, np.uint8, count, start).reshape(shape)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(images (N, 28, 28), labels (N,)) of one split's IDX pair, or None if it is not there."""
    images_path, labels_path = (_find(folder, name) for name in FILES[split])
    if images_path is None and labels_path is None:
        return None
    if images_path is None or labels_path is None:
        raise UserError(f"{folder} has only one of {FILES[split]}: MNIST's {split} split needs "
                        "both the images and the labels file")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels) or labels.max() > 9:
        raise UserError(f"{images_path.name} and {labels_path.name} do not make an MNIST split "
                        f"(images {images.shape}, labels {labels.shape})")
    return images, labels.astype(np.int64)


def to_rgb32(digits: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> (N, 32, 32, 3): a black border, the grey level in every channel."""
    padded = np.pad(digits, ((0, 0), (PAD, PAD), (PAD, PAD)))
    return np.repeat(padded[..., None], 3, axis=-1)


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): `fraction` of every digit to test, the same for the seed."""
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == d))[:round(fraction * (labels == d).sum())]
                           for d in range(10)])
    mask = np.zeros(len(labels), bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def load_mnist(source: str | os.PathLike) -> dict[str, ArraySet]:
    """{"train", "test"} array sets from `source` (see the module docstring)."""
    if str(source) == "mnist":
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        splits = {"train": (x_train, y_train), "test": (x_test, y_test)}
        origin = "MNIST (keras.datasets)"
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise UserError(f"MNIST source {str(source)!r} is not a folder: pass the folder holding "
                            f"{FILES['test'][0]}(.gz) and {FILES['test'][1]}(.gz), or 'mnist' to download")
        splits = {split: read_split(folder, split) for split in FILES}
        if splits["test"] is None:
            raise UserError(f"{folder} has no {FILES['test'][0]}(.gz): MNIST's test split is the one "
                            "needed (the training split is optional)")
        origin = f"MNIST IDX files ({folder.name})"
    if splits["train"] is None:
        digits, labels = splits["test"]
        train, test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
        how = (f"the {len(labels):,} MNIST test digits split per digit: {100 - 100 * TEST_FRACTION:.0f} % "
               f"train, {100 * TEST_FRACTION:.0f} % test (seed {SPLIT_SEED})")
        splits = {"train": (digits[train], labels[train]), "test": (digits[test], labels[test])}
    else:
        how = "MNIST's own training and test splits"
    return {split: ArraySet(to_rgb32(x), y, CLASSES, {"source": f"{origin}: {how}, {split}",
                                                      "digits": how})
            for split, (x, y) in splits.items()}


def write_mnist(source, out_dir: str | os.PathLike, command: str | None = None) -> dict[str, Path]:
    """Write `out_dir/train.npz` and `out_dir/test.npz` (with sidecars); returns their paths."""
    sets = load_mnist(source)
    return {split: save_array_set(Path(out_dir) / f"{split}.npz", data, source=data.meta["source"],
                                  command=command)
            for split, data in sets.items()}
