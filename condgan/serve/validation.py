"""Request validation and JSON errors for the serving API.

Every error the API can answer is an `ApiError` turned into `{"error": {"code", "message"}}`
with its HTTP status; the app maps Werkzeug's own errors (404, 405, 413) to the same shape, so
a client never sees an HTML page or a traceback.  Validation happens before a request reaches
the model (or the micro-batcher), so one bad request never fails the requests batched with it.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Sequence

from condgan.errors import UserError
from condgan.basics import SEED_MAX

FORMATS = ("b64_json", "png")
GENERATE_FIELDS = {"label", "caption", "n", "seed", "format", "edits", "truncation"}
# Sampling options a generate body may carry: each for the models whose `options` name it
# (`condgan.generator.Generator.with_options`; a StyleGAN's truncation psi).
SAMPLING_OPTIONS = ("truncation",)
MAX_CAPTION_CHARS = 500


class ApiError(Exception):
    """An error answered as JSON: HTTP status, a stable machine code, a message naming the fix."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, whatever the Content-Type header says.

    The seed AttnGAN clients did not always send `Content-Type: application/json`, so the body
    is parsed as JSON regardless; NaN/Infinity (not JSON) are refused.
    """
    if not raw:
        raise ApiError(400, "invalid_json", "the request body is empty: send a JSON object, "
                       'e.g. {"label": "horse", "n": 4}')
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ApiError(400, "invalid_json", f"the request body is not valid UTF-8 JSON ({error}): "
                       "send a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", f"the request body must be a JSON object, "
                       f"not {type(body).__name__}")
    return body


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class GenerateRequest:
    """A validated generate request: what to condition on, and one seed per image."""

    label_index: int | None
    label_name: str | None
    caption: str | None
    seeds: tuple[int, ...]
    format: str
    edits: dict[str, float] | None = None   # checked against the model's directions
    blend: dict[str, float] | None = None   # class name -> weight (summing to 1): a class blend
    options: dict[str, float] | None = None   # sampling options the model takes (truncation)

    @property
    def n(self) -> int:
        return len(self.seeds)


def random_base_seed(n: int) -> int:
    """A base seed for a request that names none: seeds base .. base + n - 1 all valid."""
    return secrets.randbelow(SEED_MAX - n + 2)


def parse_generate(body: dict[str, Any], *, conditioning: str, classes: Sequence[str] | None,
                   max_n: int, random_seed, example_caption: str | None = None,
                   directions=None, model: str = "this model",
                   with_options=None) -> GenerateRequest:
    """Check a generate body against what the model is conditioned on ("none", "class" or
    "caption"); `random_seed(n)` draws a base seed; `edits` are checked against `directions`
    (the model's `LatentDirections`, None when it has none); sampling options (`truncation`)
    by the model's own `with_options` (None: it takes none).

    example_caption: a caption this model knows, suggested when the caption is missing (an
    example from another data set would only name words the model ignores).
    """
    unknown = sorted(set(body) - GENERATE_FIELDS)
    if unknown:
        raise ApiError(400, "invalid_field", f"unknown field(s) {unknown}: the request takes "
                       f"{sorted(GENERATE_FIELDS)}")
    n = body.get("n", 1)
    if not _is_int(n) or not 1 <= n <= max_n:
        raise ApiError(400, "invalid_n", f"n must be an integer from 1 to {max_n}, got {n!r}")
    fmt = body.get("format", "b64_json")
    if fmt not in FORMATS:
        raise ApiError(400, "invalid_format", f"format must be one of {list(FORMATS)}, got {fmt!r}")
    seed = body.get("seed")
    if seed is None:
        seed = random_seed(n)
    elif not _is_int(seed) or not 0 <= seed <= SEED_MAX - (n - 1):
        raise ApiError(400, "invalid_seed", f"seed must be an integer from 0 to "
                       f"{SEED_MAX - (n - 1)} (image i uses seed + i), got {seed!r}")
    seeds = tuple(range(seed, seed + n))
    options = _parse_options(body, with_options, model)
    label_index = label_name = caption = None
    if conditioning == "caption":
        if "label" in body:
            raise ApiError(400, "invalid_field", "this is a caption model: send \"caption\", "
                           "not \"label\"")
        caption = body.get("caption")
        if not isinstance(caption, str) or not caption.strip():
            hint = f", e.g. {json.dumps(example_caption)}" if example_caption else ""
            raise ApiError(400, "invalid_caption", f"caption must be a non-empty string{hint}")
        if len(caption) > MAX_CAPTION_CHARS:
            raise ApiError(400, "invalid_caption", f"caption is {len(caption)} characters long: "
                           f"keep it under {MAX_CAPTION_CHARS}")
    else:
        if "caption" in body:
            raise ApiError(400, "invalid_field", "this model takes no caption: send "
                           + ("\"label\"" if conditioning == "class" else "n (and seed)"))
        if conditioning == "class" and isinstance(body.get("label"), dict):
            blend = parse_blend(body["label"], classes or [])
            if body.get("edits"):
                raise ApiError(400, "invalid_field", "a class blend takes no \"edits\": send "
                               "one or the other")
            return GenerateRequest(None, None, None, seeds, fmt, blend=blend, options=options)
        if conditioning == "class":
            label_index = parse_label(body.get("label"), classes or [])
            label_name = classes[label_index]
        elif "label" in body:
            raise ApiError(400, "invalid_field", "this model is unconditional: send n (and seed), "
                           "not label")
    return GenerateRequest(label_index, label_name, caption, seeds, fmt,
                           _parse_edits(body.get("edits"), directions, model), options=options)


def _parse_options(body: dict[str, Any], with_options, model: str) -> dict[str, float] | None:
    """The body's sampling options, each a number the model takes (its `with_options` checks
    names and ranges), or None when it sends none."""
    given = {name: body[name] for name in SAMPLING_OPTIONS if body.get(name) is not None}
    if not given:
        return None
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ApiError(400, "invalid_option", f"\"{name}\" must be a number, got "
                           f"{json.dumps(value)}")
    if with_options is None:
        raise ApiError(400, "invalid_option", f"{model} takes no sampling options: send no "
                       f"{sorted(given)} (GET /v1/models lists each model's \"options\")")
    try:
        with_options(**given)
    except UserError as error:
        raise ApiError(400, "invalid_option", str(error)) from None
    return {name: float(value) for name, value in given.items()}


def _parse_edits(edits: Any, directions, model: str) -> dict[str, float] | None:
    if edits is None or edits == {}:
        return None
    if directions is None:
        raise ApiError(400, "invalid_edit", f"{model} has no attribute directions: send no "
                       "\"edits\" (GET /v1/models lists the models whose \"edits\" are not null)")
    try:
        return directions.check(edits, model)
    except UserError as error:
        raise ApiError(400, "invalid_edit", str(error)) from None


def parse_blend(label: dict, classes: Sequence[str]) -> dict[str, float]:
    """A label given as {class name or index: weight} -> {class name: weight}, weights summing
    to 1 (`condgan.control.class_blend`); the error lists the valid classes."""
    from condgan.control.class_blend import blend_weights

    if any(isinstance(w, bool) or not isinstance(w, (int, float)) for w in label.values()):
        raise ApiError(400, "invalid_label", "a class blend maps classes to numbers, e.g. "
                       f"{json.dumps({classes[0]: 0.5, classes[-1]: 0.5})}",
                       valid_labels=list(classes))
    keys = {int(key) if key.isdigit() else key: weight for key, weight in label.items()}
    try:
        weights = blend_weights(classes, keys, "the label's class blend")
    except UserError as error:
        raise ApiError(400, "unknown_label", str(error), valid_labels=list(classes)) from None
    return {name: float(w) for name, w in zip(classes, weights) if w > 0}


def parse_label(label: Any, classes: Sequence[str]) -> int:
    """A class given by name or index -> its index; the error lists the valid classes."""
    from condgan.data.arrays import class_index

    if label is None:
        raise ApiError(400, "missing_label", f"this model needs a label: one of {list(classes)} "
                       f"or an index 0..{len(classes) - 1}", valid_labels=list(classes))
    if not (isinstance(label, str) or _is_int(label)):
        raise ApiError(400, "invalid_label", f"label must be a class name or index, got "
                       f"{type(label).__name__}", valid_labels=list(classes))
    try:
        return class_index(classes, label)
    except UserError as error:
        raise ApiError(400, "unknown_label", str(error), valid_labels=list(classes)) from None
