"""Openverse (https://api.openverse.org/v1/) as a candidate source: openly licensed images.

Every result carries its licence, creator and a ready-made attribution line, which makes it
the cleanest source for a dataset someone may share.  Anonymous use is allowed at a low rate
(small pages, a few pages deep); a token from `OPENVERSE_TOKEN` raises those limits.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Iterator

from condgan.errors import UserError
from condgan.scrape.api import ApiError, JsonApi, ResponseCache, base_url
from condgan.scrape.manifest import Candidate
from condgan.scrape.net import RetryPolicy, register_secret

NAME = "openverse"
DEFAULT_URL = "https://api.openverse.org/v1/images/"
ENV_URL = "OPENVERSE_API_URL"
ENV_TOKEN = "OPENVERSE_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Openverse")
    group.add_argument("--api-url", help=f"API base URL (default ${ENV_URL} or {DEFAULT_URL})")
    group.add_argument("--license", dest="licenses", default=None,
                       help="comma-separated licences, e.g. by,by-sa,cc0 (default: any)")
    group.add_argument("--license-type", default=None, choices=("commercial", "modification"),
                       help="only licences that allow commercial use / modification")
    group.add_argument("--per-page", type=int, default=20, help="results per request (20 anonymous)")


def license_name(result: dict) -> str:
    """'by' + '4.0' -> 'CC BY 4.0'; 'cc0' -> 'CC0 1.0'; 'pdm' -> 'PDM 1.0'."""
    code = (result.get("license") or "unknown").lower()
    version = result.get("license_version") or ""
    if code in ("cc0", "pdm"):
        return f"{code.upper()} {version}".strip()
    return f"CC {code.upper()} {version}".strip() if code != "unknown" else "unknown"


class OpenverseSource:
    name = NAME

    def __init__(self, *, api_url: str | None = None, cache_dir: str | Path, token: str | None = None,
                 licenses: str | None = None, license_type: str | None = None,
                 per_page: int = 20, policy: RetryPolicy | None = None) -> None:
        self.url = base_url(api_url, ENV_URL, DEFAULT_URL)
        headers = {}
        if token:
            register_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        self.api = JsonApi(policy, ResponseCache(Path(cache_dir) / NAME), headers)
        self.licenses, self.license_type, self.per_page = licenses, license_type, per_page

    def candidates(self, query: str, label: str) -> Iterator[Candidate]:
        page = 1
        while True:
            params = {"q": query, "page": page, "page_size": self.per_page}
            if self.licenses:
                params["license"] = self.licenses
            if self.license_type:
                params["license_type"] = self.license_type
            try:
                payload = self.api.get(self.url, params)
            except ApiError as exc:
                if page > 1 and exc.status in (400, 401, 403):
                    return  # anonymous depth limit reached: a token from OPENVERSE_TOKEN lifts it
                raise UserError(f"Openverse answered {exc}: check --query and --license") from None
            for result in payload.get("results") or []:
                if not result.get("url"):
                    continue
                yield Candidate(
                    key=f"{NAME}:{result['id']}", source=NAME, label=label, query=query,
                    url=result["url"], page_url=result.get("foreign_landing_url") or "",
                    author=result.get("creator") or "", license=license_name(result),
                    extra={"attribution": result.get("attribution") or "",
                           "license_url": result.get("license_url") or "",
                           "provider": result.get("provider") or ""})
            if not payload.get("results") or page >= int(payload.get("page_count") or 0):
                return
            page += 1


def from_args(args: argparse.Namespace, policy: RetryPolicy) -> OpenverseSource:
    return OpenverseSource(api_url=args.api_url, cache_dir=Path(args.out) / ".cache",
                           token=os.environ.get(ENV_TOKEN) or None, licenses=args.licenses,
                           license_type=args.license_type, per_page=args.per_page, policy=policy)
