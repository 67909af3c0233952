"""Where a caption model looks for each word, over HTTP:

  POST /v1/models/<name>:attention    {"caption": ..., "seed": 0}
      -> JSON: the words read, one image per attentional stage with each word's attention map
         drawn over it (condgan.attngan_viz.attention_grid) as a base64 PNG;
         with "format": "png", that PNG alone

The caption and seed are checked as :generate checks them; other fields are refused.  A
model without word attention (StackGAN, GAN-INT-CLS, a class model) answers 400 naming the
served models that have it.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from condgan.attngan_viz import attention_grid
from condgan.errors import UserError
from condgan.serve import images as imaging
from condgan.serve.validation import (ApiError, parse_generate, parse_json_object,
                                      random_base_seed)


FIELDS = {"caption", "seed", "format"}


def attention_blueprint(registry) -> Blueprint:
    attention = Blueprint("attention", __name__)

    def attending_model(name: str):
        served = registry.lookup(name)
        if not getattr(served.model, "word_attention", False):
            able = sorted(n for n, m in registry.models.items()
                          if getattr(m.model, "word_attention", False))
            raise ApiError(400, "no_word_attention", f"model {name!r} ({served.kind}) has no word "
                           f"attention to show: use one of {able} (an AttnGAN)")
        return served

    @attention.post("/v1/models/<model:name>:attention")
    def word_attention(name: str):
        served = attending_model(name)
        body = parse_json_object(request.get_data(cache=False))
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise ApiError(400, "invalid_field", f"unknown field(s) {unknown}: an attention picture "
                           f"is of one image and takes {sorted(FIELDS)}")
        req = parse_generate({**body, "n": 1}, conditioning="caption", classes=None, max_n=1,
                             random_seed=random_base_seed,
                             example_caption=served.example_caption, directions=None,
                             model=f"model {served.name!r}", with_options=None)
        unknown = served.require_known_words(req.caption)
        try:
            result = served.model.attention(req.caption, seed=req.seeds[0])
        except UserError as error:
            raise ApiError(400, "invalid_request", str(error)) from None
        picture = attention_grid(result)
        if req.format == "png":
            response = Response(imaging.png_for_images(picture[None]), mimetype="image/png")
            response.headers["X-Seeds"] = str(req.seeds[0])
            response.headers["X-Words"] = ",".join(result["words"])
            return response
        return jsonify({"model": served.name, "version": served.version, "caption": req.caption,
                        "seed": req.seeds[0], "words": result["words"], "unknown_words": unknown,
                        "stages": len(result["maps"]),
                        "image": {"b64_json": imaging.b64_png(picture)}})

    return attention
