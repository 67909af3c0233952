"""Neural style transfer over HTTP (`condgan.style`).

  GET  /v1/style    the limits, the defaults, and whether the VGG19 weights are on this server
  POST /v1/style    multipart/form-data: files `content` and `style` (PNG, JPEG or WebP),
                    optional fields `size` and `steps` -> the result as image/png

Uploads are read into memory only (never a temporary file), each at most `max_file_bytes`,
decoded with Pillow to prove they are images, their pixel count checked from the header before
decoding (decompression bombs are refused).  A transfer takes the machine's CPU or GPU for
seconds to minutes, so one runs at a time per process; another request meanwhile gets 429.
Without the VGG19 weights the answer is 503 `weights_missing` with how to install them; the
network is loaded on the first transfer and kept.  Errors are `{"error": {"code", "message"}}`
(this blueprint answers its own, so it keeps that shape on any app).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, request

from condgan.errors import UserError
from condgan.serve.images import png_bytes
from condgan.serve.validation import ApiError
from condgan.image_io import WEB_FORMATS
from condgan.serve.uploads import decode_upload, int_field, read_upload
from condgan.style.transfer import MIN_SIZE, StyleSettings, transfer_style
from condgan.style.vgg import (CONTENT_LAYER, STYLE_LAYERS, WeightsMissing, load_vgg_features,
                               resolve_vgg_weights)

FILES = ("content", "style")
FIELDS = ("size", "steps")
CURL_EXAMPLE = "curl -F content=@photo.jpg -F style=@painting.jpg"
RETRY_AFTER_BUSY_S = 10
# The factory's defaults.  A transfer at 256 pixels costs about 0.7 s a step on two busy CPU
# cores, far less on a GPU; the caps keep one request within minutes on a CPU.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
DEFAULT_SIZE, MAX_SIZE = 256, 512
DEFAULT_STEPS, MAX_STEPS = 100, 300


def style_blueprint(*, vgg_weights: str | None = None, max_file_bytes: int = MAX_FILE_BYTES,
                    max_pixels: int = MAX_PIXELS, default_size: int = DEFAULT_SIZE,
                    max_size: int = MAX_SIZE, default_steps: int = DEFAULT_STEPS,
                    max_steps: int = MAX_STEPS,
                    network_factory: Callable[[], Any] | None = None) -> Blueprint:
    """The /v1/style routes.

    vgg_weights: the weights file (None: $CONDGAN_VGG19_WEIGHTS, else Keras' cache, looked up
    again on each request until found, so installing the file needs no restart).
    max_file_bytes, max_pixels: what each upload may weigh and decode to.
    network_factory: builds the feature network instead of loading the weights; a test hook
    (`lambda: load_vgg_features(random_weights_for_tests=True)`), never a server setting.
    """
    if not MIN_SIZE <= default_size <= max_size:
        raise UserError(f"default_size must be from {MIN_SIZE} to max_size={max_size}, got {default_size}")
    if not 1 <= default_steps <= max_steps:
        raise UserError(f"default_steps must be from 1 to max_steps={max_steps}, got {default_steps}")
    if max_file_bytes < 1 or max_pixels < 1:
        raise UserError("max_file_bytes and max_pixels must be positive")
    style = Blueprint("style", __name__)
    build_network = network_factory or (lambda: load_vgg_features(vgg_weights))
    transfer_lock = threading.Lock()
    network: list = []  # the loaded network, once a transfer has needed it
    limits = {"max_file_bytes": max_file_bytes, "max_pixels": max_pixels, "min_size": MIN_SIZE,
              "max_size": max_size, "max_steps": max_steps, "formats": list(WEB_FORMATS)}

    @style.errorhandler(ApiError)
    def api_error(error: ApiError):
        response = jsonify(error.body())
        response.status_code = error.status
        if error.status == 429:
            response.headers["Retry-After"] = str(RETRY_AFTER_BUSY_S)
        return response

    def weights_status() -> dict[str, Any]:
        if network or network_factory is not None:
            return {"available": True, "message": "ready"}
        try:
            resolve_vgg_weights(vgg_weights)
        except WeightsMissing as missing:
            return {"available": False, "message": str(missing)}
        return {"available": True, "message": "found; loaded on the first transfer"}

    def feature_network():
        if not network:
            try:
                network.append(build_network())
            except WeightsMissing as missing:
                raise ApiError(503, "weights_missing", str(missing)) from None
            except UserError as error:  # a damaged file: the server's to fix, not the client's
                raise ApiError(503, "weights_unusable", str(error)) from None
        return network[0]

    @style.get("/v1/style")
    def style_info():
        return jsonify({"defaults": {"size": default_size, "steps": default_steps},
                        "limits": limits, "weights": weights_status(),
                        "busy": transfer_lock.locked(),
                        "layers": {"content": CONTENT_LAYER, "style": list(STYLE_LAYERS)}})

    @style.post("/v1/style")
    def style_transfer():
        form, files = read_upload(FILES, FIELDS, max_file_bytes, CURL_EXAMPLE)
        size = int_field(form, "size", default_size, MIN_SIZE, max_size)
        steps = int_field(form, "steps", default_steps, 1, max_steps)
        images = {name: decode_upload(files, name, FILES, max_file_bytes, max_pixels, size)
                  for name in FILES}
        if not transfer_lock.acquire(blocking=False):
            raise ApiError(429, "busy", "a style transfer is running and they run one at a time "
                           f"(each takes the whole machine): retry in {RETRY_AFTER_BUSY_S} s")
        try:
            started = time.perf_counter()
            result = transfer_style(images["content"], images["style"],
                                    StyleSettings(size=size, steps=steps), network=feature_network())
        except UserError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        finally:
            transfer_lock.release()
        height, width = result.image.shape[:2]
        response = Response(png_bytes(result.image), mimetype="image/png")
        response.headers["Content-Disposition"] = 'inline; filename="style-transfer.png"'
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Style-Size"] = f"{width}x{height}"
        response.headers["X-Style-Steps"] = str(len(result.history))
        response.headers["X-Style-Loss"] = f"{result.history[-1].loss:.6g}" if result.history else ""
        response.headers["X-Style-Seconds"] = f"{time.perf_counter() - started:.2f}"
        return response

    return style
