"""Image uploads of the routes that take a user's own pictures (style transfer, a VAE's
reconstruct and interpolate): a multipart form parsed into memory only (never a temporary
file), each file size-limited, decoded with Pillow to prove it is an image (`condgan.image_io`:
pixel count checked from the header, decompression bombs refused)."""
from __future__ import annotations

import io

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from condgan.image_io import WEB_FORMATS, ImageRejected, decode_image
from condgan.serve.validation import ApiError

# What the multipart framing and small fields may add to the files.
FORM_OVERHEAD_BYTES = 64 * 1024
# Werkzeug applies its in-memory field limit to each 64 kB chunk it parses, files included, so
# it must exceed a chunk; the fields themselves are a few bytes.
FORM_FIELD_BYTES = 256 * 1024
REJECTION_STATUS = {"not_an_image": 400, "too_many_pixels": 400, "unsupported_format": 415}


def read_upload(files: tuple[str, ...], fields: tuple[str, ...], max_file_bytes: int,
                example: str):
    """(form, files) of the request's multipart body, parsed into memory; 413 past what the
    files may weigh together, 400 for a part not in `files` or `fields`.  `example` is a curl
    command line shown when the body is not multipart."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data with the files "
                       f"{' and '.join(files)} (e.g. {example})")
    limit = len(files) * max_file_bytes + FORM_OVERHEAD_BYTES
    try:
        # Our own parse of the body: the app's request size limit is for small JSON bodies,
        # and Werkzeug's default would spool files over 500 kB to a temporary file on disk.
        _, form, uploaded = parse_form_data(request.environ, stream_factory=_in_memory,
                                            max_content_length=limit,
                                            max_form_memory_size=FORM_FIELD_BYTES,
                                            max_form_parts=16, silent=False)
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", f"the upload is over {limit:,} bytes: each image "
                       f"may be at most {max_file_bytes:,} bytes") from None
    except ValueError as error:
        raise ApiError(400, "invalid_form", f"the multipart body could not be read ({error})") from None
    unknown = sorted((set(form) | set(uploaded)) - set(files) - set(fields))
    if unknown:
        raise ApiError(400, "invalid_field", f"unknown field(s) {unknown}: send the files "
                       f"{list(files)} and optionally the fields {list(fields)}")
    return form, uploaded


def _in_memory(total_content_length, content_type, filename, content_length=None):
    return io.BytesIO()


def int_field(form, name: str, default: int, low: int, high: int) -> int:
    raw = form.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ApiError(400, f"invalid_{name}", f"{name} must be a whole number from {low} to "
                       f"{high}, got {raw[:40]!r}")
    return value


def decode_upload(uploaded, name: str, files: tuple[str, ...], max_file_bytes: int,
                  max_pixels: int, longest_side: int | None = None):
    """The uploaded file `name` (one of `files`) as uint8 RGB (H, W, 3)."""
    upload = uploaded.get(name)
    if upload is None:
        raise ApiError(400, f"missing_{name}", f"the file {name!r} is missing: send "
                       f"{' and '.join(files)} as files of a multipart/form-data body")
    data = upload.stream.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:
        raise ApiError(413, "file_too_large", f"the {name} image is over the limit of "
                       f"{max_file_bytes:,} bytes: send a smaller file")
    if not data:
        raise ApiError(400, f"missing_{name}", f"the file {name!r} is empty")
    try:
        return decode_image(data, name=f"the {name} image", max_pixels=max_pixels,
                            formats=WEB_FORMATS, longest_side=longest_side)
    except ImageRejected as rejected:
        raise ApiError(REJECTION_STATUS[rejected.reason], rejected.reason, str(rejected)) from None
