"""Reading a scrape manifest (`manifest.jsonl`): one JSON object per image a scraper handled.

The format belongs to the data layer, which builds array sets from it (`build_arrays.py`); the
scrapers (`condgan.scrape.manifest`) write it.  Reading keeps the *last* line per key, so a
retried key simply gets a newer line; a torn last line (a kill in the middle of a write) is
skipped with a warning.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Iterator

from condgan.errors import UserError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.jsonl"
FIELDS = ("key", "source", "label", "query", "url", "page_url", "author", "license",
          "retrieved_at", "status", "error", "width", "height", "sha256", "path")
STATUSES = ("downloaded", "duplicate", "rejected", "failed")


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record in file order; torn or foreign lines are skipped with a warning."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is not valid JSON (an interrupted write?): skipped",
                            path, number)
                continue
            if isinstance(record, dict) and "key" in record and "status" in record:
                yield record


def read_manifest(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """key -> latest record of a manifest file (or of `folder/manifest.jsonl`)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise UserError(f"manifest {str(path)!r} does not exist: run a scraper with --out "
                        f"{path.parent} first, or pass a folder of class sub-folders")
    latest: dict[str, dict[str, Any]] = {}
    for record in iter_lines(path):
        latest[record["key"]] = record
    return latest
