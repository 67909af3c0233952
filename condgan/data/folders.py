"""Class folders (`root/<class>/<image>`) into a labelled array set.

Every image is decoded with Pillow, converted to RGB, centre-cropped (or padded) to a square
and resized.  Unreadable files are skipped with one warning that names them, never silently.
Decoding is spread over processes because it is CPU-bound (PIL releases the GIL only in parts).
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageOps

from condgan.data.arrays import ArraySet
from condgan.errors import UserError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
FIT_MODES = ("crop", "pad")


def prepare_image(image: Image.Image, size: int, fit: str = "crop") -> np.ndarray:
    """RGB uint8 (size, size, 3): centre crop (or pad with black) to square, then resize."""
    if fit not in FIT_MODES:
        raise UserError(f"fit mode {fit!r} is not known: use one of {FIT_MODES}")
    if image.mode != "RGB":
        image = image.convert("RGB")
    if fit == "crop":
        image = ImageOps.fit(image, (size, size), method=Image.BICUBIC)
    else:
        image = ImageOps.pad(image, (size, size), method=Image.BICUBIC, color=(0, 0, 0))
    return np.asarray(image, dtype=np.uint8)


def load_image_file(path: str, size: int, fit: str = "crop") -> np.ndarray | None:
    """The prepared image, or None when the file cannot be decoded."""
    try:
        with Image.open(path) as image:
            if image.format == "JPEG":
                # Let libjpeg decode at reduced scale when the target is small: much faster.
                image.draft("RGB", (size, size))
            return prepare_image(image, size, fit)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def list_class_folders(root: str | os.PathLike, classes: Sequence[str] | None = None
                       ) -> tuple[list[str], list[tuple[str, int]]]:
    """Class names (sorted, or as given) and (file, label) pairs in a deterministic order."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data folder {str(root)!r} does not exist: pass a folder with one "
                        "sub-folder of images per class")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes is None:
        classes = found
    missing = [c for c in classes if c not in found]
    if missing:
        raise UserError(f"class folder(s) {missing} not found in {str(root)!r}: "
                        f"available classes are {found}")
    files: list[tuple[str, int]] = []
    for label, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                files.append((str(path), label))
    if not files:
        raise UserError(f"no images found under {str(root)!r}: expected files such as "
                        f"{str(root)}/<class>/<image>.jpg with suffixes {sorted(IMAGE_SUFFIXES)}")
    return list(classes), files


def _load_chunk(args: tuple[list[str], int, str]) -> list[np.ndarray | None]:
    paths, size, fit = args
    return [load_image_file(p, size, fit) for p in paths]


def import_class_folders(root: str | os.PathLike, size: int, *, classes: Sequence[str] | None = None,
                         fit: str = "crop", workers: int | None = None) -> ArraySet:
    """Read `root/<class>/*` into an ArraySet of `size`x`size` RGB images."""
    names, files = list_class_folders(root, classes)
    paths = [f for f, _ in files]
    workers = workers or min(os.cpu_count() or 1, 8)
    chunks = [paths[i:i + 512] for i in range(0, len(paths), 512)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = [img for chunk in pool.map(_load_chunk, [(c, size, fit) for c in chunks])
                       for img in chunk]
    else:
        results = [img for c in chunks for img in _load_chunk((c, size, fit))]
    bad = [p for p, img in zip(paths, results) if img is None]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        log.warning("skipped %d unreadable image(s): %s", len(bad), shown)
    keep = [i for i, img in enumerate(results) if img is not None]
    if not keep:
        raise UserError(f"none of the {len(paths)} files under {str(root)!r} could be read as an image")
    x = np.stack([results[i] for i in keep])
    y = np.array([files[i][1] for i in keep], dtype=np.int64)
    keys = [os.path.relpath(paths[i], root) for i in keep]
    return ArraySet(x, y, names, {"keys": keys, "skipped": bad})
