"""The server as a user runs it: a subprocess on 127.0.0.1, hit with real HTTP (requests).

Includes concurrent requests (micro-batching must not change any request's bytes) and a
Schemathesis run against the live /openapi.json (no 5xx, responses match the schema).
"""
from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from test_serve_registry import CLASSES, LiveServer, make_models


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(make_models(tmp_path_factory.mktemp("live") / "models", caption=False))
    yield live
    live.stop()


def generate(server, body, model="tiny_cgan"):
    return requests.post(f"{server.url}/v1/models/{model}:generate", json=body, timeout=30)


def test_live_routes(server):
    assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
    names = [m["name"] for m in requests.get(server.url + "/v1/models", timeout=5).json()["models"]]
    assert names == ["tiny_cgan", "tiny_gan"]
    response = generate(server, {"label": "horse", "n": 4, "seed": 7})
    assert response.status_code == 200 and response.json()["seeds"] == [7, 8, 9, 10]
    png = generate(server, {"label": "horse", "n": 4, "seed": 7, "format": "png"})
    assert png.headers["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    page = requests.get(server.url + "/", timeout=5)
    assert page.status_code == 200 and "Generate" in page.text


def test_live_errors_are_json(server):
    bad = requests.post(f"{server.url}/v1/models/tiny_cgan:generate", data="{oops", timeout=5,
                        headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    assert generate(server, {"label": "zebra"}).json()["error"]["valid_labels"] == CLASSES
    assert generate(server, {"label": "cat"}, model="nope").status_code == 404
    wrong = requests.put(f"{server.url}/v1/models/tiny_cgan:generate", timeout=5)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    big = requests.post(f"{server.url}/v1/models/tiny_cgan:generate", timeout=5,
                        data=b'{"label": "' + b"x" * 40000 + b'"}',
                        headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"


def test_concurrent_requests_get_their_own_images(server):
    bodies = [{"label": CLASSES[i % 3], "n": 1 + i % 4, "seed": 1000 + 10 * i} for i in range(32)]
    expected = [generate(server, body).json()["images"] for body in bodies[:6]]
    with ThreadPoolExecutor(32) as pool:
        responses = list(pool.map(lambda body: generate(server, body), bodies))
    assert all(r.status_code == 200 for r in responses)
    for body, response in zip(bodies, responses):
        assert response.json()["seeds"] == list(range(body["seed"], body["seed"] + body["n"]))
    for want, response in zip(expected, responses):  # batched with others: same bytes as alone
        assert response.json()["images"] == want
    assert all(base64.b64decode(r.json()["images"][0]["b64_json"])[:4] == b"\x89PNG"
               for r in responses)


@pytest.mark.skipif(importlib.util.find_spec("schemathesis") is None,
                    reason="schemathesis is not installed: pip install -r requirements-dev.txt")
def test_schemathesis_against_live_openapi(server, tmp_path):
    checks = ("not_a_server_error,status_code_conformance,content_type_conformance,"
              "response_schema_conformance,response_headers_conformance,"
              "negative_data_rejection,unsupported_method,allow_header_conformance")
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
         "--checks", checks, "--max-examples", "15", "--seed", "1", "--no-color",
         "--generation-database", "none", "--phases", "coverage,fuzzing", "--workers", "1",
         # Without the VGG19 weights (never downloaded) every valid transfer is the documented
         # 503 weights_missing, which the server-error check counts; tests/test_style_transfer.py
         # covers that route with a stand-in network.
         "--exclude-name", "POST /v1/style"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and requests.get(server.url + "/healthz").ok
