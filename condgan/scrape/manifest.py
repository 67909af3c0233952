"""`manifest.jsonl`: the append-only record of every candidate a scraper has handled.

One JSON object per line with the DESIGN.md schema.  A line is appended only after its file
is in place, and each line is flushed at once, so a killed run loses at most its in-flight
downloads.  Reading keeps the *last* line per key, so a retried key simply gets a newer line;
a torn last line (a kill in the middle of a write) is skipped with a warning and the file is
healed with a newline before anything is appended.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from condgan.data.manifest import MANIFEST_NAME, STATUSES, read_manifest
from condgan.errors import UserError
from condgan.scrape.net import scrub

log = logging.getLogger(__name__)

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")


def check_label(label: str) -> str:
    """A label becomes a folder name, so it must be a plain name (no slashes, no '..')."""
    if not _LABEL.match(label or "") or ".." in label:
        raise UserError(f"label {label!r} is not usable as a class name: use letters, digits, "
                        "spaces, '_', '-', '.', '+' (at most 64 characters), e.g. --label horse")
    return label


@dataclasses.dataclass
class Candidate:
    """One image a source proposes: where it is and who made it, before any download."""

    key: str            # stable id, e.g. "pixabay:195893"; the unit of resume and dedupe
    source: str
    label: str
    query: str
    url: str
    page_url: str = ""
    author: str = ""
    license: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # tags, title, attribution


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def make_record(candidate: Candidate, status: str, *, error: str = "", width: int | None = None,
                height: int | None = None, sha256: str = "", path: str = "") -> dict[str, Any]:
    if status not in STATUSES:
        raise ValueError(f"unknown manifest status {status!r}")
    record = {
        "key": candidate.key, "source": candidate.source, "label": candidate.label,
        "query": candidate.query, "url": scrub(candidate.url), "page_url": scrub(candidate.page_url),
        "author": candidate.author, "license": candidate.license, "retrieved_at": now_iso(),
        "status": status, "error": scrub(error), "width": width, "height": height,
        "sha256": sha256, "path": path,
    }
    record.update({k: v for k, v in candidate.extra.items() if k not in record})
    return record


class Manifest:
    """The manifest of one output folder, open for appending from many threads."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / MANIFEST_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self.entries = read_manifest(self.path)
            self._heal_torn_tail()
        self._lock = threading.Lock()
        self._handle = open(self.path, "a", encoding="utf-8")

    def _heal_torn_tail(self) -> None:
        with open(self.path, "rb+") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def status(self, key: str) -> str | None:
        record = self.entries.get(key)
        return record["status"] if record else None

    def count(self, status: str, label: str | None = None) -> int:
        return sum(1 for r in self.entries.values()
                   if r["status"] == status and (label is None or r["label"] == label))

    def downloaded(self) -> list[dict[str, Any]]:
        return [r for r in self.entries.values() if r["status"] == "downloaded"]

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()  # in the OS's hands now: survives a killed process
            self.entries[record["key"]] = record

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.close()

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
