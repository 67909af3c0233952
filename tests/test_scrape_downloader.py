"""The shared downloader against a local server that misbehaves on purpose (real HTTP)."""
import json
import time
from pathlib import Path

import pytest

from condgan.scrape.downloader import PARTIAL_DIR, DownloadOptions, Downloader, download_all
from condgan.data.manifest import FIELDS, read_manifest
from condgan.scrape.manifest import Manifest
from condgan.scrape.net import RetryPolicy
from condgan.scrape.openverse import OpenverseSource
from condgan.scrape.validate import ImageLimits
from scrape_server import FakeWeb, Route, make_jpeg, populate

FAST = RetryPolicy(retries=2, backoff=0.01, max_wait=2.0, timeout=1.0)


def options(**kw):
    kw.setdefault("workers", 4)
    return DownloadOptions(policy=FAST, limits=ImageLimits(min_side=32), progress=False, **kw)


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


def scrape(web, out, limit=100, **kw):
    source = OpenverseSource(api_url=web.url("/api/openverse/images/"), cache_dir=out / ".cache",
                             policy=FAST)
    return download_all(source.candidates("horse", "horse"), out, "horse", limit, options(**kw))


def by_path(out):
    return {r["url"].split("127.0.0.1")[1].split("/", 1)[1]: r for r in read_manifest(out).values()}


def test_every_image_once_every_bad_one_with_its_reason(web, tmp_path):
    expected = populate(web, ("openverse",))
    summary = scrape(web, tmp_path)
    records = by_path(tmp_path)
    assert len(records) == len(expected)
    twins = {"img/twin-a.jpg", "img/twin-b.jpg"}
    for path, (status, reason) in expected.items():
        record = records[path.lstrip("/")]
        assert set(FIELDS) <= set(record), record
        if path.lstrip("/") in twins:
            continue
        assert record["status"] == status, (path, record)
        assert record["error"].startswith(reason), (path, record["error"])
    # The same bytes under two URLs: exactly one kept, the other points at it.
    twin_status = sorted(records[t]["status"] for t in twins)
    assert twin_status == ["downloaded", "duplicate"]
    # Every downloaded image is on disk once, with the manifest's size and hash.
    kept = [r for r in records.values() if r["status"] == "downloaded"]
    files = sorted(p for p in (tmp_path / "horse").iterdir())
    assert len(files) == len(kept) == summary.downloaded == 10
    assert len({r["sha256"] for r in kept}) == len(kept)
    for r in kept:
        assert (tmp_path / r["path"]).is_file() and r["width"] == 80 and r["height"] == 80
    assert not (tmp_path / PARTIAL_DIR).exists()
    # Retries: 500 then success costs two hits; 429 waits Retry-After (1 s) before the retry.
    assert web.hits["/img/flaky.jpg"] == 2
    first, second = web.times["/img/busy.jpg"]
    assert second - first >= 0.9
    assert web.hits["/img/slow.jpg"] == FAST.retries + 1
    assert summary.rejected == {"noai": 1, "not_an_image": 2, "too_large": 1, "too_small": 1,
                                "truncated": 1}
    assert summary.failed == {"http_404": 1, "timeout": 1} and summary.duplicate == 1


def test_resume_fetches_nothing_twice(web, tmp_path):
    populate(web, ("openverse",))
    scrape(web, tmp_path)
    before = web.image_hits()
    lines = (tmp_path / "manifest.jsonl").read_text().count("\n")
    summary = scrape(web, tmp_path)
    assert web.image_hits() == before and summary.downloaded == 0
    assert summary.skipped == summary.found == 19
    assert (tmp_path / "manifest.jsonl").read_text().count("\n") == lines
    # --retry-failed asks again for the network failures only (the 404 and the timeout).
    web.routes["/img/slow.jpg"].delay = 0
    hits = dict(web.hits)
    summary = scrape(web, tmp_path, retry_failed=True)
    changed = {p for p in web.hits if web.hits[p] != hits.get(p, 0) and p.startswith("/img/")}
    assert changed == {"/img/slow.jpg", "/img/gone.jpg"}
    assert summary.downloaded == 1 and read_manifest(tmp_path)[
        next(k for k, r in read_manifest(tmp_path).items() if r["url"].endswith("slow.jpg"))
    ]["status"] == "downloaded"


def test_limit_is_never_overshot_and_a_later_run_tops_up(web, tmp_path):
    populate(web, ("openverse",), good=8, bad=False)
    assert scrape(web, tmp_path, limit=3).downloaded == 3
    assert web.image_hits() == 3
    assert scrape(web, tmp_path, limit=5).downloaded == 2
    assert web.image_hits() == 5
    summary = scrape(web, tmp_path, limit=5)
    assert summary.downloaded == 0 and "nothing to do" in summary.notes[0]


def test_near_duplicates_only_with_the_flag(web, tmp_path):
    web.add("/img/a.jpg", Route(make_jpeg(7, quality=95)), ("openverse",))
    web.add("/img/b.jpg", Route(make_jpeg(7, size=96, quality=60)), ("openverse",))
    web.add("/img/c.jpg", Route(make_jpeg(8)), ("openverse",))
    assert scrape(web, tmp_path / "plain", workers=1).downloaded == 3
    summary = scrape(web, tmp_path / "near", workers=1, near_dupes=True)
    assert summary.downloaded == 2 and summary.duplicate == 1
    dup = [r for r in read_manifest(tmp_path / "near").values() if r["status"] == "duplicate"]
    assert dup[0]["error"].startswith("near_duplicate of openverse:ov-0")


def test_torn_manifest_tail_is_healed(web, tmp_path):
    web.add("/img/a.jpg", Route(make_jpeg(1)), ("openverse",))
    good = {"key": "x:1", "status": "failed", "label": "horse"}
    (tmp_path / "manifest.jsonl").write_text(json.dumps(good) + "\n" + '{"key": "x:2", "sta')
    scrape(web, tmp_path)
    lines = (tmp_path / "manifest.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["status"] == "downloaded"
    assert set(read_manifest(tmp_path)) == {"x:1", "openverse:ov-0"}


def test_local_file_candidates_and_atomic_writes(tmp_path):
    from condgan.scrape.local import import_local_folders
    root = tmp_path / "mine"
    for name, seeds in (("cat", (1, 2, 2)), ("dog", (3,))):
        (root / name).mkdir(parents=True)
        for i, seed in enumerate(seeds):
            (root / name / f"{i}.jpg").write_bytes(make_jpeg(seed))
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / "broken.jpg").write_bytes(b"<html>")
    summaries = import_local_folders(root, tmp_path / "out", options=options())
    assert summaries["cat"].downloaded == 2 and summaries["cat"].duplicate == 1
    assert summaries["dog"].downloaded == 1 and summaries["dog"].rejected == {"not_an_image": 1}
    again = import_local_folders(root, tmp_path / "out", options=options())
    assert again["cat"].skipped == 3 and again["cat"].downloaded == 0
