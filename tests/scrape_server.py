"""A local web for the scraper tests: one threaded HTTP server on 127.0.0.1 that speaks the
protocols the sources use (Pixabay JSON, Openverse, Google Programmable Search, SerpApi,
Reddit's OAuth token endpoint and JSON listings as praw requests them) and serves image bytes,
some of them misbehaving on purpose.  It counts every hit per path so tests can prove that a
resumed run fetches nothing twice.
"""
from __future__ import annotations

import base64
import collections
import io
import json
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
from PIL import Image

PIXABAY_KEY = "pixa-test-key-123"
GOOGLE_KEY = "goog-test-key-456"
CSE_ID = "cse-engine-789"
SERPAPI_KEY = "serp-test-key-000"
REDDIT_ID, REDDIT_SECRET = "reddit-client-id", "reddit-client-secret"
REDDIT_UA = "python:condgan-tests:v0.1 (by /u/condgan_bot)"


def make_jpeg(seed: int, size: int = 80, quality: int = 90) -> bytes:
    """A distinct, noisy picture: different seeds never collide in dHash."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((size, size), Image.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def make_png(width: int, height: int, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
                    ).save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png_header(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG that claims 20000x20000 pixels (and holds almost nothing): a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


class Route:
    """What one image path answers: a body, or a scripted sequence of failures first."""

    def __init__(self, body: bytes = b"", content_type: str = "image/jpeg", *, status: int = 200,
                 fail_first: list[tuple[int, dict]] | None = None, delay: float = 0.0,
                 headers: dict | None = None, redirect: str | None = None) -> None:
        self.body, self.content_type, self.status = body, content_type, status
        self.fail_first = list(fail_first or [])
        self.delay, self.headers, self.redirect = delay, dict(headers or {}), redirect


class FakeWeb:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # added to every image response (the benchmark's 50 ms)
        self.routes: dict[str, Route] = {}
        self.results: dict[str, list[str]] = collections.defaultdict(list)  # api -> image paths
        self.reddit_posts: list[dict] = []
        self.hits: collections.Counter = collections.Counter()
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.api_headers: dict[str, str] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> "FakeWeb":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, route: Route, apis: tuple[str, ...] = ()) -> str:
        self.routes[path] = route
        for api in apis:
            self.results[api].append(path)
        return path

    def image_hits(self) -> int:
        return sum(n for p, n in self.hits.items() if p.startswith("/img/"))

    # -- protocol handlers ---------------------------------------------------------------
    def _pixabay(self, q: dict) -> tuple[int, object]:
        if q.get("key") != PIXABAY_KEY:
            return 400, "[ERROR 400] Invalid or missing API key"
        per_page, page = int(q.get("per_page", 20)), int(q.get("page", 1))
        paths = self.results["pixabay"]
        chunk = paths[(page - 1) * per_page: page * per_page]
        hits = [{"id": 1000 + paths.index(p), "pageURL": f"https://pixabay.example/photo-{p}",
                 "user": f"user{i}", "tags": "horse, animal", "webformatURL": self.url(p),
                 "largeImageURL": self.url(p), "previewURL": self.url(p)} for i, p in enumerate(chunk)]
        return 200, {"total": len(paths), "totalHits": len(paths), "hits": hits}

    def _openverse(self, q: dict) -> tuple[int, object]:
        size, page = int(q.get("page_size", 20)), int(q.get("page", 1))
        paths = self.results["openverse"]
        chunk = paths[(page - 1) * size: page * size]
        results = [{"id": f"ov-{paths.index(p)}", "title": "t", "url": self.url(p),
                    "foreign_landing_url": f"https://flickr.example/{p}", "creator": "ann",
                    "license": "by", "license_version": "4.0", "provider": "flickr",
                    "license_url": "https://creativecommons.org/licenses/by/4.0/",
                    "attribution": f"\"t\" by ann is licensed under CC BY 4.0."} for p in chunk]
        return 200, {"result_count": len(paths), "page_count": -(-len(paths) // size),
                     "page_size": size, "page": page, "results": results}

    def _cse(self, q: dict) -> tuple[int, object]:
        if q.get("key") != GOOGLE_KEY or q.get("cx") != CSE_ID:
            return 400, {"error": {"code": 400, "message": "API key not valid.",
                                   "errors": [{"reason": "badRequest"}]}}
        if q.get("searchType") != "image":
            return 400, {"error": {"code": 400, "message": "searchType", "errors": [{}]}}
        start, num = int(q.get("start", 1)), int(q.get("num", 10))
        paths = self.results["cse"][:100]
        chunk = paths[start - 1: start - 1 + num]
        items = [{"link": self.url(p), "title": p, "displayLink": "example.org",
                  "image": {"contextLink": f"https://example.org/page{p}"}} for p in chunk]
        payload = {"items": items, "queries": {}}
        if start - 1 + num < len(paths) and start + num <= 91:
            payload["queries"]["nextPage"] = [{"startIndex": start + num}]
        return 200, payload

    def _serpapi(self, q: dict) -> tuple[int, object]:
        if q.get("api_key") != SERPAPI_KEY:
            return 401, {"error": "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"}
        if q.get("engine") != "google_images":
            return 400, {"error": "engine"}
        page, paths = int(q.get("ijn", 0)), self.results["serpapi"]
        chunk = paths[page * 100:(page + 1) * 100]
        if not chunk:
            return 200, {"error": "Google hasn't returned any results for this query."}
        payload = {"images_results": [{"position": i, "original": self.url(p), "title": p,
                                       "link": f"https://example.org/{p}", "source": "example.org"}
                                      for i, p in enumerate(chunk)]}
        if (page + 1) * 100 < len(paths):
            payload["serpapi_pagination"] = {"next": "..."}
        return 200, payload

    def _reddit_listing(self, q: dict) -> tuple[int, object]:
        limit, after = int(q.get("limit", 25)), q.get("after")
        posts = self.reddit_posts
        start = next((i + 1 for i, p in enumerate(posts) if f"t3_{p['id']}" == after), 0)
        chunk = posts[start:start + limit]
        next_after = f"t3_{chunk[-1]['id']}" if chunk and start + limit < len(posts) else None
        return 200, {"kind": "Listing", "data": {"after": next_after, "dist": len(chunk),
                     "children": [{"kind": "t3", "data": p} for p in chunk], "before": None}}

    def reddit_post(self, post_id: str, *, url: str = "", gallery: list[str] | None = None,
                    over_18: bool = False) -> None:
        data = {"id": post_id, "name": f"t3_{post_id}", "title": f"post {post_id}",
                "author": "someone", "permalink": f"/r/cats/comments/{post_id}/x/",
                "over_18": over_18, "url": url, "is_self": False, "subreddit": "cats"}
        if gallery:
            data["is_gallery"] = True
            data["url"] = f"https://www.reddit.com/gallery/{post_id}"
            data["gallery_data"] = {"items": [{"media_id": f"m{i}", "id": i} for i in range(len(gallery))]}
            data["media_metadata"] = {f"m{i}": {"status": "valid", "e": "Image", "m": "image/jpg",
                                                "s": {"u": u, "x": 80, "y": 80}}
                                      for i, u in enumerate(gallery)}
        self.reddit_posts.append(data)

    def _handler_class(self):
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per response: headers and body written separately meet the client's
            # delayed ACK (Nagle), a 40 ms stall per request that would distort the benchmark.
            disable_nagle_algorithm = True
            wbufsize = 256 * 1024

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
                body = payload if isinstance(payload, str) else json.dumps(payload)
                self._send(status, body.encode(), "application/json" if not isinstance(payload, str)
                           else "text/plain", headers)

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with web._lock:
                    web.hits[path] += 1
                if path == "/api/v1/access_token":
                    auth = self.headers.get("Authorization", "")
                    expected = "Basic " + base64.b64encode(f"{REDDIT_ID}:{REDDIT_SECRET}".encode()).decode()
                    if auth != expected:
                        return self._json(401, {"message": "Unauthorized", "error": 401})
                    return self._json(200, {"access_token": "tok", "token_type": "bearer",
                                            "expires_in": 3600, "scope": "*"})
                self._json(404, {"error": 404})

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                path, query = parsed.path, {k: v[-1] for k, v in parse_qs(parsed.query).items()}
                with web._lock:
                    web.hits[path] += 1
                    web.times[path].append(time.monotonic())
                    count = web.hits[path]
                if path.startswith("/img/"):
                    return self._image(path, count)
                api = {"/api/pixabay/": web._pixabay, "/api/openverse/images/": web._openverse,
                       "/api/cse": web._cse, "/api/serpapi": web._serpapi}.get(path)
                if api is None and path.startswith("/r/"):
                    if self.headers.get("Authorization") != "bearer tok":
                        return self._json(401, {"error": 401})
                    api = web._reddit_listing
                if api is None:
                    return self._json(404, {"error": "not found"})
                status, payload = api(query)
                self._json(status, payload, web.api_headers)

            def _image(self, path: str, count: int) -> None:
                route = web.routes.get(path)
                if route is None:
                    return self._send(404, b"<html>not found</html>", "text/html")
                if web.latency:
                    time.sleep(web.latency)
                if route.delay:
                    time.sleep(route.delay)
                if count <= len(route.fail_first):
                    status, headers = route.fail_first[count - 1]
                    return self._send(status, b"busy", "text/plain", headers)
                if route.redirect:
                    return self._send(302, b"", "text/plain", {"Location": route.redirect})
                self._send(route.status, route.body, route.content_type, route.headers)

        return Handler


def populate(web: FakeWeb, apis: tuple[str, ...], *, good: int = 6, bad: bool = True) -> dict[str, tuple[str, str]]:
    """Register good images and (optionally) one of each misbehaviour on every API in `apis`.

    Returns path -> (expected final status, expected reason prefix).
    """
    expected: dict[str, tuple[str, str]] = {}
    for i in range(good):
        expected[web.add(f"/img/good{i}.jpg", Route(make_jpeg(i)), apis)] = ("downloaded", "")
    if not bad:
        return expected
    twin = make_jpeg(999)
    cases = {
        "/img/twin-a.jpg": (Route(twin), ("downloaded", "")),
        "/img/twin-b.jpg": (Route(twin), ("duplicate", "sha256")),
        "/img/busy.jpg": (Route(make_jpeg(101), fail_first=[(429, {"Retry-After": "1"})]),
                          ("downloaded", "")),
        "/img/flaky.jpg": (Route(make_jpeg(102), fail_first=[(500, {})]), ("downloaded", "")),
        "/img/moved.jpg": (Route(redirect="/img/moved-target.jpg"), ("downloaded", "")),
        "/img/slow.jpg": (Route(make_jpeg(103), delay=3.0), ("failed", "timeout")),
        "/img/page.jpg": (Route(b"<!DOCTYPE html><html><body>Sorry</body></html>", "text/html"),
                          ("rejected", "not_an_image")),
        "/img/lying.jpg": (Route(b"<html><body>login first</body></html>", "image/jpeg"),
                           ("rejected", "not_an_image")),
        "/img/truncated.jpg": (Route(make_jpeg(104, size=200)[:1500]), ("rejected", "truncated")),
        "/img/bomb.png": (Route(bomb_png_header(), "image/png"), ("rejected", "too_large")),
        "/img/tiny.png": (Route(make_png(16, 16), "image/png"), ("rejected", "too_small")),
        "/img/noai.jpg": (Route(make_jpeg(105), headers={"X-Robots-Tag": "noai, noimageai"}),
                          ("rejected", "noai")),
        "/img/gone.jpg": (Route(b"gone", "text/plain", status=404), ("failed", "http_404")),
    }
    web.routes["/img/moved-target.jpg"] = Route(make_jpeg(106))
    for path, (route, outcome) in cases.items():
        web.add(path, route, apis)
        expected[path] = outcome
    return expected
