"""Command line of every scraper: common flags, one source's flags, run, print the summary.

`dataset/scrape_<source>.py` are thin wrappers around `main("<source>")`; `python -m
condgan.scrape <source> ...` is the same thing.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from condgan.errors import UserError, exit_with_user_error
from condgan.scrape.downloader import DownloadOptions, Summary, download_all
from condgan.scrape.manifest import check_label
from condgan.scrape.net import RetryPolicy, scrub
from condgan.scrape.validate import ImageLimits

SOURCES = {
    "pixabay": "Pixabay REST API (PIXABAY_API_KEY)",
    "reddit": "Reddit through praw (REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT)",
    "google": "Google image search via JSON APIs: Programmable Search or SerpApi",
    "openverse": "Openverse openly licensed images (no key needed for light use)",
}


def build_parser(source: str) -> argparse.ArgumentParser:
    module = importlib.import_module(f"condgan.scrape.{source}")
    parser = argparse.ArgumentParser(
        prog=f"scrape_{source}.py", description=f"{SOURCES[source]} -> <out>/<label>/ + "
        "<out>/manifest.jsonl. Re-running resumes: keys already in the manifest are skipped. "
        "See docs/scraping.md for each source's terms.",
        epilog=getattr(module, "CLOSURE", None))
    parser.add_argument("--label", required=True, help="class name the images get, e.g. horse")
    parser.add_argument("--query", default=None, help="search words (default: the label; "
                        "Reddit: optional search inside the subreddit)")
    parser.add_argument("--limit", type=int, default=100,
                        help="stop once the manifest holds this many images of --label")
    parser.add_argument("--out", default="dataset/raw", help="output folder (default dataset/raw)")
    group = parser.add_argument_group("downloader")
    group.add_argument("--workers", type=int, default=8, help="parallel downloads (default 8)")
    group.add_argument("--retries", type=int, default=4, help="extra attempts on 429/5xx/timeouts")
    group.add_argument("--backoff", type=float, default=1.0, help="first retry wait in s, doubles")
    group.add_argument("--max-wait", type=float, default=60.0, help="cap on one wait, Retry-After included")
    group.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    group.add_argument("--min-size", type=int, default=64, help="reject images under this many px a side")
    group.add_argument("--max-pixels", type=int, default=50_000_000, help="decompression-bomb guard")
    group.add_argument("--near-dupes", action="store_true", help="also drop perceptual near-duplicates")
    group.add_argument("--retry-failed", action="store_true",
                       help="fetch again keys whose last attempt failed on the network")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    group.add_argument("--summary-json", default=None, help="also write the summary to this file")
    module.add_arguments(parser)
    return parser


def options_from_args(args: argparse.Namespace) -> DownloadOptions:
    for name in ("workers", "limit", "min_size", "max_pixels"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    policy = RetryPolicy(retries=max(0, args.retries), backoff=args.backoff,
                         max_wait=args.max_wait, timeout=args.timeout)
    return DownloadOptions(workers=args.workers, policy=policy,
                           limits=ImageLimits(min_side=args.min_size, max_pixels=args.max_pixels),
                           near_dupes=args.near_dupes, retry_failed=args.retry_failed,
                           progress=False if args.no_progress else None)


def run(source: str, args: argparse.Namespace) -> Summary:
    check_label(args.label)
    options = options_from_args(args)
    module = importlib.import_module(f"condgan.scrape.{source}")
    query = args.query if args.query is not None else ("" if source == "reddit" else args.label)
    if not query and source != "reddit":
        raise UserError("--query is empty: give the search words, e.g. --query 'horse'")
    src = module.from_args(args, options.policy)
    summary = download_all(src.candidates(query, args.label), Path(args.out), args.label,
                           args.limit, options)
    summary.notes.extend(getattr(src, "notes", []))
    return summary


def main(source: str | None = None, argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if source is None:
        if not argv or argv[0] not in SOURCES:
            print(f"usage: python -m condgan.scrape {{{','.join(SOURCES)}}} [options]", file=sys.stderr)
            return 2
        source, argv = argv[0], argv[1:]
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args = build_parser(source).parse_args(argv)
    try:
        summary = run(source, args)
    except UserError as error:
        exit_with_user_error(UserError(scrub(str(error))))
    except KeyboardInterrupt:
        print("interrupted: everything in the manifest is kept; re-run the same command to resume",
              file=sys.stderr)
        return 130
    print(summary.format())
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return 0


REQUIRED_ENV = {
    "pixabay": ("PIXABAY_API_KEY",),
    "reddit": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"),
    "google": ("GOOGLE_API_KEY", "GOOGLE_CSE_ID"),
    "google:serpapi": ("SERPAPI_API_KEY",),
    "openverse": (),
}


def run_job(job: dict, out: str | Path, *, extra: Sequence[str] = ()) -> Summary | None:
    """Run one scrape described as a dict (notebooks): {"source": "pixabay", "label": "horse",
    "query": "horse", "limit": 50, ...}; other keys become flags.  Returns None, with a message,
    when the source's credentials are not in the environment."""
    job = dict(job)
    source = job.pop("source")
    if source not in SOURCES:
        raise UserError(f"scrape job source {source!r} is not known: use one of {sorted(SOURCES)}")
    needed = REQUIRED_ENV["google:serpapi" if job.get("backend") == "serpapi" else source]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        print(f"skipping {source} ({job.get('label')}): set {', '.join(missing)} to scrape it "
              "(see docs/scraping.md)")
        return None
    argv = ["--out", str(out)]
    for key, value in job.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (False, None):
            argv += [flag, str(value)]
    summary = run(source, build_parser(source).parse_args(argv + list(extra)))
    print(f"{source} ({job.get('label')}): {summary.format()}")
    return summary
