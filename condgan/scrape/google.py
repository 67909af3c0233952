"""Google image search through JSON APIs only: no HTML result pages are ever parsed
(every scraper that parsed them broke each time Google changed its markup).

Back ends (`--backend`):
- `cse`: the Programmable Search (Custom Search) JSON API, `searchType=image`, paged by
  `start`.  It never returns more than 100 results per query (10 pages of 10); we say so
  rather than stop silently.  Google closed it to new customers and ends whole-web search
  on 2027-01-01, so existing keys only.  Free quota: 100 queries a day.
- `serpapi`: SerpApi's `google_images` engine (https://serpapi.com/google-images-api), a paid
  JSON service for everyone else, paged by `ijn` (100 results per page).
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Iterator

from condgan.errors import UserError
from condgan.scrape.api import ApiError, JsonApi, ResponseCache, base_url, require_env
from condgan.scrape.manifest import Candidate
from condgan.scrape.net import RetryPolicy

NAME = "google"
CSE_URL = "https://www.googleapis.com/customsearch/v1"
SERPAPI_URL = "https://serpapi.com/search.json"
CSE_MAX_RESULTS = 100  # start + num may not pass 100
LICENSE = "unknown (check page_url)"
CLOSURE = ("The Programmable Search JSON API is closed to new customers and ends whole-web "
           "search on 2027-01-01; without an existing key use --backend serpapi.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Google")
    group.add_argument("--backend", default="cse", choices=("cse", "serpapi"),
                       help="cse: Programmable Search JSON API (GOOGLE_API_KEY, GOOGLE_CSE_ID; at "
                            "most 100 results per query; 100 free queries a day). " + CLOSURE +
                            " serpapi: SerpApi google_images (SERPAPI_API_KEY).")
    group.add_argument("--api-url", help="API URL (default $GOOGLE_CSE_API_URL / $SERPAPI_URL, "
                                         "else the public endpoint)")
    group.add_argument("--safe", default="active", choices=("active", "off"))
    group.add_argument("--rights", default=None,
                       help="cse only: licence filter, e.g. cc_publicdomain,cc_attribute")


def _key(url: str) -> str:
    return f"{NAME}:{hashlib.sha1(url.encode()).hexdigest()[:16]}"


class GoogleCseSource:
    name = NAME

    def __init__(self, api_key: str, engine_id: str, *, api_url: str | None = None,
                 cache_dir: str | Path, safe: str = "active", rights: str | None = None,
                 policy: RetryPolicy | None = None) -> None:
        self.key, self.cx = api_key, engine_id
        self.url = base_url(api_url, "GOOGLE_CSE_API_URL", CSE_URL)
        self.api = JsonApi(policy, ResponseCache(Path(cache_dir) / "google-cse"))
        self.safe, self.rights = safe, rights
        self.notes: list[str] = []

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        start = 1
        while True:
            params = {"key": self.key, "cx": self.cx, "q": query, "searchType": "image",
                      "num": 10, "start": start, "safe": self.safe}
            if self.rights:
                params["rights"] = self.rights
            try:
                payload = self.api.get(self.url, params)
            except ApiError as exc:
                raise _cse_error(exc) from None
            items = payload.get("items") or []
            for item in items:
                image = item.get("image") or {}
                yield Candidate(key=_key(item["link"]), source=NAME, label=label, query=query,
                                url=item["link"], page_url=image.get("contextLink", ""),
                                author=item.get("displayLink", ""), license=LICENSE,
                                extra={"title": item.get("title", "")})
            if len(items) < 10:
                return  # the engine has nothing more for this query
            if start + 10 > CSE_MAX_RESULTS:
                self.notes.append(
                    f"Google's Programmable Search API returns at most {CSE_MAX_RESULTS} results "
                    "per query and this query reached it: for more images run more queries "
                    "(e.g. 'dog photo', 'dog outdoors') with the same --label")
                return
            if not payload.get("queries", {}).get("nextPage"):
                return
            start += 10


def _cse_error(exc: ApiError) -> UserError:
    reason = ""
    if isinstance(exc.payload, dict):
        errors = (exc.payload.get("error") or {}).get("errors") or [{}]
        reason = errors[0].get("reason", "")
    if exc.status == 429 or "Limit" in reason or "quota" in exc.body.lower():
        return UserError("Google's Programmable Search quota is used up (100 free queries a day): "
                         "wait for the daily reset, enable billing, or use --backend serpapi")
    if exc.status in (400, 401, 403):
        return UserError(f"Google rejected the request ({exc}): check GOOGLE_API_KEY and "
                         f"GOOGLE_CSE_ID (https://programmablesearchengine.google.com/). {CLOSURE}")
    return UserError(f"Google answered {exc}")


class SerpApiSource:
    name = NAME

    def __init__(self, api_key: str, *, api_url: str | None = None, cache_dir: str | Path,
                 safe: str = "active", policy: RetryPolicy | None = None) -> None:
        self.key = api_key
        self.url = base_url(api_url, "SERPAPI_URL", SERPAPI_URL)
        self.api = JsonApi(policy, ResponseCache(Path(cache_dir) / "serpapi"))
        self.safe = safe
        self.notes: list[str] = []

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        page = 0
        while True:
            params = {"engine": "google_images", "q": query, "ijn": page, "safe": self.safe,
                      "api_key": self.key}
            try:
                payload = self.api.get(self.url, params)
            except ApiError as exc:
                raise UserError(f"SerpApi answered {exc}: check SERPAPI_API_KEY "
                                "(https://serpapi.com/manage-api-key) and your plan's searches left") from None
            if payload.get("error"):
                if "hasn't returned any results" in str(payload["error"]):
                    return
                raise UserError(f"SerpApi error: {payload['error']}")
            results = payload.get("images_results") or []
            for item in results:
                url = item.get("original")
                if not url:
                    continue
                yield Candidate(key=_key(url), source=NAME, label=label, query=query, url=url,
                                page_url=item.get("link", ""), author=item.get("source", ""),
                                license=LICENSE, extra={"title": item.get("title", "")})
            if not results or not payload.get("serpapi_pagination", {}).get("next"):
                return
            page += 1


def from_args(args: argparse.Namespace, policy: RetryPolicy):
    cache = Path(args.out) / ".cache"
    if args.backend == "cse":
        where = "create a key at https://developers.google.com/custom-search/v1/overview. " + CLOSURE
        return GoogleCseSource(require_env("GOOGLE_API_KEY", where),
                               require_env("GOOGLE_CSE_ID", "create a search engine with image search on "
                                           "at https://programmablesearchengine.google.com/ and copy its ID"),
                               api_url=args.api_url, cache_dir=cache, safe=args.safe,
                               rights=args.rights, policy=policy)
    return SerpApiSource(require_env("SERPAPI_API_KEY", "get a key at https://serpapi.com/manage-api-key"),
                         api_url=args.api_url, cache_dir=cache, safe=args.safe, policy=policy)
