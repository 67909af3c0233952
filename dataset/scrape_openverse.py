"""Scrape openverse into <out>/<label>/ + <out>/manifest.jsonl (see `--help` and docs/scraping.md)."""
from condgan.scrape.cli import main

if __name__ == "__main__":
    raise SystemExit(main("openverse"))
