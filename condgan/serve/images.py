"""uint8 image arrays -> PNG bytes (one image, or a grid) and base64 for JSON.

PNG encoding through Pillow is deterministic (no timestamps or text chunks are written), so the
same pixels always give the same bytes, which is what lets the API promise identical bytes for
the same request and seed.
"""
from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

GRID_PAD = 2
GRID_FILL = 255  # white gutters between grid cells


def png_bytes(image: np.ndarray) -> bytes:
    """One uint8 (H, W, 3) or (H, W, 1) array as PNG."""
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def grid(images: np.ndarray, pad: int = GRID_PAD) -> np.ndarray:
    """N images tiled row-major into a near-square grid with `pad`-pixel white gutters."""
    images = np.asarray(images, dtype=np.uint8)
    count, height, width, channels = images.shape
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    out = np.full((rows * height + (rows - 1) * pad, cols * width + (cols - 1) * pad, channels),
                  GRID_FILL, dtype=np.uint8)
    for i, image in enumerate(images):
        top, left = (i // cols) * (height + pad), (i % cols) * (width + pad)
        out[top:top + height, left:left + width] = image
    return out


def png_for_images(images: np.ndarray) -> bytes:
    """A single image as itself, several as one grid."""
    return png_bytes(images[0] if len(images) == 1 else grid(images))


def b64_png(image: np.ndarray) -> str:
    return base64.b64encode(png_bytes(image)).decode("ascii")
