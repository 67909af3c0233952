"""Pixabay's REST API (https://pixabay.com/api/docs/) as a candidate source.

Terms that shape the code: requests are limited (100 per 60 s, announced in `X-RateLimit-*`
headers, which `net.RateLimiter` honours); responses must be cached for 24 h (`ResponseCache`);
systematic mass downloads are not allowed, and images shown must credit Pixabay and the
author, so every record keeps `pageURL` and `user`.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterator

from condgan.errors import UserError
from condgan.scrape.api import ApiError, JsonApi, ResponseCache, base_url, require_env
from condgan.scrape.manifest import Candidate
from condgan.scrape.net import RetryPolicy

NAME = "pixabay"
DEFAULT_URL = "https://pixabay.com/api/"
ENV_KEY = "PIXABAY_API_KEY"
ENV_URL = "PIXABAY_API_URL"
KEY_HELP = "get a free key at https://pixabay.com/api/docs/ (log in, the key is shown there)"
LICENSE = "Pixabay Content License"
SIZES = {"preview": "previewURL", "web": "webformatURL", "large": "largeImageURL"}
MAX_PER_PAGE = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Pixabay")
    group.add_argument("--api-url", help=f"API base URL (default ${ENV_URL} or {DEFAULT_URL})")
    group.add_argument("--image-type", default="photo", choices=("all", "photo", "illustration", "vector"))
    group.add_argument("--no-safesearch", action="store_true", help="turn off safesearch (on by default)")
    group.add_argument("--per-page", type=int, default=MAX_PER_PAGE, help="results per request, 3..200")
    group.add_argument("--image-size", default="web", choices=sorted(SIZES),
                       help="which rendition to download: preview 150 px, web 640 px, large 1280 px")


class PixabaySource:
    name = NAME

    def __init__(self, api_key: str, *, api_url: str | None = None, cache_dir: str | Path,
                 image_type: str = "photo", safesearch: bool = True, per_page: int = MAX_PER_PAGE,
                 image_size: str = "web", policy: RetryPolicy | None = None) -> None:
        if not 3 <= per_page <= MAX_PER_PAGE:
            raise UserError(f"--per-page {per_page} is outside Pixabay's range 3..200")
        self.key = api_key
        self.url = base_url(api_url, ENV_URL, DEFAULT_URL)
        self.api = JsonApi(policy, ResponseCache(Path(cache_dir) / NAME))
        self.image_type, self.safesearch, self.per_page = image_type, safesearch, per_page
        self.field = SIZES[image_size]

    def _page(self, query: str, page: int) -> dict:
        params = {"key": self.key, "q": query, "image_type": self.image_type,
                  "safesearch": "true" if self.safesearch else "false",
                  "per_page": self.per_page, "page": page}
        try:
            return self.api.get(self.url, params)
        except ApiError as exc:
            if exc.status in (400, 401, 403) and "key" in exc.body.lower():
                raise UserError(f"Pixabay rejected the API key in {ENV_KEY} ({exc.body}): "
                                f"{KEY_HELP}") from None
            if exc.status == 400 and page > 1:
                return {"hits": []}  # paged past the end of what the API will return
            raise UserError(f"Pixabay answered {exc}: check --query and the options") from None

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        """Pages of results until the API's `totalHits` cap (500 by default) is reached."""
        page = 1
        while True:
            payload = self._page(query, page)
            hits = payload.get("hits") or []
            for hit in hits:
                url = hit.get(self.field) or hit.get("webformatURL")
                if not url:
                    continue
                yield Candidate(
                    key=f"{NAME}:{hit['id']}", source=NAME, label=label, query=query, url=url,
                    page_url=hit.get("pageURL", ""), author=hit.get("user", ""), license=LICENSE,
                    extra={"tags": hit.get("tags", "")})
            total = int(payload.get("totalHits") or 0)
            if not hits or page * self.per_page >= total:
                return
            page += 1


def from_args(args: argparse.Namespace, policy: RetryPolicy) -> PixabaySource:
    return PixabaySource(require_env(ENV_KEY, KEY_HELP), api_url=args.api_url,
                         cache_dir=Path(args.out) / ".cache", image_type=args.image_type,
                         safesearch=not args.no_safesearch, per_page=args.per_page,
                         image_size=args.image_size, policy=policy)
