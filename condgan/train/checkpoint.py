"""Atomic, backend-neutral checkpoints of any set of Keras variables.

A checkpoint is one `.npz` of named float/int arrays (never pickled objects) holding every
piece of state needed for an exact resume: model weights, optimizer slots and iteration
counters, seed-generator states, the step counter.  It is written to a temporary file, flushed
and fsynced, then `os.replace`d into place, so a SIGKILL during saving leaves the previous
checkpoint intact.  The pointer to the newest one is the file name itself (`ckpt-<step>.npz`),
so there is no second file that could disagree with it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from condgan.errors import UserError

_CHECKPOINT_RE = re.compile(r"^ckpt-(\d{10})\.npz$")


def variables_state(prefix: str, variables: Iterable) -> dict[str, np.ndarray]:
    """Name each variable by its position: `prefix/0007`.  Positions are stable for a given
    model/optimizer build, unlike auto-generated variable names, which depend on creation order
    across the whole process."""
    return {f"{prefix}/{i:04d}": np.asarray(v.numpy() if hasattr(v, "numpy") else v)
            for i, v in enumerate(variables)}


def assign_state(prefix: str, variables: list, state: Mapping[str, np.ndarray]) -> None:
    keys = sorted(k for k in state if k.startswith(prefix + "/"))
    if len(keys) != len(variables):
        raise UserError(f"checkpoint holds {len(keys)} arrays for {prefix!r} but the model has "
                        f"{len(variables)} variables: the run's config changed since it was saved; "
                        "resume with the saved config (runs/<name>/config.json) or start a new run")
    for key, variable in zip(keys, variables):
        value = state[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise UserError(f"checkpoint array {key} has shape {value.shape}, the model expects "
                            f"{tuple(variable.shape)}: resume with the config the run was started with")
        variable.assign(value)


def checkpoint_dir(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / "checkpoints"


def save_checkpoint(run_dir: str | os.PathLike, step: int, state: Mapping[str, np.ndarray],
                    keep: int = 2) -> Path:
    """Write `checkpoints/ckpt-<step>.npz` atomically and keep only the newest `keep`."""
    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"ckpt-{step:010d}.npz"
    tmp = folder / f".ckpt-{step:010d}.{os.getpid()}.partial"
    with open(tmp, "wb") as handle:
        np.savez(handle, **state)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    _fsync_dir(folder)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return final


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _CHECKPOINT_RE.match(p.name))


def load_latest_checkpoint(run_dir: str | os.PathLike) -> tuple[int, dict[str, np.ndarray]] | None:
    """The newest complete checkpoint as (step, arrays), or None when the run has none."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            state = _read_arrays(path)
        except _UNREADABLE:  # fall back to the one before
            continue
        return int(_CHECKPOINT_RE.match(path.name).group(1)), state
    return None


# What np.load raises for a truncated, partial or foreign file.
_UNREADABLE = (OSError, ValueError, EOFError)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def load_checkpoint_file(path: str | os.PathLike) -> tuple[int, dict[str, np.ndarray]]:
    """One named checkpoint as (step, arrays): an earlier `ckpt-<step>.npz` of a run, e.g. one
    hard-linked aside while the run trained (the trainer keeps only the newest few)."""
    path = Path(path)
    match = _CHECKPOINT_RE.match(path.name)
    if not path.is_file() or match is None:
        raise UserError(f"checkpoint {str(path)!r} is not a ckpt-<step>.npz file: pass one from "
                        "RUN/checkpoints/ (or a copy of one), or leave --checkpoint out for the newest")
    try:
        state = _read_arrays(path)
    except _UNREADABLE as error:
        raise UserError(f"checkpoint {str(path)!r} cannot be read ({error}): it is incomplete or "
                        "not a condgan checkpoint") from None
    return int(match.group(1)), state


def load_run_checkpoint(run_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None
                        ) -> tuple[int, dict[str, np.ndarray]]:
    """`checkpoint` when given, else the run's newest; a run without one is a UserError."""
    if checkpoint is not None:
        return load_checkpoint_file(checkpoint)
    latest = load_latest_checkpoint(run_dir)
    if latest is None:
        raise UserError(f"run {str(run_dir)!r} has no checkpoint yet: train it first")
    return latest


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
