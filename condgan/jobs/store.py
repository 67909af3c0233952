"""The jobs table, in SQLite (standard library): one file beside the runs, readable by every
process that serves or works on jobs.

A job moves queued -> running -> exporting -> succeeded, or ends failed, cancelled or
interrupted (its worker went away); the last three are resumable.  Each change is one
transaction, and `claim` takes the next queued job only while fewer than `max_running` run, in
one `BEGIN IMMEDIATE` transaction, so several workers (gunicorn processes, a worker of its own)
never start the same job or more jobs than allowed.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ACTIVE = ("running", "exporting")
RESUMABLE = ("failed", "cancelled", "interrupted")
FINISHED = ("succeeded", *RESUMABLE)
STATUSES = ("queued", *ACTIVE, *FINISHED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,             -- the model the job exports a version of
    recipe TEXT NOT NULL,           -- config file name under the recipes folder
    data TEXT NOT NULL,             -- data set name under the data root
    overrides TEXT NOT NULL,        -- JSON list of "key=value"
    status TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    resume INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,                    -- the running child process (train or export)
    worker TEXT,                    -- which worker runs it: "host:pid"
    model_version INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL
)
"""


class JobStore:
    """Jobs in one SQLite file; safe to use from several threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    @staticmethod
    def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
        if row is None:
            return None
        job = dict(row)
        job["overrides"] = json.loads(job["overrides"])
        job["resume"] = bool(job["resume"])
        job["cancel_requested"] = bool(job["cancel_requested"])
        return job

    def create(self, *, name: str, recipe: str, data: str, overrides: list[str],
               run_dir_for) -> dict[str, Any]:
        """A queued job; `run_dir_for(id)` names its run directory (it needs the new id)."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO jobs (name, recipe, data, overrides, status, run_dir, created_at) "
                "VALUES (?, ?, ?, ?, 'queued', '', ?)",
                (name, recipe, data, json.dumps(list(overrides)), time.time()))
            job_id = cursor.lastrowid
            db.execute("UPDATE jobs SET run_dir = ? WHERE id = ?", (str(run_dir_for(job_id)), job_id))
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def get(self, job_id: int) -> dict[str, Any] | None:
        db = self._connect()
        try:
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        finally:
            db.close()

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        db = self._connect()
        try:
            rows = db.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
            return [self._row(row) for row in rows]
        finally:
            db.close()

    def count(self, statuses: tuple[str, ...]) -> int:
        db = self._connect()
        try:
            marks = ",".join("?" * len(statuses))
            return db.execute(f"SELECT count(*) FROM jobs WHERE status IN ({marks})",
                              statuses).fetchone()[0]
        finally:
            db.close()

    def count_by_status(self) -> dict[str, int]:
        db = self._connect()
        try:
            counts = dict(db.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
        finally:
            db.close()
        return {status: counts.get(status, 0) for status in STATUSES}

    def claim(self, worker: str, max_running: int) -> dict[str, Any] | None:
        """The oldest queued job, now `running` under `worker`; None when none is queued or
        `max_running` jobs run already."""
        with self._transaction() as db:
            marks = ",".join("?" * len(ACTIVE))
            running = db.execute(f"SELECT count(*) FROM jobs WHERE status IN ({marks})",
                                 ACTIVE).fetchone()[0]
            if running >= max_running:
                return None
            row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1"
                             ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET status = 'running', worker = ?, started_at = ?, "
                       "ended_at = NULL, error = NULL, pid = NULL, attempts = attempts + 1 "
                       "WHERE id = ?", (worker, time.time(), row["id"]))
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())

    def update(self, job_id: int, **fields: Any) -> None:
        allowed = {"status", "pid", "worker", "model_version", "error", "started_at", "ended_at",
                   "resume", "cancel_requested"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not job fields: {sorted(unknown)}")
        if fields.get("status") in FINISHED:
            fields.setdefault("ended_at", time.time())
            fields.setdefault("pid", None)
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with self._transaction() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def request_cancel(self, job_id: int) -> dict[str, Any] | None:
        """A queued job is cancelled at once; a running one when its worker sees the request."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET status = 'cancelled', ended_at = ? "
                       "WHERE id = ? AND status = 'queued'", (time.time(), job_id))
            marks = ",".join("?" * len(ACTIVE))
            db.execute(f"UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status IN ({marks})",
                       (job_id, *ACTIVE))
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def request_resume(self, job_id: int, overrides: list[str]) -> dict[str, Any] | None:
        """A failed, cancelled or interrupted job queued again, to continue from its checkpoint
        with `overrides` (its own, or with a changed schedule)."""
        with self._transaction() as db:
            marks = ",".join("?" * len(RESUMABLE))
            db.execute(f"UPDATE jobs SET status = 'queued', resume = 1, cancel_requested = 0, "
                       f"error = NULL, ended_at = NULL, overrides = ? "
                       f"WHERE id = ? AND status IN ({marks})",
                       (json.dumps(list(overrides)), job_id, *RESUMABLE))
            return self._row(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
