"""uint8 image arrays -> PNG bytes (one image, or a grid) and base64 for JSON.

PNG encoding through Pillow is deterministic (no timestamps or text chunks are written), so the
same pixels always give the same bytes, which is what lets the API promise identical bytes for
the same request and seed.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from condgan.basics import make_grid


def png_bytes(image: np.ndarray) -> bytes:
    """One uint8 (H, W, 3) or (H, W, 1) array as PNG."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def png_for_images(images: np.ndarray) -> bytes:
    """A single image as itself, several as one grid."""
    # several images: a near-square grid, white gutters between them and no outer border
    return png_bytes(images[0] if len(images) == 1 else make_grid(images, border=False))


def b64_png(image: np.ndarray) -> str:
    return base64.b64encode(png_bytes(image)).decode("ascii")
