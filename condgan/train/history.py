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
