"""Each source against a local server speaking its API (real HTTP; Reddit through real praw)."""
import json
import os
import subprocess
import sys
import time

import pytest

from condgan.errors import UserError
from condgan.scrape import cli
from condgan.scrape.google import CSE_MAX_RESULTS, GoogleCseSource, SerpApiSource
from condgan.data.manifest import read_manifest
from condgan.scrape.net import RetryPolicy
from condgan.scrape.pixabay import PixabaySource
from condgan.scrape.reddit import RedditSource
import scrape_server as fake
from scrape_server import FakeWeb, Route, make_jpeg, populate

FAST = RetryPolicy(retries=1, backoff=0.01, max_wait=2.0, timeout=2.0)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOWNLOAD_FLAGS = ["--min-size", "32", "--retries", "1", "--backoff", "0.01", "--timeout", "2",
                  "--no-progress", "--workers", "4"]


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


def test_pixabay_pages_caches_for_a_day_and_records_credit(web, tmp_path, monkeypatch):
    populate(web, ("pixabay",), good=7, bad=False)
    web.api_headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}
    monkeypatch.setenv("PIXABAY_API_KEY", fake.PIXABAY_KEY)
    monkeypatch.setenv("PIXABAY_API_URL", web.url("/api/pixabay/"))
    argv = ["--label", "horse", "--query", "horse", "--limit", "50", "--out", str(tmp_path),
            "--per-page", "3"] + DOWNLOAD_FLAGS
    started = time.monotonic()
    assert cli.main("pixabay", argv) == 0
    # 7 hits at 3 per page: pages 1..3; "0 requests left, reset in 1 s" makes each next page wait.
    assert web.hits["/api/pixabay/"] == 3 and time.monotonic() - started >= 1.8
    records = list(read_manifest(tmp_path).values())
    assert len(records) == 7 and all(r["status"] == "downloaded" for r in records)
    assert records[0]["author"].startswith("user") and records[0]["page_url"].startswith("https://pixabay")
    assert records[0]["tags"] == "horse, animal" and records[0]["license"] == "Pixabay Content License"
    text = (tmp_path / "manifest.jsonl").read_text() + "".join(
        p.read_text() for p in (tmp_path / ".cache").rglob("*.json"))
    assert fake.PIXABAY_KEY not in text  # the key is neither in the manifest nor in the cache
    # Within 24 h the same query is answered from the cache: no API request at all.
    web.api_headers = {}
    assert cli.main("pixabay", argv) == 0
    assert web.hits["/api/pixabay/"] == 3


def test_pixabay_missing_or_wrong_key_is_one_clear_line(web, tmp_path, monkeypatch):
    env = dict(os.environ, PIXABAY_API_URL=web.url("/api/pixabay/"))
    env.pop("PIXABAY_API_KEY", None)
    cmd = [sys.executable, os.path.join(ROOT, "dataset", "scrape_pixabay.py"), "--label", "horse",
           "--out", str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "PIXABAY_API_KEY" in done.stderr
    assert "pixabay.com/api/docs" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    env["PIXABAY_API_KEY"] = "wrong-key-abcdef"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "rejected the API key" in done.stderr
    assert "wrong-key-abcdef" not in done.stderr + done.stdout


def test_google_cse_reports_the_100_result_ceiling(web, tmp_path):
    for i in range(120):
        web.add(f"/img/g{i}.jpg", Route(make_jpeg(i)), ("cse",))
    source = GoogleCseSource(fake.GOOGLE_KEY, fake.CSE_ID, api_url=web.url("/api/cse"),
                             cache_dir=tmp_path, policy=FAST)
    found = list(source.candidates("dog photo", "dog"))
    assert len(found) == CSE_MAX_RESULTS and len({c.key for c in found}) == 100
    assert web.hits["/api/cse"] == 10
    assert "at most 100 results per query" in source.notes[0]
    bad = GoogleCseSource("not-the-key", fake.CSE_ID, api_url=web.url("/api/cse"),
                          cache_dir=tmp_path / "b", policy=FAST)
    with pytest.raises(UserError, match="GOOGLE_API_KEY") as error:
        list(bad.candidates("dog", "dog"))
    assert "not-the-key" not in str(error.value) and "2027-01-01" in str(error.value)


def test_google_backends_through_the_cli(web, tmp_path, monkeypatch):
    expected = populate(web, ("cse", "serpapi"), good=3, bad=False)
    monkeypatch.setenv("GOOGLE_API_KEY", fake.GOOGLE_KEY)
    monkeypatch.setenv("GOOGLE_CSE_ID", fake.CSE_ID)
    monkeypatch.setenv("SERPAPI_API_KEY", fake.SERPAPI_KEY)
    monkeypatch.setenv("GOOGLE_CSE_API_URL", web.url("/api/cse"))
    monkeypatch.setenv("SERPAPI_URL", web.url("/api/serpapi"))
    base = ["--label", "dog", "--query", "dog photo", "--limit", "10"] + DOWNLOAD_FLAGS
    assert cli.main("google", base + ["--out", str(tmp_path / "cse")]) == 0
    assert cli.main("google", base + ["--out", str(tmp_path / "serp"), "--backend", "serpapi"]) == 0
    for name in ("cse", "serp"):
        records = read_manifest(tmp_path / name)
        assert len(records) == len(expected) and {r["status"] for r in records.values()} == {"downloaded"}
        assert all(r["page_url"].startswith("https://example.org") for r in records.values())
    assert web.hits["/api/serpapi"] == 1
    monkeypatch.delenv("SERPAPI_API_KEY")
    with pytest.raises(SystemExit) as stop:
        cli.main("google", base + ["--out", str(tmp_path / "x"), "--backend", "serpapi"])
    assert stop.value.code == 2


def test_openverse_records_licence_and_attribution(web, tmp_path, monkeypatch, capsys):
    populate(web, ("openverse",), good=2, bad=False)
    monkeypatch.setenv("OPENVERSE_API_URL", web.url("/api/openverse/images/"))
    assert cli.main("openverse", ["--label", "horse", "--out", str(tmp_path)] + DOWNLOAD_FLAGS) == 0
    records = list(read_manifest(tmp_path).values())
    assert {r["license"] for r in records} == {"CC BY 4.0"}
    assert all("licensed under CC BY 4.0" in r["attribution"] for r in records)
    assert "found 2, already in manifest 0, downloaded 2" in capsys.readouterr().out


def reddit_env(monkeypatch, web):
    monkeypatch.setenv("praw_oauth_url", web.base)
    monkeypatch.setenv("praw_reddit_url", web.base)
    for name, value in (("REDDIT_CLIENT_ID", fake.REDDIT_ID), ("REDDIT_CLIENT_SECRET", fake.REDDIT_SECRET),
                        ("REDDIT_USER_AGENT", fake.REDDIT_UA)):
        monkeypatch.setenv(name, value)


def test_reddit_through_praw_posts_galleries_and_nsfw(web, tmp_path, monkeypatch):
    for i in range(4):
        web.add(f"/img/r{i}.jpg", Route(make_jpeg(50 + i)))
    web.reddit_post("a1", url=web.url("/img/r0.jpg"))
    web.reddit_post("a2", gallery=[web.url("/img/r1.jpg"), web.url("/img/r2.jpg")])
    web.reddit_post("a3", url=web.url("/img/r3.jpg"), over_18=True)
    web.reddit_post("a4", url="https://www.reddit.com/r/cats/comments/a4/text_post/")
    reddit_env(monkeypatch, web)
    argv = ["--label", "cat", "--subreddit", "cats", "--out", str(tmp_path), "--limit", "10"] + DOWNLOAD_FLAGS
    assert cli.main("reddit", argv) == 0
    records = read_manifest(tmp_path)
    assert sorted(records) == ["reddit:a1", "reddit:a2:m0", "reddit:a2:m1"]
    assert records["reddit:a1"]["page_url"] == "https://www.reddit.com/r/cats/comments/a1/x/"
    assert records["reddit:a1"]["author"] == "someone"
    assert web.hits["/api/v1/access_token"] == 1 and web.hits["/r/cats/top"] >= 1
    assert not any(p.startswith("/comments") for p in web.hits)  # no per-post fetches
    assert cli.main("reddit", argv + ["--allow-nsfw"]) == 0
    assert "reddit:a3" in read_manifest(tmp_path) and web.hits["/img/r0.jpg"] == 1
    # A search inside the subreddit goes to /r/<name>/search.
    assert cli.main("reddit", argv + ["--query", "tabby", "--out", str(tmp_path / "s")]) == 0
    assert web.hits["/r/cats/search/"] == 1, web.hits


def test_reddit_credentials_and_user_agent_errors(web, tmp_path, monkeypatch):
    reddit_env(monkeypatch, web)
    args = dict(subreddit="cats", policy=FAST)
    with pytest.raises(UserError, match="REDDIT_USER_AGENT"):
        RedditSource(fake.REDDIT_ID, fake.REDDIT_SECRET, "my scraper", **args)
    wrong = RedditSource(fake.REDDIT_ID, "nope-secret", fake.REDDIT_UA, **args)
    with pytest.raises(UserError, match="REDDIT_CLIENT_SECRET") as error:
        list(wrong.candidates("", "cat"))
    assert "nope-secret" not in str(error.value)
    monkeypatch.delenv("REDDIT_CLIENT_ID")
    parser = cli.build_parser("reddit")
    with pytest.raises(UserError, match="REDDIT_CLIENT_ID.*reddit.com/prefs/apps"):
        cli.run("reddit", parser.parse_args(["--label", "cat", "--subreddit", "cats", "--out", str(tmp_path)]))
