"""The Open Inference Protocol (KServe v2) routes and /metrics, through Flask's test client, on
the tiny exported models of test_serve_registry.py: request and response bodies checked against
the protocol's schema, the same pixels as the /v1 route for the same seeds, and errors in the
protocol's shape."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from test_serve_registry import CLASSES, loaded_app, make_models

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return loaded_app(tmp_path_factory.mktemp("models"), max_n=8, max_body_bytes=MAX_BODY)


@pytest.fixture()
def client(app):
    return app.test_client()


def infer(client, model, inputs, **extra):
    return client.post(f"/v2/models/{model}/infer", data=json.dumps({"inputs": inputs, **extra}),
                       content_type="application/json")


def tensor(name, datatype, data):
    return {"name": name, "shape": [len(data)], "datatype": datatype, "data": data}


def v1_pixels(client, model, seed, n, **condition):
    body = client.post(f"/v1/models/{model}:generate", data=json.dumps({"n": n, "seed": seed, **condition}),
                       content_type="application/json").get_json()
    return np.stack([np.asarray(Image.open(io.BytesIO(base64.b64decode(i["b64_json"])))) for i in body["images"]])


def check_response_schema(body, model, n, size):
    """The protocol's inference response: model_name, optional model_version/id, outputs."""
    assert set(body) <= {"model_name", "model_version", "id", "parameters", "outputs"}
    assert body["model_name"] == model and isinstance(body["model_version"], str)
    (output,) = body["outputs"]
    assert set(output) == {"name", "datatype", "shape", "data"}
    assert output["name"] == "image" and output["datatype"] == "UINT8"
    assert output["shape"] == [n, size, size, 3]
    data = np.asarray(output["data"])
    assert data.ndim == 1 and data.size == n * size * size * 3 and data.min() >= 0 and data.max() <= 255
    return data.astype(np.uint8).reshape(output["shape"])


def test_health_and_server_and_model_metadata(client):
    assert client.get("/v2/health/live").get_json() == {"live": True}
    assert client.get("/v2/health/ready").get_json() == {"ready": True}
    server = client.get("/v2").get_json()
    assert server["name"] == "condgan" and server["extensions"] == []
    meta = client.get("/v2/models/tiny_cgan").get_json()
    assert meta["name"] == "tiny_cgan" and meta["versions"] and meta["platform"] == "condgan-cgan"
    assert meta["inputs"] == [{"name": "label", "datatype": "INT32", "shape": [-1]},
                              {"name": "seed", "datatype": "INT64", "shape": [-1]}]
    assert meta["outputs"] == [{"name": "image", "datatype": "UINT8", "shape": [-1, 8, 8, 3]}]
    assert [t["name"] for t in client.get("/v2/models/tiny_gan").get_json()["inputs"]] == ["seed"]
    assert [t["name"] for t in client.get("/v2/models/tiny_birds").get_json()["inputs"]] == ["caption", "seed"]
    assert client.get("/v2/models/tiny_gan/ready").get_json() == {"name": "tiny_gan", "ready": True}


def test_class_model_draws_the_v1_pixels_for_the_same_seeds(client):
    response = infer(client, "tiny_cgan", [tensor("label", "INT32", [2, 2, 2]),
                                           tensor("seed", "INT64", [40, 41, 42])], id="req-1")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"] == "req-1"
    images = check_response_schema(body, "tiny_cgan", 3, 8)
    np.testing.assert_array_equal(images, v1_pixels(client, "tiny_cgan", 40, 3, label=CLASSES[2]))
    # one request may mix labels, and nested (row-major) data is read like flat data
    mixed = infer(client, "tiny_cgan", [{"name": "label", "shape": [2], "datatype": "INT32", "data": [[0], [2]]},
                                        tensor("seed", "INT64", [7, 41])]).get_json()
    images = check_response_schema(mixed, "tiny_cgan", 2, 8)
    np.testing.assert_array_equal(images[1], v1_pixels(client, "tiny_cgan", 41, 1, label=CLASSES[2])[0])


def test_unconditional_and_caption_models(client):
    images = check_response_schema(infer(client, "tiny_gan", [tensor("seed", "INT64", [5, 6])]).get_json(),
                                   "tiny_gan", 2, 8)
    np.testing.assert_array_equal(images, v1_pixels(client, "tiny_gan", 5, 2))
    caption = "a small red bird"
    body = infer(client, "tiny_birds", [tensor("caption", "BYTES", [caption]), tensor("seed", "INT64", [3])],
                 outputs=[{"name": "image"}]).get_json()
    images = check_response_schema(body, "tiny_birds", 1, 8)
    np.testing.assert_array_equal(images, v1_pixels(client, "tiny_birds", 3, 1, caption=caption))


@pytest.mark.parametrize("model, inputs, extra, status, says", [
    ("nope", [tensor("seed", "INT64", [1])], {}, 404, "no model named 'nope'"),
    ("tiny_cgan", [tensor("seed", "INT64", [1])], {}, 400, "takes label INT32 [n], seed INT64 [n]"),
    ("tiny_cgan", [tensor("label", "INT64", [1]), tensor("seed", "INT64", [1])], {}, 400, "label must be INT32"),
    ("tiny_cgan", [tensor("label", "INT32", [3]), tensor("seed", "INT64", [1])], {}, 400, "0 cat, 1 dog, 2 horse"),
    ("tiny_cgan", [tensor("label", "INT32", [0, 1]), tensor("seed", "INT64", [1])], {}, 400, "disagree on n"),
    ("tiny_gan", [{"name": "seed", "shape": [2], "datatype": "INT64", "data": [1]}], {}, 400, "shape[0] = 2"),
    ("tiny_gan", [tensor("seed", "INT64", list(range(9)))], {}, 400, "n from 1 to 8"),
    ("tiny_gan", [tensor("seed", "INT64", [-1])], {}, 400, "seed values must be integers"),
    ("tiny_gan", [tensor("seed", "INT64", [True])], {}, 400, "seed values must be integers"),
    ("tiny_gan", [tensor("seed", "INT64", [1])], {"outputs": [{"name": "logits"}]}, 400, "only output is image"),
    ("tiny_gan", [tensor("seed", "INT64", [1])], {"binary": 1}, 400, "unknown field(s) ['binary']"),
    ("tiny_birds", [tensor("caption", "BYTES", ["zebra xylophone"]), tensor("seed", "INT64", [1])], {}, 400,
     "a caption tiny_birds knows"),
    ("tiny_birds", [tensor("caption", "BYTES", [" "]), tensor("seed", "INT64", [1])], {}, 400, "non-empty strings"),
])
def test_bad_requests_get_the_protocols_error_naming_the_fix(client, model, inputs, extra, status, says):
    response = infer(client, model, inputs, **extra)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and says in body["error"], body


def test_a_body_that_is_not_json_is_a_400_in_the_protocols_shape(client):
    response = client.post("/v2/models/tiny_gan/infer", data=b"{not json", content_type="application/json")
    assert response.status_code == 400 and "not valid UTF-8 JSON" in response.get_json()["error"]


def test_before_the_models_load_ready_says_503(tmp_path):
    from condgan.serve.app import create_app

    app = create_app(make_models(tmp_path / "models", caption=False), background_load=True,
                     loaders={}, warm_up=False)
    registry = app.extensions["condgan"]["registry"]
    client = app.test_client()
    early = client.get("/v2/health/ready")
    assert client.get("/v2/health/live").status_code == 200
    if early.status_code == 503:  # the background load may already be done on a fast machine
        assert early.get_json() == {"ready": False} and early.headers["Retry-After"] == "2"
    assert registry.wait(60) and client.get("/v2/health/ready").status_code == 200


def test_metrics_count_requests_images_and_batches(client):
    from prometheus_client.parser import text_string_to_metric_families

    infer(client, "tiny_gan", [tensor("seed", "INT64", [1, 2, 3])])
    client.get("/v1/models/nope")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.get_data(as_text=True))
               for s in family.samples}
    assert samples[("condgan_http_requests_total", (("method", "POST"), ("route", "/v2/models/<model:name>/infer"),
                                                     ("status", "200")))] >= 1
    assert samples[("condgan_http_requests_total", (("method", "GET"), ("route", "/v1/models/<model:name>"),
                                                     ("status", "404")))] >= 1
    assert samples[("condgan_images_generated_total", (("model", "tiny_gan"),))] >= 3
    assert samples[("condgan_generator_batch_images_count", (("model", "tiny_gan"),))] >= 1
    assert samples[("condgan_models_loaded", ())] == 3
    assert ("condgan_http_request_duration_seconds_count", (("route", "/v2/models/<model:name>/infer"),)) in samples


def test_routing_errors_under_v2_speak_the_protocol_too(client):
    """A name the model-name rule rejects never reaches the blueprint: its 404 (and a 405) must
    still be the protocol's {"error": "..."} (found by schemathesis against /openapi.json)."""
    for response in (client.get("/v2/models/null,null"), client.post("/v2/models/a,b/infer", data="{}"),
                     client.get("/v2/models/tiny_gan/infer")):
        assert response.status_code in (404, 405)
        body = response.get_json()
        assert set(body) == {"error"} and isinstance(body["error"], str)
    assert client.get("/v1/models/null,null").get_json()["error"]["code"] == "not_found"
