"""Is this body an image we want?  Decode it with Pillow and say why not.

Reasons are short codes that end up in the manifest and the summary:
`not_an_image` (HTML error pages, text), `truncated`, `corrupt`, `too_small`, `too_large`
(pixel count over the decompression-bomb guard, checked from the header before decoding).
"""
from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
from PIL import Image

from condgan.scrape.net import Rejected

# Pillow names -> file suffixes we store under.
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
            "TIFF": ".tif", "MPO": ".jpg"}


@dataclasses.dataclass(frozen=True)
class ImageLimits:
    min_side: int = 64                 # smaller images are thumbnails or icons
    max_pixels: int = 50_000_000       # decompression-bomb guard, checked before decoding
    max_bytes: int = 40 * 1024 * 1024  # a body larger than this is not a photo we need


def validate_image(body: bytes, limits: ImageLimits) -> tuple[str, int, int]:
    """(suffix, width, height) of a fully decodable image, else raises `Rejected`."""
    if not body:
        raise Rejected("not_an_image", "empty body")
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"<head", b"<body")):
        raise Rejected("not_an_image", "the server sent HTML/JSON/text instead of an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(body))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("too_large", str(exc)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise Rejected("not_an_image", f"Pillow cannot identify it ({exc})") from None
    with image:
        width, height = image.size
        if width * height > limits.max_pixels:
            raise Rejected("too_large", f"{width}x{height} exceeds {limits.max_pixels} pixels")
        if min(width, height) < limits.min_side:
            raise Rejected("too_small", f"{width}x{height} is under {limits.min_side} pixels a side")
        suffix = SUFFIXES.get(image.format or "")
        if suffix is None:
            raise Rejected("unsupported_format", f"format {image.format}")
        try:
            image.load()  # a full decode: catches truncated and corrupt data
        except OSError as exc:
            reason = "truncated" if "truncated" in str(exc).lower() else "corrupt"
            raise Rejected(reason, str(exc)) from None
        except (ValueError, SyntaxError, EOFError) as exc:
            raise Rejected("corrupt", str(exc)) from None
    return suffix, width, height


def dhash(body: bytes) -> int:
    """64-bit difference hash (Krawetz, "Kind of Like That", 2013): near-identical images
    (re-encoded, resized, slightly recoloured) land within a few bits of each other."""
    with Image.open(io.BytesIO(body)) as image:
        image.draft("L", (32, 32))
        small = np.asarray(image.convert("L").resize((9, 8), Image.BILINEAR), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()  # 8x8 brightness gradients
    return int(np.packbits(bits).view(">u8")[0])


class NearDuplicateIndex:
    """Kept images' dHashes; `find` returns the key of one within `threshold` bits, if any."""

    def __init__(self, threshold: int = 6) -> None:
        self.threshold = threshold
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._keys: list[str] = []

    def find(self, value: int) -> tuple[str, int] | None:
        if not self._keys:
            return None
        distances = np.bitwise_count(self._hashes ^ np.uint64(value))
        best = int(np.argmin(distances))
        if int(distances[best]) <= self.threshold:
            return self._keys[best], int(distances[best])
        return None

    def add(self, key: str, value: int) -> None:
        self._hashes = np.append(self._hashes, np.uint64(value))
        self._keys.append(key)
