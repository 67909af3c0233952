"""Small jobs every part of condgan shares: atomic JSON, hashing, image conversion and grids,
seeded noise, library versions.  It imports nothing of the project, so anything may import it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

# Seeds a user may give: what numpy and the JSON API both take without surprise.
SEED_MAX = 2**31 - 1
# White border between the images of a grid.
GRID_PAD = 2


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON to `path` through a temporary file and a rename, so a reader
    (or a crash) never sees half a file; the temporary name is the process's own, so two
    processes writing the same file never write into one temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """"sha256:<hex>" of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def digest_arrays(arrays: Iterable[np.ndarray], header: Any = None, length: int = 16) -> str:
    """A short content hash of arrays (their bytes in order), after an optional JSON header:
    the same content gives the same "sha256:..." on every machine."""
    digest = hashlib.sha256()
    if header is not None:
        digest.update(json.dumps(header).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return "sha256:" + digest.hexdigest()[:length]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats to uint8 with rounding (not truncation, which darkens by half a level)."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def seed_noise(seeds: Sequence[int], width: int) -> np.ndarray:
    """float32 (N, width): one standard-normal vector per seed from numpy's PCG64, so image i
    of any request depends only on its own seed, on every backend and machine."""
    return np.stack([np.random.default_rng(int(s)).standard_normal(width)
                     for s in seeds]).astype(np.float32)


def make_grid(images: np.ndarray, columns: int | None = None, pad: int = GRID_PAD, scale: int = 1,
              border: bool = True) -> np.ndarray:
    """uint8 (N, H, W, C) -> one uint8 RGB picture, images row-major with `pad` white pixels
    between them (and around them, with `border`); `columns` None: a near-square grid.
    `scale` repeats every pixel (nearest neighbour) for viewing small images."""
    images = np.asarray(images, dtype=np.uint8)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    count, height, width, _ = images.shape
    if columns is None:
        columns = int(np.ceil(np.sqrt(count)))
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    edge = pad if border else 0
    grid = np.full((rows * (height + pad) - pad + 2 * edge, columns * (width + pad) - pad + 2 * edge, 3),
                   255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = edge + r * (height + pad), edge + c * (width + pad)
        grid[top:top + height, left:left + width] = image
    if scale > 1:
        grid = np.kron(grid, np.ones((scale, scale, 1), dtype=np.uint8))
    return grid


def library_versions() -> dict[str, str]:
    """What a result was computed with: Python, numpy, scipy, Keras and its backend (and
    TensorFlow's version when it is the backend), condgan."""
    import keras
    import scipy

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "scipy": scipy.__version__, "keras": keras.__version__,
                "keras_backend": keras.backend.backend()}
    try:
        from importlib.metadata import version

        versions["condgan"] = version("condgan")
    except Exception:  # noqa: BLE001 - a checkout that was never installed
        pass
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    return versions
