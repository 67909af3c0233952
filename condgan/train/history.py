"""history.jsonl: one JSON line per epoch (or logging interval) of a run, read by the loss plot,
the notebooks and the model card."""
from __future__ import annotations

import json
import os
from pathlib import Path


def read_history(run_dir: str | os.PathLike) -> list[dict]:
    path = Path(run_dir) / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def trim_history(run_dir: str | os.PathLike, step: int) -> None:
    """Drop the lines written after the checkpoint a run resumes from (they will be redone),
    so no step appears twice; the file is replaced atomically."""
    path = Path(run_dir) / "history.jsonl"
    if not path.is_file():
        return
    keep = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line)["step"] <= step]
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text("".join(line + "\n" for line in keep))
    os.replace(tmp, path)


def record_session(run_dir: str | os.PathLike, step: int, backend: str, devices: str,
                   changed: dict | None = None) -> None:
    """Append to sessions.jsonl where this (re)start of the run trains: from which step, on
    which Keras backend and devices, and which config fields a resume changed ({field: [before,
    after]}; config.json holds only the latest).  Export copies the list into the card
    (`trained_on`)."""
    import time

    line = {"from_step": int(step), "backend": backend, "devices": devices,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if changed:
        line["config_changed"] = changed
    with open(Path(run_dir) / "sessions.jsonl", "a") as handle:
        handle.write(json.dumps(line) + "\n")


def read_sessions(run_dir: str | os.PathLike, up_to_step: int | None = None) -> list[dict]:
    """The run's sessions that trained the weights of step `up_to_step` (all when None)."""
    path = Path(run_dir) / "sessions.jsonl"
    if not path.is_file():
        return []
    sessions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if up_to_step is not None:
        sessions = [s for s in sessions if s["from_step"] < up_to_step or s["from_step"] == 0]
    return sessions


def trained_on(run_dir: str | os.PathLike, step: int) -> dict:
    """The card field saying where the weights of `step` were trained ({} for runs that
    predate sessions.jsonl)."""
    sessions = read_sessions(run_dir, step)
    return {"trained_on": sessions} if sessions else {}
