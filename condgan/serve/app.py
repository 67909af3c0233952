"""The Flask app factory: JSON API + web page over the models in a `models/` directory.

Routes (see `openapi.py` for the full description):
  GET  /healthz, /readyz, /v1/models, /v1/models/<name>, /openapi.json, / (the page)
  POST /v1/models/<name>:generate   label|caption, n, seed, format -> images
  POST /api/v1.0/bird               {"caption": ...} -> PNG (the seed AttnGAN route)
  /v2/...                           the Open Inference Protocol (KServe v2): inference_v2.py
  GET  /metrics                     Prometheus metrics: metrics.py
  /v1/recipes, /v1/jobs...          training jobs (admin token): jobs_api.py
  GET, POST /v1/style               neural style transfer: style_api.py
  POST /v1/models/<name>:reconstruct, :interpolate   a VAE on uploaded images: vae_api.py
  POST /v1/models/<name>:attention  a caption model's word attention maps: attention_api.py
  GET  /models, /train, /jobs, /style   the other pages
Every error is JSON `{"error": {"code", "message"}}` (see `validation.py`); on /v2 the
protocol's own `{"error": "<message>"}`.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from condgan.errors import UserError
from condgan.serve import images as imaging
from condgan.serve.batching import MicroBatcher
from condgan.jobs.store import JobStore
from condgan.jobs.submission import JobSettings
from condgan.jobs.worker import JobWorker
from condgan.serve.inference_v2 import v2_blueprint
from condgan.serve.jobs_api import jobs_blueprint
from condgan.serve.attention_api import attention_blueprint
from condgan.serve.style_api import style_blueprint
from condgan.serve.vae_api import vae_blueprint
from condgan.serve.metrics import ServingMetrics
from condgan.serve.openapi import NAME_PATTERN, openapi_spec
from condgan.serve.registry import Registry, ServedModel
from condgan.serve.validation import ApiError, parse_generate, parse_json_object, random_base_seed

log = logging.getLogger("condgan.serve")
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "FlaskApp"
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests"}


def _is_v2(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


class ModelNameConverter(BaseConverter):
    """Only well-formed model names match a route (so `x:generate` never reads as a name)."""

    regex = NAME_PATTERN.strip("^$")


def create_app(models_dir: str | Path = "models", *, max_n: int = 16,
               micro_batching: bool = True, max_wait_ms: float = 4.0,
               max_batch_images: int = 64, max_body_bytes: int = 16 * 1024,
               default_caption_model: str | None = None, loaders: dict | None = None,
               background_load: bool = True, warm_up: bool = True,
               web_dir: str | Path | None = None, jobs: JobSettings | None = None,
               admin_token: str | None = None, job_worker: bool = True) -> Flask:
    """Build the app; models load in a background thread (`/readyz` says when they are in).

    micro_batching: gather concurrent requests per model into one generator call (batching.py);
    on by default because it wins under concurrency (docs/serving.md has the measurements).
    jobs: where training jobs read and write (jobs_api.py); their routes need `admin_token` and
    answer 403 without one.  job_worker: run queued jobs from this process (a thread that
    starts child processes); off when a worker of its own runs them (`condgan jobs worker`).
    """
    if max_n < 1:
        raise UserError(f"max_n must be at least 1, got {max_n}")
    web = Path(web_dir) if web_dir else DEFAULT_WEB_DIR
    app = Flask("condgan.serve", template_folder=str(web / "templates"),
                static_folder=str(web / "static"), static_url_path="/static")
    app.url_map.converters["model"] = ModelNameConverter
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False
    registry = Registry(models_dir, loaders=loaders, warm_up=warm_up,
                        default_caption_model=default_caption_model)
    batchers: dict[str, MicroBatcher] = {}
    batchers_lock = threading.Lock()
    metrics = ServingMetrics()
    app.extensions["condgan"] = {"registry": registry, "batchers": batchers, "max_n": max_n,
                                 "micro_batching": micro_batching, "metrics": metrics}

    def counted_run(served: ServedModel):
        """The generator call, counted (images, and images per call) for /metrics."""
        def call(conditions, seeds, edits=None, options=None):
            metrics.generator_call(served.name, len(seeds))
            return served.run(conditions, seeds, edits, options)
        return call

    def batcher_for(served: ServedModel) -> MicroBatcher:
        key = f"{served.name}/{served.version}"  # each version of a model is its own network
        with batchers_lock:  # one worker thread per model version, made on its first request
            if key not in batchers:
                batchers[key] = MicroBatcher(
                    counted_run(served), max_images=max_batch_images, max_wait_s=max_wait_ms / 1000,
                    name=key)
            return batchers[key]

    def ready_or_503() -> None:
        if not registry.ready.is_set():
            raise ApiError(503, "not_ready", "models are still loading: retry in a few seconds "
                           "(GET /readyz says when they are in)")

    def find(name: str, version: str | int | None = None) -> ServedModel:
        return registry.lookup(name, None if version is None else str(version))

    def run(served: ServedModel, conditions: list, seeds: tuple[int, ...], edits=None,
            options=None):
        try:
            if edits or options or isinstance(conditions[0], dict):
                # its own noise offset, sampling options or class blend: not batched with others
                return counted_run(served)(conditions, seeds, edits, options)
            if micro_batching:
                return batcher_for(served).submit(conditions, seeds)
            return counted_run(served)(conditions, seeds)
        except UserError as error:
            raise ApiError(400, "invalid_request", str(error)) from None

    def generate(served: ServedModel, body: dict[str, Any]) -> Response:
        req = parse_generate(body, conditioning=served.conditioning, classes=served.classes,
                             max_n=max_n, random_seed=random_base_seed,
                             example_caption=served.example_caption,
                             directions=served.directions, model=f"model {served.name!r}",
                             with_options=served.with_options)
        if req.caption is not None:
            served.require_known_words(req.caption)
            condition: Any = req.caption
        else:
            condition = req.blend or req.label_index
        pictures, unknown = run(served, [condition] * req.n, req.seeds, req.edits, req.options)
        unknown_words = unknown[0] if unknown else ([] if req.caption is not None else None)
        if req.format == "png":
            response = Response(imaging.png_for_images(pictures), mimetype="image/png")
            response.headers["X-Seeds"] = ",".join(map(str, req.seeds))
            if unknown_words is not None:
                response.headers["X-Unknown-Words"] = ",".join(unknown_words)
            return response
        return jsonify({
            "model": served.name, "version": served.version, "kind": served.kind, "n": req.n, "seeds": list(req.seeds),
            "format": req.format, "image_size": served.image_size,
            "label": req.label_name, "label_index": req.label_index, "caption": req.caption,
            "unknown_words": unknown_words, "edits": req.edits, "blend": req.blend,
            "options": req.options,
            "images": [{"seed": seed, "b64_json": imaging.b64_png(image)}
                       for seed, image in zip(req.seeds, pictures)]})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        ready = registry.ready.is_set()
        body = {"ready": ready, "models": sorted(registry.models) if ready else [],
                "failed": dict(registry.failed) if ready else {},
                "load_seconds": registry.load_seconds}
        response = jsonify(body)
        response.status_code = 200 if ready else 503
        return response

    @app.get("/v1/models")
    def list_models():
        ready_or_503()
        registry.refresh()  # a training job's new model or version, without a restart
        return jsonify({"models": [registry.models[n].info() for n in sorted(registry.models)]})

    @app.get("/v1/models/<model:name>")
    @app.get("/v1/models/<model:name>/versions/<int:version>")
    def model_info(name: str, version: int | None = None):
        return jsonify(find(name, version).info())

    @app.post("/v1/models/<model:name>:generate")
    @app.post("/v1/models/<model:name>/versions/<int:version>:generate")
    def generate_route(name: str, version: int | None = None):
        body = parse_json_object(request.get_data(cache=False))
        if version is None and "version" in body:  # or the version named in the body
            version = body.pop("version")
            if not (isinstance(version, (str, int)) and not isinstance(version, bool)):
                raise ApiError(400, "invalid_version", f"version must be a model version such as "
                               f"2, got {json.dumps(version)}")
        return generate(find(name, version), body)

    @app.post("/api/v1.0/bird")
    def bird():
        ready_or_503()
        body = parse_json_object(request.get_data(cache=False))
        unknown = sorted(set(body) - {"caption", "seed"})
        if unknown:
            raise ApiError(400, "invalid_field", f"unknown field(s) {unknown}: this route takes "
                           "caption (and an optional seed)")
        served = registry.default_caption_model()
        if served is None:
            raise ApiError(404, "no_caption_model", "no caption (attngan) model is served: export "
                           "one into the models directory, or use /v1/models/<name>:generate")
        return generate(served, {**body, "n": 1, "format": "png"})

    @app.get("/openapi.json")
    def openapi():
        import condgan

        return jsonify(openapi_spec(sorted(registry.models) if registry.ready.is_set() else [],
                                    max_n=max_n, max_body_bytes=max_body_bytes,
                                    version=getattr(condgan, "__version__", "0"),
                                    jobs=jobs is not None))

    def page(template: str, **context):
        if not (web / "templates" / template).is_file():
            raise ApiError(404, "no_page", f"the web page is not installed (no {web}/templates/"
                           f"{template}): use the JSON API")
        return render_template(template, max_n=max_n, jobs_enabled=jobs is not None, **context)

    @app.get("/")
    def generate_page():
        return page("index.html", active="generate")

    @app.get("/models")
    def models_page():
        return page("models.html", active="models")

    @app.get("/train")
    def train_page():
        return page("train.html", active="train")

    @app.get("/jobs")
    def jobs_page():
        return page("jobs.html", active="jobs")

    @app.get("/style")
    def style_page():
        return page("style.html", active="style")

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        response = jsonify(error.body())
        response.status_code = error.status
        if error.status == 503:
            response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = HTTP_CODES.get(error.code or 500, "http_error")
        message = {404: f"no route {request.method} {request.path}: see /openapi.json",
                   405: f"{request.method} is not allowed on {request.path}",
                   413: f"the request body is over the {max_body_bytes}-byte limit: send a "
                        "smaller JSON object"}.get(error.code, error.description or code)
        # Under /v2 even a route's own 404/405/413 speaks the Open Inference Protocol's shape.
        response = jsonify({"error": message} if _is_v2(request.path)
                           else {"error": {"code": code, "message": message}})
        response.status_code = error.code or 500
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):  # a bug: log it, never show a traceback to the client
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "internal error; the server log has the details"
        response = jsonify({"error": message} if _is_v2(request.path)
                           else {"error": {"code": "internal", "message": message}})
        response.status_code = 500
        return response

    import condgan

    app.register_blueprint(v2_blueprint(registry, run, max_n, getattr(condgan, "__version__", "0")))
    app.register_blueprint(style_blueprint())
    app.register_blueprint(vae_blueprint(registry))
    app.register_blueprint(attention_blueprint(registry))
    store = None
    if jobs is not None:
        # Without a token the routes only answer 403: no jobs table is made on disk.
        store = JobStore(jobs.database) if admin_token else None
        app.register_blueprint(jobs_blueprint(store, jobs, admin_token))
        if store is not None and job_worker:
            worker = JobWorker(store, jobs, on_new_version=lambda name, version: registry.refresh())
            app.extensions["condgan"]["job_worker"] = worker.start()
    metrics.install(app, lambda: len(registry.models) if registry.ready.is_set() else 0,
                    jobs_by_status=store.count_by_status if store is not None else None)
    registry.start(background=background_load)
    return app
