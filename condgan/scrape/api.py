"""What the JSON search APIs share: credentials from the environment, overridable base URLs,
a 24-hour on-disk response cache, rate-limit headers, and one JSON GET with retries."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Mapping

import requests

from condgan.errors import UserError
from condgan.scrape.net import (USER_AGENT, FetchError, RateLimiter, RetryPolicy, fetch,
                                register_secret, scrub)

DAY = 24 * 3600
# Query parameters that carry credentials: never part of a cache key, never logged.
SECRET_PARAMS = frozenset({"key", "api_key", "cx", "client_secret", "access_token"})


def require_env(name: str, where: str) -> str:
    """The value of environment variable `name`, or a UserError saying where to get it."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise UserError(f"environment variable {name} is not set: {where}, then "
                        f"`export {name}=...` (keys are read only from the environment)")
    register_secret(value)
    return value


def base_url(explicit: str | None, env_name: str, default: str) -> str:
    """Base URL from the flag, else the environment variable, else the public API."""
    url = explicit or os.environ.get(env_name) or default
    if not url.startswith(("http://", "https://")):
        raise UserError(f"API URL {url!r} (from --api-url or {env_name}) must start with "
                        "http:// or https://")
    return url


class ApiError(Exception):
    """A non-200 answer from a search API, with its (scrubbed) status and body excerpt."""

    def __init__(self, status: int, body: str, payload: Any = None) -> None:
        self.status, self.body, self.payload = status, scrub(body[:300]), payload
        super().__init__(f"HTTP {status}: {self.body}")


class ResponseCache:
    """JSON responses on disk for `ttl` seconds (Pixabay's terms ask for a 24 h cache)."""

    def __init__(self, folder: str | os.PathLike, ttl: float = DAY) -> None:
        self.folder, self.ttl = Path(folder), ttl

    def _path(self, url: str, params: Mapping[str, Any]) -> Path:
        public = sorted((k, str(v)) for k, v in params.items() if k not in SECRET_PARAMS)
        digest = hashlib.sha256(json.dumps([url, public]).encode()).hexdigest()[:32]
        return self.folder / f"{digest}.json"

    def get(self, url: str, params: Mapping[str, Any]) -> Any | None:
        path = self._path(url, params)
        try:
            if time.time() - path.stat().st_mtime > self.ttl:
                return None
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def put(self, url: str, params: Mapping[str, Any], payload: Any) -> None:
        path = self._path(url, params)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.partial")
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, path)


class JsonApi:
    """GET JSON from one API with retries, rate-limit pacing and an optional cache."""

    def __init__(self, policy: RetryPolicy | None = None, cache: ResponseCache | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.cache = cache
        self.limiter = RateLimiter(max_wait=self.policy.max_wait)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.requests_made = 0

    def get(self, url: str, params: Mapping[str, Any]) -> Any:
        if self.cache is not None:
            cached = self.cache.get(url, params)
            if cached is not None:
                return cached
        self.limiter.before_request()
        try:
            response, body = fetch(self.session, url, self.policy, params=params)
        except FetchError as exc:
            raise UserError(f"the API at {scrub(url)} did not answer usefully ({exc}): check "
                            "the network and the URL, or try again later") from None
        self.requests_made += 1
        self.limiter.after_response(response)
        text = body.decode("utf-8", "replace")
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if response.status_code != 200:
            raise ApiError(response.status_code, text, payload)
        if payload is None:
            raise UserError(f"the API at {scrub(url)} answered with something that is not JSON "
                            f"({scrub(text[:80])!r}): check --api-url")
        if self.cache is not None:
            self.cache.put(url, params, payload)
        return payload
