"""The Open Inference Protocol (KServe's "v2" REST protocol, also spoken by Triton and MLServer)
over the served models, beside condgan's own /v1 routes:

  GET  /v2                          server metadata
  GET  /v2/health/live              200 while the process answers
  GET  /v2/health/ready             200 once the models are loaded, 503 before
  GET  /v2/models/<m>               model metadata: its input and output tensors
  GET  /v2/models/<m>/ready
  POST /v2/models/<m>/infer         tensors in, tensors out

A generator's tensors: `seed` INT64 [n] always (image i is drawn from seed[i], exactly as the
/v1 route draws it), plus `label` INT32 [n] (class indices) for a class-conditional model or
`caption` BYTES [n] for a caption model; the output `image` is UINT8 [n, H, W, C], its `data`
flat in row-major order.  Errors are the protocol's `{"error": "<message>"}` with the HTTP
status /v1 would give.  JSON only: the binary tensor extension is not offered.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from flask import Blueprint, jsonify, request

from condgan.basics import SEED_MAX
from condgan.serve.validation import MAX_CAPTION_CHARS, ApiError, parse_json_object

SEED = {"name": "seed", "datatype": "INT64"}
LABEL = {"name": "label", "datatype": "INT32"}
CAPTION = {"name": "caption", "datatype": "BYTES"}
INPUTS = {"none": (SEED,), "class": (LABEL, SEED), "caption": (CAPTION, SEED)}
REQUEST_FIELDS = {"id", "parameters", "inputs", "outputs"}
TENSOR_FIELDS = {"name", "shape", "datatype", "data", "parameters"}


def model_metadata(served) -> dict[str, Any]:
    size, channels = served.image_size, int(served.card.get("channels", 3))
    return {"name": served.name, "versions": list(served.versions) or [served.version], "platform": f"condgan-{served.kind}",
            "inputs": [{**tensor, "shape": [-1]} for tensor in INPUTS[served.conditioning]],
            "outputs": [{"name": "image", "datatype": "UINT8", "shape": [-1, size, size, channels]}]}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _flat(data: Any) -> list:
    """The protocol allows nested (row-major) or flat `data`; flat is what the checks read."""
    if isinstance(data, list) and any(isinstance(item, list) for item in data):
        return [leaf for item in data for leaf in _flat(item)]
    return data


def parse_infer(body: dict[str, Any], served, max_n: int) -> tuple[list, list[int]]:
    """(conditions, seeds) of an infer request, checked against the model's input tensors."""
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if unknown:
        raise ApiError(400, "invalid_field", f"unknown field(s) {unknown}: an inference request "
                       f"has {sorted(REQUEST_FIELDS)}")
    expected = {tensor["name"]: tensor for tensor in INPUTS[served.conditioning]}
    want = ", ".join(f"{t['name']} {t['datatype']} [n]" for t in expected.values())
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(t, dict) for t in inputs):
        raise ApiError(400, "invalid_inputs", f"inputs must be a list of tensors: {served.name} "
                       f"takes {want}")
    names = [t.get("name") for t in inputs]
    if sorted(map(str, names)) != sorted(expected):
        raise ApiError(400, "invalid_inputs", f"got input tensors {names}: {served.name} takes "
                       f"{want} (GET /v2/models/{served.name})")
    for wanted in body.get("outputs") or []:
        if not isinstance(wanted, dict) or wanted.get("name") != "image":
            raise ApiError(400, "invalid_outputs", f"unknown output {wanted!r}: the only output is "
                           "image UINT8 [n, H, W, C]")
    values, counts = {}, set()
    for tensor in inputs:
        name, spec = tensor["name"], expected[tensor["name"]]
        extra = sorted(set(tensor) - TENSOR_FIELDS)
        if extra:
            raise ApiError(400, "invalid_inputs", f"input {name}: unknown field(s) {extra}")
        if tensor.get("datatype") != spec["datatype"]:
            raise ApiError(400, "invalid_datatype", f"input {name} must be {spec['datatype']}, "
                           f"got {tensor.get('datatype')!r}")
        shape, data = tensor.get("shape"), _flat(tensor.get("data"))
        if not (isinstance(shape, list) and len(shape) == 1 and _int(shape[0]) and 1 <= shape[0] <= max_n):
            raise ApiError(400, "invalid_shape", f"input {name} has shape {shape!r}: use [n] with "
                           f"n from 1 to {max_n}")
        if not isinstance(data, list) or len(data) != shape[0]:
            raise ApiError(400, "invalid_data", f"input {name}: data must hold shape[0] = {shape[0]} "
                           f"values, got {len(data) if isinstance(data, list) else type(data).__name__}")
        values[name] = data
        counts.add(shape[0])
    if len(counts) > 1:
        raise ApiError(400, "invalid_shape", f"the inputs disagree on n: {sorted(counts)}; give one "
                       "value per image in each")
    seeds = values["seed"]
    if not all(_int(s) and 0 <= s < SEED_MAX for s in seeds):
        raise ApiError(400, "invalid_seed", f"seed values must be integers from 0 to {SEED_MAX - 1}")
    if served.conditioning == "class":
        classes = served.classes or []
        labels = values["label"]
        if not all(_int(v) and 0 <= v < len(classes) for v in labels):
            raise ApiError(400, "invalid_label", f"label values must be class indices 0..{len(classes) - 1}: "
                           + ", ".join(f"{i} {name}" for i, name in enumerate(classes)))
        return labels, seeds
    if served.conditioning == "caption":
        captions = values["caption"]
        if not all(isinstance(c, str) and c.strip() and len(c) <= MAX_CAPTION_CHARS for c in captions):
            raise ApiError(400, "invalid_caption", f"caption values must be non-empty strings of at "
                           f"most {MAX_CAPTION_CHARS} characters, e.g. {served.example_caption!r}")
        return captions, seeds
    return [None] * len(seeds), seeds


def v2_blueprint(registry, run: Callable, max_n: int, version: str) -> Blueprint:
    """The /v2 routes; `run(served, conditions, seeds)` is the app's own path to the generator."""
    v2 = Blueprint("inference_v2", __name__, url_prefix="/v2")

    def find(name: str, version: int | None = None):
        return registry.lookup(name, None if version is None else str(version),
                               ready_url="/v2/health/ready")

    @v2.get("")
    def server_metadata():
        return jsonify({"name": "condgan", "version": version, "extensions": []})

    @v2.get("/health/live")
    def live():
        return jsonify({"live": True})

    @v2.get("/health/ready")
    def ready():
        is_ready = registry.ready.is_set()
        response = jsonify({"ready": is_ready})
        if not is_ready:
            response.status_code = 503
            response.headers["Retry-After"] = "2"
        return response

    @v2.get("/models/<model:name>")
    @v2.get("/models/<model:name>/versions/<int:version>")
    def metadata(name: str, version: int | None = None):
        return jsonify(model_metadata(find(name, version)))

    @v2.get("/models/<model:name>/ready")
    @v2.get("/models/<model:name>/versions/<int:version>/ready")
    def model_ready(name: str, version: int | None = None):
        return jsonify({"name": find(name, version).name, "ready": True})

    @v2.post("/models/<model:name>/infer")
    @v2.post("/models/<model:name>/versions/<int:version>/infer")
    def infer(name: str, version: int | None = None):
        served = find(name, version)
        body = parse_json_object(request.get_data(cache=False))
        conditions, seeds = parse_infer(body, served, max_n)
        if served.conditioning == "caption":
            for caption in conditions:
                served.require_known_words(caption)
        images, _ = run(served, conditions, tuple(seeds))
        images = np.asarray(images, dtype=np.uint8)
        answer = {"model_name": served.name, "model_version": served.version,
                  "outputs": [{"name": "image", "datatype": "UINT8", "shape": list(images.shape),
                               "data": images.ravel().tolist()}]}
        if isinstance(body.get("id"), str):
            answer = {"id": body["id"], **answer}
        return jsonify(answer)

    @v2.errorhandler(ApiError)
    def v2_error(error: ApiError):
        response = jsonify({"error": error.message})
        response.status_code = error.status
        if error.status == 503:
            response.headers["Retry-After"] = "2"
        return response

    return v2
