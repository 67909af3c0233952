"""Every route and every error of the serving API, through Flask's test client.

Tiny real Keras models are exported into a tmp models/ dir (see test_serve_registry.py); the
caption model is the honest stand-in described there.
"""
from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from test_serve_registry import CLASSES, caption_loader, loaded_app, make_models


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return loaded_app(tmp_path_factory.mktemp("models"), max_n=8, max_body_bytes=2048)


@pytest.fixture()
def client(app):
    return app.test_client()


def post(client, path, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **kwargs)


def decode(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_health_ready_and_models(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["models"] == [
        "tiny_birds", "tiny_cgan", "tiny_gan"]
    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    assert models["tiny_cgan"]["classes"] == CLASSES and models["tiny_cgan"]["kind"] == "cgan"
    assert models["tiny_birds"]["conditioning"] == "caption"
    assert models["tiny_gan"]["conditioning"] == "none" and models["tiny_gan"]["image_size"] == 8
    one = client.get("/v1/models/tiny_cgan").get_json()
    assert one == models["tiny_cgan"] and one["metrics"] == {"fid": 123.4}


def test_readyz_is_503_until_models_are_loaded(tmp_path):
    from condgan.serve.app import create_app

    app = create_app(tmp_path, background_load=False)
    app.extensions["condgan"]["registry"].ready.clear()  # as before the loader thread finishes
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert_error(client.get("/v1/models"), 503, "not_ready")
    assert client.get("/healthz").status_code == 200


def test_generate_label_by_name_and_index_same_seed_same_bytes(client):
    first = post(client, "/v1/models/tiny_cgan:generate", {"label": "horse", "n": 3, "seed": 7})
    body = first.get_json()
    assert first.status_code == 200 and body["seeds"] == [7, 8, 9] and body["label_index"] == 2
    assert [im["seed"] for im in body["images"]] == [7, 8, 9]
    assert decode(body["images"][0]["b64_json"]).shape == (8, 8, 3)
    again = post(client, "/v1/models/tiny_cgan:generate", {"label": 2, "n": 3, "seed": 7})
    assert again.get_json()["images"] == body["images"]
    other = post(client, "/v1/models/tiny_cgan:generate", {"label": "cat", "n": 3, "seed": 7})
    assert other.get_json()["images"] != body["images"]


def test_generate_default_n_and_random_seed_is_returned(client):
    body = post(client, "/v1/models/tiny_cgan:generate", {"label": "dog"}).get_json()
    assert body["n"] == 1 and len(body["seeds"]) == 1
    replay = post(client, "/v1/models/tiny_cgan:generate",
                  {"label": "dog", "seed": body["seeds"][0]}).get_json()
    assert replay["images"] == body["images"]


def test_generate_png_single_and_grid(client):
    single = post(client, "/v1/models/tiny_cgan:generate",
                  {"label": "cat", "seed": 3, "format": "png"})
    assert single.mimetype == "image/png" and single.headers["X-Seeds"] == "3"
    assert np.asarray(Image.open(io.BytesIO(single.data))).shape == (8, 8, 3)
    as_json = post(client, "/v1/models/tiny_cgan:generate", {"label": "cat", "seed": 3}).get_json()
    assert base64.b64decode(as_json["images"][0]["b64_json"]) == single.data
    grid = post(client, "/v1/models/tiny_cgan:generate",
                {"label": "cat", "n": 4, "seed": 3, "format": "png"})
    assert np.asarray(Image.open(io.BytesIO(grid.data))).shape == (18, 18, 3)
    assert grid.headers["X-Seeds"] == "3,4,5,6"


def test_unconditional_model(client):
    body = post(client, "/v1/models/tiny_gan:generate", {"n": 2, "seed": 1}).get_json()
    assert body["label"] is None and len(body["images"]) == 2
    assert_error(post(client, "/v1/models/tiny_gan:generate", {"label": "cat"}), 400,
                 "invalid_field")


def test_caption_model_reports_unknown_words(client):
    response = post(client, "/v1/models/tiny_birds:generate",
                    {"caption": "a small red bird with shiny wings", "n": 2, "seed": 5})
    body = response.get_json()
    assert response.status_code == 200 and body["unknown_words"] == ["with", "shiny"]
    assert len(body["images"]) == 2
    error = post(client, "/v1/models/tiny_birds:generate", {"caption": "zebra xylophone"})
    assert_error(error, 400, "no_known_words")
    assert_error(post(client, "/v1/models/tiny_birds:generate", {"label": "cat"}), 400,
                 "invalid_field")
    assert_error(post(client, "/v1/models/tiny_birds:generate", {"caption": "  "}), 400,
                 "invalid_caption")


def test_bird_route_returns_png_from_default_caption_model(client):
    first = post(client, "/api/v1.0/bird", {"caption": "a small blue bird", "seed": 11})
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.headers["X-Seeds"] == "11" and first.headers["X-Unknown-Words"] == ""
    assert post(client, "/api/v1.0/bird", {"caption": "a small blue bird", "seed": 11}).data \
        == first.data
    assert_error(post(client, "/api/v1.0/bird", {"caption": "qwerty"}), 400, "no_known_words")
    assert_error(post(client, "/api/v1.0/bird", {"caption": "a bird", "n": 2}), 400,
                 "invalid_field")
    # the seed project's clients may omit the Content-Type header
    plain = client.post("/api/v1.0/bird", data=json.dumps({"caption": "red bird", "seed": 1}))
    assert plain.status_code == 200 and plain.mimetype == "image/png"


def test_bird_route_without_caption_model(tmp_path):
    from condgan.serve.app import create_app

    app = create_app(make_models(tmp_path, caption=False), background_load=False, warm_up=False)
    assert_error(post(app.test_client(), "/api/v1.0/bird", {"caption": "a bird"}), 404,
                 "no_caption_model")


@pytest.mark.parametrize("body, code", [
    ("{not json", "invalid_json"),
    ("", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ('{"label": "cat", "n": NaN}', "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    ({"label": "cat", "n": "3"}, "invalid_n"),
    ({"label": "cat", "n": True}, "invalid_n"),
    ({"label": "cat", "n": 2.0}, "invalid_n"),
    ({"label": "cat", "n": 0}, "invalid_n"),
    ({"label": "cat", "n": 9}, "invalid_n"),  # over the cap of 8
    ({"label": "cat", "seed": -1}, "invalid_seed"),
    ({"label": "cat", "seed": "7"}, "invalid_seed"),
    ({"label": "cat", "n": 2, "seed": 2**31 - 1}, "invalid_seed"),
    ({"label": "cat", "format": "jpeg"}, "invalid_format"),
    ({"label": ["cat"]}, "invalid_label"),
    ({"label": 1.5}, "invalid_label"),
    ({}, "missing_label"),
    ({"label": "cat", "lable": "dog"}, "invalid_field"),
    ({"label": "cat", "caption": "a cat"}, "invalid_field"),
])
def test_bad_requests_are_json_400(client, body, code):
    assert_error(post(client, "/v1/models/tiny_cgan:generate", body), 400, code)


def test_unknown_label_lists_valid_ones(client):
    for label in ("zebra", 3, -1):
        error = assert_error(post(client, "/v1/models/tiny_cgan:generate", {"label": label}),
                             400, "unknown_label")
        assert error["valid_labels"] == CLASSES and "horse" in error["message"]


def test_unknown_model_and_path_tricks_are_404(client):
    assert_error(post(client, "/v1/models/nope:generate", {"label": "cat"}), 404,
                 "model_not_found")
    assert_error(client.get("/v1/models/nope"), 404, "model_not_found")
    for path in ("/v1/models/..%2Ftiny_cgan", "/v1/models/../tiny_cgan:generate",
                 "/v1/models/.hidden", "/nowhere"):
        assert client.get(path).status_code == 404
    assert_error(client.get("/v1/models/%2e%2e"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    error = client.get("/v1/models/tiny_cgan:generate")
    assert_error(error, 405, "method_not_allowed")
    assert "POST" in error.headers["Allow"]
    assert_error(client.delete("/v1/models"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1.0/bird"), 405, "method_not_allowed")


def test_body_over_limit_is_json_413(client):
    body = json.dumps({"label": "cat", "caption": "x" * 4000})
    assert_error(post(client, "/v1/models/tiny_cgan:generate", body), 413, "payload_too_large")


PAGES = {"generate_page", "models_page", "train_page", "jobs_page", "style_page", "static"}


def api_routes(app) -> set[str]:
    """Every JSON route of the app, written as OpenAPI writes paths."""
    return {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
            if rule.endpoint not in PAGES}


def test_openapi_lists_every_route(app, client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == api_routes(app)
    assert {"/v1/models/{name}:generate", "/v2/models/{name}/infer", "/metrics",
            "/v1/models/{name}/versions/{version}:generate"} <= set(spec["paths"])
    name = spec["paths"]["/v1/models/{name}"]["get"]["parameters"][0]["schema"]
    assert name["enum"] == ["tiny_birds", "tiny_cgan", "tiny_gan"]
    assert spec["components"]["schemas"]["GenerateRequest"]["properties"]["n"]["maximum"] == 8


def test_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"Generate" in page.data and client.get("/static/app.js").status_code == 200


def test_without_micro_batching_same_bytes(app, tmp_path):
    from condgan.serve.app import create_app

    plain = create_app(app.extensions["condgan"]["registry"].models_dir, micro_batching=False,
                       background_load=False, loaders={"attngan": caption_loader})
    body = {"label": "dog", "n": 4, "seed": 42}
    assert post(plain.test_client(), "/v1/models/tiny_cgan:generate", body).data == \
        post(app.test_client(), "/v1/models/tiny_cgan:generate", body).data
