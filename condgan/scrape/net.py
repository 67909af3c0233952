"""HTTP plumbing shared by every source and the downloader.

One retry loop for everything that talks to the network: timeouts, exponential backoff with a
little jitter (the "full jitter" idea from the AWS Architecture Blog, 2015, so many clients do
not retry in lock-step) and `Retry-After` on 429/5xx (RFC 9110 section 10.2.3).  Secrets
(API keys) are registered once and scrubbed from every message that can reach a log or the
manifest.
"""
from __future__ import annotations

import dataclasses
import email.utils
import random
import re
import threading
import time
from typing import Callable, Mapping

import requests

from condgan import __version__

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# An identifying User-Agent: site owners can see who we are and how to reach the docs.
USER_AGENT = f"condgan-dataset-builder/{__version__} (+https://github.com/condgan; see docs/scraping.md)"

_SECRETS: set[str] = set()
_SECRET_PARAM = re.compile(r"([?&](?:api_key|key|cx|client_secret|access_token|token)=)[^&\s\"']+", re.I)


def register_secret(value: str | None) -> None:
    """Remember a credential so `scrub` removes it from any text."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def scrub(text: str) -> str:
    """`text` with registered secrets and key-like URL parameters replaced by ***."""
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return _SECRET_PARAM.sub(r"\1***", text)


class FetchError(Exception):
    """A request that failed for good (after retries); `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = scrub(detail)
        super().__init__(f"{reason}: {self.detail}" if self.detail else reason)


class Rejected(Exception):
    """A response we refuse to keep (not an image, too small, noai...); never retried."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = scrub(detail)
        super().__init__(f"{reason}: {self.detail}" if self.detail else reason)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: tests shrink `backoff` and `timeout` so they run in milliseconds."""

    retries: int = 4          # extra attempts after the first
    backoff: float = 1.0      # first wait in seconds; doubles each attempt
    max_wait: float = 60.0    # cap on any single wait, Retry-After included
    timeout: float = 20.0     # connect and per-read timeout of one attempt
    jitter: float = 0.1       # +-10 % random spread on computed waits

    def wait(self, attempt: int, response: requests.Response | None = None) -> float:
        after = retry_after_seconds(response) if response is not None else None
        if after is not None:
            return min(after, self.max_wait)
        base = self.backoff * (2 ** attempt)
        return min(base * (1 + self.jitter * (2 * random.random() - 1)), self.max_wait)


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _read_body(response: requests.Response, max_bytes: int | None) -> bytes:
    declared = response.headers.get("Content-Length")
    if max_bytes is not None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise Rejected("too_large", f"Content-Length {declared} bytes exceeds {max_bytes}")
    chunks, total = [], 0
    for chunk in response.iter_content(65536):
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise Rejected("too_large", f"body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error_reason(exc: requests.RequestException) -> str:
    text = str(exc).lower()
    if isinstance(exc, requests.Timeout) or "timed out" in text or "timeout" in text:
        return "timeout"
    if isinstance(exc, requests.TooManyRedirects):
        return "too_many_redirects"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "incomplete" in text:
        return "incomplete_body"
    return "connection_error"


def fetch(session: requests.Session, url: str, policy: RetryPolicy, *,
          params: Mapping[str, object] | None = None, headers: Mapping[str, str] | None = None,
          max_bytes: int | None = None,
          check_headers: Callable[[requests.Response], None] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> tuple[requests.Response, bytes]:
    """GET `url` with retries; returns the final response and its body.

    Retries network errors and 429/5xx.  Other statuses come back to the caller, which knows
    what a 404 or a 403 means for its API.  `check_headers` may raise `Rejected` before the
    body is read (for example on `X-Robots-Tag: noai`).
    """
    error = FetchError("connection_error", url)
    for attempt in range(policy.retries + 1):
        response = None
        try:
            response = session.get(url, params=params, headers=headers, timeout=policy.timeout,
                                   stream=True)
            if response.status_code not in RETRY_STATUSES:
                if check_headers is not None:
                    check_headers(response)
                return response, _read_body(response, max_bytes)
            error = FetchError(f"http_{response.status_code}", f"{url} answered "
                               f"{response.status_code} {response.reason} {attempt + 1} time(s)")
            wait = policy.wait(attempt, response)
        except requests.RequestException as exc:
            error = FetchError(_error_reason(exc), f"{url}: {type(exc).__name__}: {exc}")
            wait = policy.wait(attempt)
        finally:
            if response is not None:
                response.close()
        if attempt < policy.retries:
            sleep(wait)
    raise error


class RateLimiter:
    """Honours `X-RateLimit-Remaining` / `X-RateLimit-Reset` (Pixabay: 100 requests per 60 s).

    When the server says no requests are left, the next call waits until the window resets
    instead of running into 429s.
    """

    def __init__(self, max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_wait = max_wait
        self._sleep = sleep
        self._resume_at = 0.0
        self._lock = threading.Lock()

    def before_request(self) -> None:
        with self._lock:
            delay = self._resume_at - time.monotonic()
        if delay > 0:
            self._sleep(min(delay, self.max_wait))

    def after_response(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            remaining_n, reset_s = int(float(remaining)), float(reset)
        except ValueError:
            return
        if remaining_n <= 0:
            with self._lock:
                self._resume_at = time.monotonic() + reset_s


_local = threading.local()


def thread_session(user_agent: str = USER_AGENT) -> requests.Session:
    """One `requests.Session` per thread: sessions keep connections alive but are not thread-safe."""
    session = getattr(_local, "session", None)
    if session is None or session.headers.get("User-Agent") != user_agent:
        session = requests.Session()
        session.headers["User-Agent"] = user_agent
        _local.session = session
    return session
