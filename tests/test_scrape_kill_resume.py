"""A scraper killed with SIGKILL mid-run resumes to the same final state as an uninterrupted run."""
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from condgan.data.manifest import read_manifest
from scrape_server import FakeWeb, populate

ROOT = Path(__file__).resolve().parents[1]


def command(out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "dataset" / "scrape_openverse.py"), "--label", "horse",
            "--query", "horse", "--limit", "100", "--out", str(out), "--workers", "2",
            "--min-size", "32", "--retries", "1", "--backoff", "0.01", "--timeout", "1",
            "--no-progress"]


def final_state(out: Path):
    records = read_manifest(out)
    statuses = {k: r["status"] for k, r in records.items()
                if not r["url"].endswith(("twin-a.jpg", "twin-b.jpg"))}  # either twin may win
    kept = {r["sha256"] for r in records.values() if r["status"] == "downloaded"}
    files = {p.relative_to(out).as_posix() for p in (out / "horse").iterdir()}
    paths = {r["path"] for r in records.values() if r["status"] == "downloaded"}
    assert files == paths, "every file on disk has exactly one manifest line and vice versa"
    assert not list(out.rglob("*.part"))
    return statuses, kept, collections.Counter(r["status"] for r in records.values())


def test_sigkill_mid_run_then_resume_matches_a_clean_run(tmp_path):
    with FakeWeb() as web:
        populate(web, ("openverse",), good=16)
        for route in web.routes.values():
            route.delay = max(route.delay, 0.1)  # slow enough to be caught mid-run
        env = dict(os.environ, OPENVERSE_API_URL=web.url("/api/openverse/images/"))
        out = tmp_path / "killed"
        process = subprocess.Popen(command(out), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        manifest = out / "manifest.jsonl"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if manifest.exists() and manifest.read_text().count("\n") >= 6:
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        done_before = read_manifest(out)
        assert 6 <= len(done_before) < 29, "killed mid-run"
        hits_before = dict(web.hits)
        for route in web.routes.values():
            route.delay = 3.0 if route.delay == 3.0 else 0.0
        resumed = subprocess.run(command(out), env=env, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        # Nothing that reached the manifest before the kill was fetched again.
        for record in done_before.values():
            path = "/" + record["url"].split("/", 3)[3]
            assert web.hits[path] == hits_before[path], path
        clean = subprocess.run(command(tmp_path / "clean"), env=env, capture_output=True,
                               text=True, timeout=120)
        assert clean.returncode == 0, clean.stderr
        assert final_state(out) == final_state(tmp_path / "clean")
        assert json.loads(manifest.read_text().splitlines()[-1])["key"]
