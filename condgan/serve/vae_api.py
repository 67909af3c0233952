"""What a model with an encoder (a VAE) does with a user's own pictures, over HTTP:

  POST /v1/models/<name>:reconstruct    file `image`, field `label` (class models)
                                        -> PNG: the image as the model sees it, and its reconstruction
  POST /v1/models/<name>:interpolate    files `first`, `second`, fields `label`, `steps`
                                        -> PNG: `steps` images from the first to the second

Uploads go through `uploads.py` (in memory, size-limited, decoded safely) and are centre-cropped
and resized to the model's image size.  A model without an encoder answers 400 naming the
models that have one.
"""
from __future__ import annotations

import numpy as np
from flask import Blueprint, Response

from condgan.errors import UserError
from condgan.image_io import fit_square
from condgan.serve.images import png_for_images
from condgan.serve.uploads import decode_upload, int_field, read_upload
from condgan.serve.validation import ApiError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_STEPS = 16


def vae_blueprint(registry, max_file_bytes: int = MAX_FILE_BYTES,
                  max_pixels: int = MAX_PIXELS) -> Blueprint:
    vae = Blueprint("vae", __name__)

    def encoder_model(name: str):
        served = registry.lookup(name)
        if not callable(getattr(served.model, "reconstruct", None)):
            able = sorted(n for n, m in registry.models.items()
                          if callable(getattr(m.model, "reconstruct", None)))
            raise ApiError(400, "no_encoder", f"model {name!r} ({served.kind}) has no encoder, so "
                           f"it cannot reconstruct or interpolate images: use one of {able} "
                           "(a VAE)")
        return served

    def label_of(served, form):
        if served.conditioning != "class":
            if form.get("label"):
                raise ApiError(400, "invalid_label", f"model {served.name!r} is unconditional: "
                               "send no label")
            return None
        label = form.get("label", "").strip()
        if not label:
            raise ApiError(400, "missing_label", f"model {served.name!r} needs the image's class: "
                           f"send a label field, one of {served.classes}")
        return label

    def images(served, uploaded, names):
        return [fit_square(decode_upload(uploaded, name, names, max_file_bytes, max_pixels),
                           served.image_size) for name in names]

    def png(pictures: np.ndarray) -> Response:
        return Response(png_for_images(pictures), mimetype="image/png")

    @vae.post("/v1/models/<model:name>:reconstruct")
    def reconstruct(name: str):
        served = encoder_model(name)
        names = ("image",)
        form, uploaded = read_upload(names, ("label",), max_file_bytes,
                                     f"curl -F image=@digit.png -F label=3 .../{name}:reconstruct")
        label = label_of(served, form)
        (picture,) = images(served, uploaded, names)
        try:
            rebuilt = served.model.reconstruct(picture[None], None if label is None else [label])
        except UserError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        return png(np.stack([picture, rebuilt[0]]))

    @vae.post("/v1/models/<model:name>:interpolate")
    def interpolate(name: str):
        served = encoder_model(name)
        names = ("first", "second")
        form, uploaded = read_upload(names, ("label", "steps"), max_file_bytes,
                                     f"curl -F first=@a.png -F second=@b.png .../{name}:interpolate")
        label = label_of(served, form)
        steps = int_field(form, "steps", 8, 2, MAX_STEPS)
        first, second = images(served, uploaded, names)
        try:
            return png(served.model.interpolate(first, second, label, steps))
        except UserError as error:
            raise ApiError(400, "invalid_request", str(error)) from None

    return vae
