"""Image files in and out of the commands and routes that take a user's own pictures (style
transfer, a VAE's reconstructions): decoding untrusted bytes safely, resizing, saving.

Decoding is careful because the web API decodes what strangers upload: the pixel count is read
from the header and checked before any pixel is decoded (a small PNG can claim gigapixels:
a decompression bomb), Pillow's own bomb checks are turned into the same refusal, only the
formats asked for are accepted, and JPEGs are decoded at a reduced scale when that still
covers the size they will be resized to.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from condgan.errors import UserError

# What each upload may be; a browser sends these three.
WEB_FORMATS = ("PNG", "JPEG", "WEBP")
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


class ImageRejected(UserError):
    """Bytes that are not an acceptable image.  `reason` is one of "not_an_image",
    "unsupported_format", "too_many_pixels" (a decompression bomb is one of the last)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_image(data: bytes, *, name: str, max_pixels: int, formats: tuple[str, ...] | None = None,
                 longest_side: int | None = None) -> np.ndarray:
    """Bytes -> uint8 RGB (H, W, 3).  `name` says which input it is in messages; `formats`
    limits the accepted formats (Pillow's names; None: any Pillow reads); `longest_side` lets
    a JPEG decode at the smallest 1/2, 1/4 or 1/8 scale still at least that large."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Pillow warns about (rather than refuses) images between its limit and twice it.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRejected("too_many_pixels", f"{name} is refused: {error}") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ImageRejected("not_an_image", f"{name} is not an image Pillow can read: send "
                                f"{_names(formats)}") from None
    with image:
        if formats is not None and image.format not in formats:
            raise ImageRejected("unsupported_format", f"{name} is a {image.format} image: send "
                                f"{_names(formats)}")
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise ImageRejected("too_many_pixels", f"{name} is {width}x{height} pixels, over the "
                                f"limit of {max_pixels:,} pixels: send a smaller image")
        if longest_side is not None and image.format == "JPEG":
            image.draft("RGB", (longest_side, longest_side))
        try:
            image.load()
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation in EXIF
            return _rgb(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            raise ImageRejected("not_an_image", f"{name} could not be decoded ({error}): it is "
                                "truncated or damaged") from None


def _names(formats: tuple[str, ...] | None) -> str:
    if formats is None:
        return "an image"
    shown = [{"WEBP": "WebP"}.get(name, name) for name in formats]
    if len(shown) == 1:
        return f"a {shown[0]} image"
    return "a " + ", ".join(shown[:-1]) + f" or {shown[-1]} image"


def _rgb(image) -> np.ndarray:
    """RGB pixels; transparent parts are shown over white, as a browser would show them."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        image = canvas
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_image_file(path: str | Path, option: str, max_pixels: int = 200_000_000) -> np.ndarray:
    """A local image file named by a command-line option -> uint8 RGB."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"{option} {str(path)!r} is not a file: pass the path of an image "
                        "(PNG, JPEG, WebP, ...)")
    return decode_image(file.read_bytes(), name=f"{option} {str(path)!r}", max_pixels=max_pixels)


def working_size(width: int, height: int, longest_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is `longest_side`, aspect kept."""
    scale = longest_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_longest_side(image: np.ndarray, longest_side: int) -> np.ndarray:
    """uint8 RGB resized (up or down) so that its longer side is `longest_side` pixels."""
    from PIL import Image

    height, width = image.shape[:2]
    size = working_size(width, height, longest_side)
    if size == (width, height):
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)


def check_save_path(path: str | Path, option: str = "-o") -> str:
    """The Pillow format for an output file, from its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise UserError(f"{option} {str(path)!r}: end the name in one of "
                        f"{', '.join(SAVE_FORMATS)} (the format follows the extension)")
    return SAVE_FORMATS[suffix]


def save_image(image: np.ndarray, path: str | Path, option: str = "-o") -> Path:
    from PIL import Image

    file_format = check_save_path(path, option)
    options = {"quality": 95} if file_format in ("JPEG", "WEBP") else {}
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path, format=file_format, **options)
    return Path(path)


def fit_square(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 RGB centre-cropped to a square and resized to `size` x `size` (what a model of that
    image size takes)."""
    from PIL import Image

    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = image[top:top + side, left:left + side]
    if side == size:
        return np.ascontiguousarray(square)
    return np.asarray(Image.fromarray(square).resize((size, size), Image.Resampling.LANCZOS),
                      dtype=np.uint8)
