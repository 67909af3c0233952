"""Scrape pixabay into <out>/<label>/ + <out>/manifest.jsonl (see `--help` and docs/scraping.md)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install

from condgan.scrape.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main("pixabay"))
