"""What a job's run directory says about its progress: the newest history line (images seen,
images/s, losses), an ETA from the epochs left and the time budget, the newest sample grid, the
log's tail.  Read from files only, so any process (a server restart, another worker) sees the
same."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

# history.jsonl fields that are bookkeeping, not losses or scores
_BOOKKEEPING = {"epoch", "step", "images_seen", "kimg", "wall_time_s", "images_per_s", "lr"}


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    file = run_dir / "history.jsonl"
    if not file.is_file():
        return []
    rows = []
    for line in file.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line being written
    return rows


def newest_sample(run_dir: Path) -> Path | None:
    samples = sorted((run_dir / "samples").glob("epoch_*.png")) if (run_dir / "samples").is_dir() else []
    return samples[-1] if samples else None


def log_tail(file: Path, lines: int = 30, max_bytes: int = 16384) -> list[str]:
    if not file.is_file():
        return []
    with open(file, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - max_bytes))
        text = handle.read().decode("utf-8", errors="replace")
    # A progress bar redraws its line with carriage returns: keep what the line ended as.
    return [line.rsplit("\r", 1)[-1] for line in text.splitlines()][-lines:]


def _schedule(run_dir: Path) -> tuple[int | None, float]:
    try:
        saved = json.loads((run_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None, 0.0
    fields = saved.get("config", saved)
    return fields.get("epochs"), float(fields.get("max_minutes") or 0)


def progress(run_dir: Path, status: str, started_at: float | None) -> dict[str, Any]:
    """Images seen, images/s, losses, epoch, ETA (seconds, None when unknown), history."""
    history = read_history(run_dir)
    last = history[-1] if history else {}
    epochs, max_minutes = _schedule(run_dir)
    eta = None
    if status == "running" and last and epochs:
        per_epoch = last["wall_time_s"] / max(last["epoch"], 1)
        eta = max(0.0, (epochs - last["epoch"]) * per_epoch)
        if max_minutes:
            eta = min(eta, max(0.0, max_minutes * 60 - last["wall_time_s"]))
    elif status == "running" and max_minutes and started_at:
        eta = max(0.0, max_minutes * 60 - (time.time() - started_at))
    return {
        "epoch": last.get("epoch"), "epochs": epochs, "images_seen": last.get("images_seen", 0),
        "images_per_s": last.get("images_per_s"), "wall_time_s": last.get("wall_time_s"),
        "losses": {k: v for k, v in last.items() if k not in _BOOKKEEPING},
        "eta_s": None if eta is None else round(eta, 1),
        "history": [{k: v for k, v in row.items() if k not in ("kimg", "lr")} for row in history[-200:]],
    }
