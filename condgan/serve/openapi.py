"""The OpenAPI 3 description served at `/openapi.json`, built from what is actually served.

The model-name parameter is an enum of the loaded models, so clients (and Schemathesis) see the
real names; the limits (`n`, body size) are the running server's.
"""
from __future__ import annotations

from typing import Any, Sequence

from condgan.basics import SEED_MAX
from condgan.control.directions import STRENGTH_LIMIT
from condgan.families import card_kinds
from condgan.serve.validation import FORMATS, MAX_CAPTION_CHARS

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _schemas(max_n: int) -> dict[str, Any]:
    integer = {"type": "integer"}
    return {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "valid_labels": {"type": "array", "items": {"type": "string"}}}}}},
        "ModelInfo": {
            "type": "object",
            "required": ["name", "kind", "classes", "conditioning", "image_size", "version"],
            "properties": {
                "name": {"type": "string"}, "kind": {"type": "string", "enum": list(card_kinds())},
                "classes": _nullable({"type": "array", "items": {"type": "string"}}),
                "conditioning": {"type": "string", "enum": ["none", "label", "caption"]},
                "image_size": integer, "channels": integer, "latent_dim": _nullable(integer),
                "version": {"type": "string", "description": "a versioned model's version "
                            "number (the newest, served by default), else a content hash"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "exported_at": _nullable({"type": "string"}),
                "images_seen": _nullable(integer), "metrics": {"type": "object"},
                "edits": _nullable({
                    "type": "object", "description": "models with attribute directions: "
                    "{attributes: {attribute: [values]}, strength_range, space (z: the "
                    "noise, w: a StyleGAN's W), measured}"}),
                "class_blend": {"type": "boolean", "description": "class models that take a "
                                "blend of classes as their label (projection cGANs)"},
                "word_attention": {"type": "boolean", "description": "caption models whose later "
                                   "stages attend over the words (AttnGAN): POST :attention"},
                "options": {"type": "array", "items": {"type": "string"},
                            "description": "the sampling options a generate body may set for "
                                           "this model (StyleGAN: truncation)"},
                "option_defaults": {"type": "object", "description": "each option's value "
                                    "when a request leaves it out (StyleGAN: the card's psi)"},
                "example_caption": _nullable({
                    "type": "string", "description": "caption models: a caption whose words "
                    "the model knows (null for other kinds)"}),
                "example_captions": {"type": "array", "items": {"type": "string"},
                                     "description": "caption models: example_caption, then "
                                     "further examples whose every word the model knows "
                                     "(two-object captions on Shapes); empty for other kinds"}}},
        "GenerateRequest": {
            "type": "object", "additionalProperties": False,
            "description": "label for class-conditional models (cgan; one of the model's "
                           "classes), caption for caption models (attngan; the model's "
                           "example_caption is one it knows), neither for unconditional ones "
                           "(gan).",
            "properties": {
                "label": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0},
                                    {"type": "object", "additionalProperties": {
                                        "type": "number", "minimum": 0}}],
                          "description": "class name or index; or a class blend (projection "
                                         "cGANs), class -> weight, e.g. {\"cat\": 0.5, "
                                         "\"dog\": 0.5}: the weights are normalised to sum "
                                         "to 1"},
                "caption": {"type": "string", "minLength": 1, "maxLength": MAX_CAPTION_CHARS},
                "n": {"type": "integer", "minimum": 1, "maximum": max_n, "default": 1},
                "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX,
                         "description": "image i uses seed + i; random when absent"},
                "format": {"type": "string", "enum": list(FORMATS), "default": "b64_json"},
                "version": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 1}],
                            "description": "a version of the model (default: its newest)"},
                "edits": {"type": "object", "additionalProperties": {
                    "type": "number", "minimum": -STRENGTH_LIMIT, "maximum": STRENGTH_LIMIT},
                    "description": "models whose edits are not null: \"attribute=value\" -> "
                                   "strength, e.g. {\"position=center\": 1.5}; strength 1 moves "
                                   "an image by the gap between images with and without "
                                   "the value"},
                "truncation": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": "models whose options include it (StyleGAN): "
                                              "psi, how far each image's w stays from the "
                                              "average w (1: none; 0: the average image); "
                                              "default: the model card's"}}},
        "GenerateResponse": {
            "type": "object",
            "required": ["model", "kind", "n", "seeds", "format", "images", "image_size"],
            "properties": {
                "model": {"type": "string"}, "version": {"type": "string"}, "kind": {"type": "string"},
                "n": integer, "format": {"type": "string"}, "image_size": integer,
                "seeds": {"type": "array", "items": integer},
                "label": _nullable({"type": "string"}), "label_index": _nullable(integer),
                "caption": _nullable({"type": "string"}),
                "unknown_words": _nullable({"type": "array", "items": {"type": "string"}}),
                "edits": _nullable({"type": "object", "additionalProperties": {"type": "number"}}),
                "blend": _nullable({"type": "object", "additionalProperties": {"type": "number"}}),
                "options": _nullable({"type": "object", "additionalProperties": {"type": "number"}}),
                "images": {"type": "array", "items": {
                    "type": "object", "required": ["seed", "b64_json"],
                    "properties": {"seed": integer, "b64_json": {"type": "string"}}}}}},
        "BirdRequest": {
            "type": "object", "additionalProperties": False, "required": ["caption"],
            "properties": {"caption": {"type": "string", "minLength": 1,
                                       "maxLength": MAX_CAPTION_CHARS},
                           "seed": {"type": "integer", "minimum": 0, "maximum": SEED_MAX}}},
    }


def _v2_paths(name_param: dict) -> dict[str, Any]:
    """The Open Inference Protocol routes (condgan.serve.inference_v2); their bodies are the
    protocol's (kserve.github.io: "Open Inference Protocol"), errors `{"error": "<message>"}`."""
    error = {"description": "the protocol's error", "content": {"application/json": {"schema": {
        "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}
    any_json = {"description": "see the Open Inference Protocol", "content": {
        "application/json": {"schema": {"type": "object"}}}}
    paths = {
        "/v2": {"get": {"summary": "server metadata", "responses": {"200": any_json}}},
        "/v2/health/live": {"get": {"summary": "the process is up", "responses": {"200": any_json}}},
        "/v2/health/ready": {"get": {"summary": "models loaded", "responses": {
            "200": any_json, "503": any_json}}},
        "/v2/models/{name}": {"get": {"summary": "a model's input and output tensors",
                                      "parameters": [name_param],
                                      "responses": {"200": any_json, "404": error, "503": error}}},
        "/v2/models/{name}/ready": {"get": {"summary": "one model's readiness",
                                            "parameters": [name_param],
                                            "responses": {"200": any_json, "404": error}}},
        "/v2/models/{name}/infer": {"post": {
            "summary": "tensors in (seed INT64 [n]; label INT32 [n] or caption BYTES [n]), "
                       "image UINT8 [n, H, W, C] out", "parameters": [name_param],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["inputs"]}}}},
            "responses": {"200": any_json, "400": error, "404": error, "413": error, "503": error}}},
    }
    for route in ("", "/ready", "/infer"):
        paths[f"/v2/models/{{name}}/versions/{{version}}{route}"] = _with_version(
            paths[f"/v2/models/{{name}}{route}"])
    return paths


VERSION_PARAM = {"name": "version", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1}}


def _with_version(path_item: dict[str, Any]) -> dict[str, Any]:
    """The same operation on one version of a model (`.../versions/{version}...`)."""
    return {method: {**operation, "summary": operation["summary"] + " (one version)",
                     "parameters": [*operation.get("parameters", []), VERSION_PARAM]}
            for method, operation in path_item.items()}


def _jobs_paths() -> dict[str, Any]:
    """The training-job routes (condgan.serve.jobs_api): bearer token, JSON bodies."""
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    secured = {"security": [{"bearer": []}]}
    job = _json({"type": "object", "description": "the job: status, images seen, images/s, "
                 "losses, ETA, sample grid URL, log tail, model version"}, "the job")
    denied = {"401": _error("no bearer token"), "403": _error("wrong token, or jobs are off")}
    no_job = {"404": _error("no such job")}
    body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, "properties": {
            "config": {"type": "string", "description": "a recipe (GET /v1/recipes)"},
            "family": {"type": "string", "description": "or a kind: its first recipe whose "
                                                        "data is present"},
            "data": {"type": "string", "description": "a data set under the data root"},
            "name": {"type": "string", "pattern": NAME_PATTERN,
                     "description": "the model the job makes a new version of"},
            "set": {"type": "object", "description": "config fields to change"}}}}}}
    return {
        "/v1/recipes": {"get": {"summary": "recipes a job may train, their fields, data sets",
                                **secured, "responses": {"200": _json({"type": "object"}, "recipes"),
                                                         **denied}}},
        "/v1/jobs": {
            "get": {"summary": "the jobs, newest first", **secured,
                    "responses": {"200": _json({"type": "object"}, "jobs"), **denied}},
            "post": {"summary": "queue a training job", **secured, "requestBody": body,
                     "responses": {"202": job, "400": _error("invalid job"), **denied,
                                   "413": _error("body too large"),
                                   "429": _error("the queue is full")}}},
        "/v1/jobs/{job_id}": {"get": {"summary": "one job, with its history", **secured,
                                      "parameters": [job_id], "responses": {
                                          "200": job, "404": _error("no such job"), **denied}}},
        "/v1/jobs/{job_id}:cancel": {"post": {"summary": "stop a job (resumable)", **secured,
                                              "parameters": [job_id], "responses": {
                                                  "200": job, "409": _error("already ended"),
                                                  **no_job, **denied}}},
        "/v1/jobs/{job_id}:resume": {"post": {
            "summary": "queue a failed, cancelled or interrupted job again (optional "
                       "{\"set\": {...}}: a new schedule)", **secured, "parameters": [job_id],
            "responses": {"200": job, "400": _error("a change resuming cannot make"),
                          "409": _error("not resumable"), "413": _error("body too large"),
                          **no_job, **denied}}},
        "/v1/jobs/{job_id}/events": {"get": {
            "summary": "the job as Server-Sent Events (event: job, then end)", **secured,
            "parameters": [job_id], "responses": {"200": {"description": "event stream", "content": {
                "text/event-stream": {"schema": {"type": "string"}}}}, **no_job, **denied}}},
        "/v1/jobs/{job_id}/sample.png": {"get": {
            "summary": "the job's newest sample grid", **secured, "parameters": [job_id],
            "responses": {"200": {"description": "PNG", "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                "404": _error("no grid yet"), **denied}}},
    }


def _vae_paths(name_param: dict) -> dict[str, Any]:
    """A VAE's reconstruct and interpolate routes (condgan.serve.vae_api)."""
    from condgan.serve.vae_api import MAX_FILE_BYTES, MAX_STEPS

    png = {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    upload = {"type": "string", "format": "binary",
              "description": f"a PNG, JPEG or WebP image of at most {MAX_FILE_BYTES} bytes, "
                             "centre-cropped and resized to the model's size"}
    label = {"type": "string", "description": "the images' class (class models)"}
    errors = {"400": _error("no encoder (not a VAE), a missing or unknown label, not an image"),
              "404": _error("no such model"), "413": _error("a file over the limit"),
              "415": _error("not multipart/form-data, or not PNG, JPEG or WebP"),
              "503": _error("models are still loading")}

    def form(files: dict, fields: dict) -> dict:
        return {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": list(files), "additionalProperties": False,
            "properties": {**files, **fields}}}}}

    return {
        "/v1/models/{name}:reconstruct": {"post": {
            "summary": "a VAE: an uploaded image and its reconstruction, as one PNG",
            "parameters": [name_param], "requestBody": form({"image": upload}, {"label": label}),
            "responses": {"200": {"description": "two images side by side", "content": png},
                          **errors}}},
        "/v1/models/{name}:interpolate": {"post": {
            "summary": "a VAE: images along the line between two uploaded images' latents",
            "parameters": [name_param],
            "requestBody": form({"first": upload, "second": upload},
                                {"label": label, "steps": {"type": "integer", "minimum": 2,
                                                           "maximum": MAX_STEPS, "default": 8}}),
            "responses": {"200": {"description": "the steps, as one PNG grid", "content": png},
                          **errors}}},
    }


def _attention_paths(name_param: dict) -> dict[str, Any]:
    """A caption model's word attention maps (condgan.serve.attention_api)."""
    body = {"type": "object", "required": ["caption"], "additionalProperties": False,
            "properties": {"caption": {"type": "string"},
                           "seed": {"type": "integer", "minimum": 0, "description": "random if left out"},
                           "format": {"type": "string", "enum": ["b64_json", "png"]}}}
    return {"/v1/models/{name}:attention": {"post": {
        "summary": "an AttnGAN: where each word of a caption looks, one row per attentional stage "
                   "(the image, then a panel per word), as one picture",
        "parameters": [name_param],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "JSON (words, unknown_words, stages, seed, image.b64_json), or "
                                   "with format png the picture (X-Words, X-Seeds)",
                    "content": {"application/json": {"schema": {"type": "object"}},
                                "image/png": {"schema": {"type": "string", "format": "binary"}}}},
            "400": _error("no word attention (not an AttnGAN), a bad caption or seed, or an "
                          "unknown field"),
            "404": _error("no such model"), "503": _error("models are still loading")}}}}


def _style_paths() -> dict[str, Any]:
    """Neural style transfer (condgan.serve.style_api)."""
    from condgan.serve.style_api import MAX_FILE_BYTES, MAX_SIZE, MAX_STEPS

    png = {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    upload = {"type": "string", "format": "binary",
              "description": f"a PNG, JPEG or WebP image of at most {MAX_FILE_BYTES} bytes"}
    return {"/v1/style": {
        "get": {"summary": "style transfer's limits and defaults, and whether the VGG19 weights "
                           "are installed",
                "responses": {"200": _json({"type": "object", "required": ["defaults", "limits",
                                                                           "weights", "busy"],
                    "properties": {"defaults": {"type": "object"}, "limits": {"type": "object"},
                                   "weights": {"type": "object", "required": ["available", "message"],
                                               "properties": {"available": {"type": "boolean"},
                                                              "message": {"type": "string"}}},
                                   "busy": {"type": "boolean"}, "layers": {"type": "object"}}},
                    "limits and status")}},
        "post": {"summary": "neural style transfer (Gatys et al.): the content image repainted in "
                            "the style image's manner, as one PNG (one transfer at a time)",
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["content", "style"],
                     "additionalProperties": False,
                     "properties": {"content": upload, "style": upload,
                                    "size": {"type": "integer", "minimum": 32, "maximum": MAX_SIZE,
                                             "description": "longer side of the result in pixels "
                                                            "(default 256)"},
                                    "steps": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS,
                                              "description": "optimisation steps (default 100)"}}}}}},
                 "responses": {
                     "200": {"description": "the result; X-Style-Size (WxH), X-Style-Steps, "
                                            "X-Style-Loss and X-Style-Seconds describe it",
                             "content": png},
                     "400": _error("a file is missing, not an image, too many pixels (a "
                                   "decompression bomb), or size/steps out of range"),
                     "413": _error(f"a file over {MAX_FILE_BYTES} bytes"),
                     "415": _error("not multipart/form-data, or an image format other than PNG, "
                                   "JPEG or WebP"),
                     "429": _error("a transfer is running (retry after the Retry-After seconds)"),
                     "503": _error("the VGG19 weights are not installed (weights_missing) or not "
                                   "usable (weights_unusable); the message says how to fix it")}}}}


def openapi_spec(model_names: Sequence[str], *, max_n: int, max_body_bytes: int,
                 version: str, jobs: bool = False) -> dict[str, Any]:
    """The document; `jobs`: the app has the training-job routes."""
    name_schema: dict[str, Any] = {"type": "string", "pattern": NAME_PATTERN}
    if model_names:
        name_schema = {"type": "string", "enum": list(model_names)}
    name_param = {"name": "name", "in": "path", "required": True, "schema": name_schema}
    png = {"image/png": {"schema": {"type": "string", "format": "binary"}}}
    not_ready = _error("models are still loading (retry after the Retry-After seconds)")
    too_large = _error(f"request body over {max_body_bytes} bytes")
    generate_ok = {"description": "images: JSON with base64 PNGs, or one PNG (a grid when n > 1) "
                                  "with the seeds in the X-Seeds header",
                   "content": {"application/json": {"schema": _ref("GenerateResponse")}, **png}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "condgan serving API", "version": version,
                 "description": "Class labels or captions in, generated images out."},
        "paths": {
            "/healthz": {"get": {"summary": "the process is up", "responses": {
                "200": _json({"type": "object", "required": ["status"],
                              "properties": {"status": {"type": "string"}}}, "alive")}}},
            "/readyz": {"get": {"summary": "models loaded and warmed", "responses": {
                "200": _json(_ref("Readiness"), "ready"), "503": _json(_ref("Readiness"),
                                                                      "still loading")}}},
            "/v1/models": {"get": {"summary": "the served models", "responses": {
                "200": _json({"type": "object", "required": ["models"], "properties": {
                    "models": {"type": "array", "items": _ref("ModelInfo")}}}, "models"),
                "503": not_ready}}},
            "/v1/models/{name}": {"get": {"summary": "one model's card summary",
                                          "parameters": [name_param], "responses": {
                "200": _json(_ref("ModelInfo"), "the model"), "404": _error("no such model"),
                "503": not_ready}}},
            "/v1/models/{name}:generate": {"post": {
                "summary": "generate n images for a label or caption", "parameters": [name_param],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("GenerateRequest")}}},
                "responses": {"200": generate_ok, "400": _error("invalid request"),
                              "404": _error("no such model"), "413": too_large,
                              "503": not_ready}}},
            "/api/v1.0/bird": {"post": {
                "summary": "the seed AttnGAN route: caption in, PNG out (default caption model)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("BirdRequest")}}},
                "responses": {"200": {"description": "one PNG image", "content": png},
                              "400": _error("invalid request or no known word in the caption"),
                              "404": _error("no caption model is served"), "413": too_large,
                              "503": not_ready}}},
            "/openapi.json": {"get": {"summary": "this description", "responses": {
                "200": _json({"type": "object"}, "OpenAPI 3 document")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (text exposition format)",
                                 "responses": {"200": {"description": "metrics", "content": {
                                     "text/plain": {"schema": {"type": "string"}}}}}}},
            **_v2_paths(name_param),
            **(_jobs_paths() if jobs else {}),
            **_style_paths(),
            **_vae_paths(name_param),
            **_attention_paths(name_param),
        },
        **({"security": []} if jobs else {}),
        "components": {**({"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
                          if jobs else {}),
                       "schemas": {**_schemas(max_n), "Readiness": {
            "type": "object", "required": ["ready"], "properties": {
                "ready": {"type": "boolean"}, "models": {"type": "array", "items": {"type": "string"}},
                "failed": {"type": "object", "additionalProperties": {"type": "string"}},
                "load_seconds": _nullable({"type": "number"})}}}},
    }
    paths = spec["paths"]
    for route in ("", ":generate"):
        paths[f"/v1/models/{{name}}/versions/{{version}}{route}"] = _with_version(
            paths[f"/v1/models/{{name}}{route}"])
    return spec
