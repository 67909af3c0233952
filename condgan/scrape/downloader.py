"""The one downloader every source feeds: candidates in, validated unique files + manifest out.

A bounded thread pool (downloads wait on the network, not the CPU, so threads suffice and the
bound keeps us polite).  Per candidate: fetch with retries (`net.fetch`), refuse
`X-Robots-Tag: noai|noimageai`, validate by decoding (`validate.py`), drop exact duplicates by
SHA-256 and optionally near-duplicates by dHash, write to a temp file and rename it into place,
and only then append the manifest line.  Keys already in the manifest are never fetched again.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import logging
import os
import re
import shutil
import threading
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote, urlparse

from tqdm import tqdm

from condgan.scrape.manifest import Candidate, Manifest, check_label, make_record
from condgan.scrape.net import (USER_AGENT, FetchError, Rejected, RetryPolicy, fetch, scrub,
                                thread_session)
from condgan.scrape.validate import ImageLimits, NearDuplicateIndex, dhash, validate_image

log = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"  # temp files live here until renamed into place
_NOAI = {"noai", "noimageai"}


@dataclasses.dataclass
class DownloadOptions:
    workers: int = 8
    policy: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    limits: ImageLimits = dataclasses.field(default_factory=ImageLimits)
    near_dupes: bool = False        # also drop perceptual near-duplicates
    near_threshold: int = 6         # dHash bits; 0-6 are almost always the same picture
    retry_failed: bool = False      # fetch keys whose last attempt failed (network) again
    user_agent: str = USER_AGENT
    progress: bool | None = None    # None: a bar only when stderr is a terminal


@dataclasses.dataclass
class Summary:
    found: int = 0          # candidates the source proposed
    skipped: int = 0        # already in the manifest (resume)
    downloaded: int = 0
    duplicate: int = 0
    rejected: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    failed: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    notes: list[str] = dataclasses.field(default_factory=list)

    def format(self) -> str:
        def reasons(counter: collections.Counter) -> str:
            if not counter:
                return "0"
            inner = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
            return f"{sum(counter.values())} ({inner})"
        lines = [f"found {self.found}, already in manifest {self.skipped}, downloaded "
                 f"{self.downloaded}, duplicate {self.duplicate}, rejected "
                 f"{reasons(self.rejected)}, failed {reasons(self.failed)}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"found": self.found, "skipped": self.skipped, "downloaded": self.downloaded,
                "duplicate": self.duplicate, "rejected": dict(self.rejected),
                "failed": dict(self.failed), "notes": list(self.notes)}


def safe_filename(key: str) -> str:
    """A file name from a key: readable, no path characters, unique thanks to a short hash."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", key).strip("_")[:60] or "image"
    return f"{stem}_{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _check_robots(response) -> None:
    # X-Robots-Tag may be "noai", "noimageai" or "otherbot: noai, noindex"; any mention counts.
    # Repeated headers arrive joined by ", " (RFC 9110 section 5.3).
    value = response.headers.get("X-Robots-Tag", "")
    if {t.lower() for t in re.split(r"[,:\s]+", value)} & _NOAI:
        raise Rejected("noai", f"X-Robots-Tag: {value}")


class Downloader:
    """Runs candidates through fetch -> validate -> dedupe -> store for one output folder."""

    def __init__(self, out: str | os.PathLike, options: DownloadOptions | None = None) -> None:
        self.out = Path(out)
        self.options = options or DownloadOptions()
        self.manifest = Manifest(self.out)
        self.partial = self.out / PARTIAL_DIR
        shutil.rmtree(self.partial, ignore_errors=True)  # leftovers of a killed run
        self.partial.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._sha_owner = {r["sha256"]: r["key"] for r in self.manifest.downloaded() if r.get("sha256")}
        self._near = NearDuplicateIndex(self.options.near_threshold) if self.options.near_dupes else None
        if self._near is not None:
            self._index_existing()

    def _index_existing(self) -> None:
        for record in self.manifest.downloaded():
            try:
                self._near.add(record["key"], dhash((self.out / record["path"]).read_bytes()))
            except (OSError, ValueError):
                log.warning("cannot re-hash %s for near-duplicate checks", record["path"])

    # -- one candidate -------------------------------------------------------------------
    def _fetch_bytes(self, candidate: Candidate) -> bytes:
        if candidate.url.startswith("file://"):
            path = Path(unquote(urlparse(candidate.url).path))
            try:
                if path.stat().st_size > self.options.limits.max_bytes:
                    raise Rejected("too_large", f"{path.stat().st_size} bytes")
                return path.read_bytes()
            except OSError as exc:
                raise FetchError("unreadable_file", str(exc)) from None
        response, body = fetch(thread_session(self.options.user_agent), candidate.url,
                               self.options.policy, max_bytes=self.options.limits.max_bytes,
                               check_headers=_check_robots)
        if response.status_code != 200:
            raise FetchError(f"http_{response.status_code}", f"{candidate.url} answered "
                             f"{response.status_code} {response.reason}")
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind.startswith(("text/", "application/json")):
            raise Rejected("not_an_image", f"Content-Type {kind}")
        return body

    def process(self, candidate: Candidate) -> dict:
        """Handle one candidate end to end and return the manifest record it produced."""
        try:
            body = self._fetch_bytes(candidate)
            suffix, width, height = validate_image(body, self.options.limits)
            near_hash = dhash(body) if self._near is not None else None
        except Rejected as exc:
            return self._record(candidate, "rejected", error=str(exc))
        except FetchError as exc:
            return self._record(candidate, "failed", error=str(exc))
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:  # the check and the reservation must be one step across threads
            owner = self._sha_owner.get(digest)
            near = self._near.find(near_hash) if near_hash is not None and owner is None else None
            if owner is None and near is None:
                self._sha_owner[digest] = candidate.key
                if near_hash is not None:
                    self._near.add(candidate.key, near_hash)
        if owner is not None:
            return self._record(candidate, "duplicate", error=f"sha256 duplicate of {owner}",
                                width=width, height=height, sha256=digest)
        if near is not None:
            return self._record(candidate, "duplicate", width=width, height=height, sha256=digest,
                                error=f"near_duplicate of {near[0]} (dHash distance {near[1]})")
        relative = Path(candidate.label) / (safe_filename(candidate.key) + suffix)
        try:
            self._write_atomic(relative, body)
        except OSError as exc:
            with self._lock:
                self._sha_owner.pop(digest, None)
            return self._record(candidate, "failed", error=f"write_error: {exc}")
        return self._record(candidate, "downloaded", width=width, height=height, sha256=digest,
                            path=relative.as_posix())

    def _write_atomic(self, relative: Path, body: bytes) -> None:
        target = self.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.partial / f"{uuid.uuid4().hex}.part"
        with open(tmp, "wb") as handle:
            handle.write(body)
        os.replace(tmp, target)  # atomic on POSIX: readers see no file or the whole file

    def _record(self, candidate: Candidate, status: str, **fields) -> dict:
        record = make_record(candidate, status, **fields)
        self.manifest.append(record)
        return record

    # -- a whole run ---------------------------------------------------------------------
    def _wanted(self, candidate: Candidate, seen: set[str]) -> bool:
        if candidate.key in seen:
            return False
        seen.add(candidate.key)
        status = self.manifest.status(candidate.key)
        return status is None or (status == "failed" and self.options.retry_failed)

    def run(self, candidates: Iterable[Candidate], label: str, limit: int | None) -> Summary:
        """Download until `limit` images of `label` are in the manifest (None: no limit) or
        the source runs dry."""
        check_label(label)
        summary = Summary()
        have = self.manifest.count("downloaded", label)
        need = float("inf") if limit is None else max(0, limit - have)
        if need == 0:
            summary.notes.append(f"the manifest already holds {have} image(s) labelled "
                                 f"{label!r} (limit {limit}): nothing to do")
            return summary
        progress = self.options.progress
        bar = tqdm(total=None if limit is None else need, unit="img", desc=label, leave=False,
                   disable=None if progress is None else not progress)
        seen: set[str] = set()
        pending: set[Future] = set()
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix="download") as pool:
            try:
                for candidate in candidates:
                    summary.found += 1
                    if not self._wanted(candidate, seen):
                        summary.skipped += 1
                        continue
                    # Never more in flight than could still be needed: no overshoot of --limit.
                    while pending and (len(pending) >= self.options.workers
                                       or summary.downloaded + len(pending) >= need):
                        pending = self._collect(pending, summary, bar)
                    if summary.downloaded >= need:
                        break
                    pending.add(pool.submit(self.process, candidate))
                while pending:
                    pending = self._collect(pending, summary, bar)
            finally:
                for future in pending:
                    future.cancel()
                bar.close()
        if summary.found == 0:
            summary.notes.append("the source returned no candidates: check the query spelling, "
                                 "the filters and the API key's access")
        elif limit is not None and summary.downloaded < need:
            summary.notes.append(f"the source ran out after {summary.found} candidate(s): "
                                 f"{have + summary.downloaded} of the {limit} asked for")
        return summary

    def _collect(self, pending: set[Future], summary: Summary, bar: tqdm) -> set[Future]:
        done, still = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            record = future.result()
            status = record["status"]
            reason = scrub(record["error"]).split(":")[0]
            if status == "downloaded":
                summary.downloaded += 1
                bar.update(1)
            elif status == "duplicate":
                summary.duplicate += 1
            elif status == "rejected":
                summary.rejected[reason] += 1
            else:
                summary.failed[reason] += 1
            bar.set_postfix(dup=summary.duplicate, rej=sum(summary.rejected.values()),
                            fail=sum(summary.failed.values()), refresh=False)
        return still

    def close(self) -> None:
        self.manifest.close()
        shutil.rmtree(self.partial, ignore_errors=True)


def download_all(candidates: Iterable[Candidate], out: str | os.PathLike, label: str,
                 limit: int | None,
                 options: DownloadOptions | None = None) -> Summary:
    downloader = Downloader(out, options)
    try:
        return downloader.run(candidates, label, limit)
    finally:
        downloader.close()
