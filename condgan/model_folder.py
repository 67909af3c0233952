"""Model folders (`models/<name>/`): the one writer, the card schema, card reading and metrics.

Every kind of model is exported the same way: its files are written into a staging folder
beside the target, the card last, and the folder is swapped in by renames, so a reader sees the
old model or the new one, never a half-written folder.  The card schema (`make_card`) is the
same for every kind; a family adds its own fields (docs/ARCHITECTURE.md lists them).
An existing folder is replaced only when asked (`replace`), and a card's metrics are changed
only by `merge_card_metrics`, which never replaces one unasked.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from condgan.basics import digest_arrays, library_versions, write_json_atomic
from condgan.errors import UserError
from condgan.paths import project_root

CARD_FILE = "card.json"
KERAS_FILE = "generator.keras"
H5_FILE = "generator.h5"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Folder names too generic to say which data they hold: the card keeps the parent's name too.
_GENERIC_NAMES = {"train", "test", "val", "valid", "validation", "images", "data"}
# An absolute (or home- or parent-relative) path inside free text, such as a data set's
# "class folders /tmp/cifar10/train" source description.
_PATH_IN_TEXT = re.compile(r"(?<![\w.:/~-])(?:~|\.\.)?/[^\s()\[\]{}'\",;]+")
# What makes two exports the very same weights: the card fields compared by `carried_metrics`.
IDENTITY_KEYS = ("run_dir", "step", "weights", "generator_fingerprint")


def check_model_name(name: str, what: str = "model name") -> str:
    """Model and run names become directory names: allow only a safe, flat character set."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise UserError(f"{what} {name!r} is not allowed: use letters, digits, '_', '-', '.' "
                        "(at most 64 characters, not starting with '.' or '-')")
    return name


def card_path(path) -> str | None:
    """A run or data path as a card records it, never a machine-local absolute path: relative to
    the project root when inside the project (the same on every clone, whatever the working
    directory), else just its name (with its parent's when the name alone says little:
    `cifar10/train`).  Cards are copied between machines; data is identified by its
    fingerprint, not by where it lay."""
    if path is None:
        return None
    text = str(path)
    if not text:
        return text
    resolved = Path(text).expanduser().resolve()
    try:
        return resolved.relative_to(project_root()).as_posix()
    except ValueError:
        pass
    parts = resolved.parts[1:]
    if not parts:
        return "."
    keep = 2 if len(parts) >= 2 and parts[-1].lower() in _GENERIC_NAMES else 1
    return "/".join(parts[-keep:])


def card_safe(value):
    """`value` (a card, or any part of one) with every path inside its strings in `card_path`
    form: a card carries no home directory or other machine-local absolute path."""
    if isinstance(value, Mapping):
        return {key: card_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [card_safe(item) for item in value]
    if isinstance(value, str):
        return _PATH_IN_TEXT.sub(lambda match: card_path(match.group(0)), value)
    return value


def weights_fingerprint(state: Mapping[str, np.ndarray], prefix: str) -> str:
    """A content hash of the checkpoint arrays under `prefix/` (a generator's weights): two
    exports share it exactly when they hold the very same weights."""
    keys = sorted(k for k in state if k.startswith(prefix + "/"))
    return digest_arrays([state[k] for k in keys],
                         header=[[k, state[k].dtype.str, list(state[k].shape)] for k in keys])


def model_versions(folder: str | os.PathLike) -> list[int]:
    """The versions of a versioned model folder (`models/<name>/<N>/`, TF Serving's layout),
    oldest first: its numbered subfolders holding a card.  [] for a single-version folder (the
    card at its top) or a folder that is not there."""
    folder = Path(folder)
    if not folder.is_dir() or (folder / CARD_FILE).is_file():
        return []
    return sorted(int(child.name) for child in folder.iterdir()
                  if child.name.isdigit() and not child.name.startswith("0")
                  and (child / CARD_FILE).is_file())


def model_identity(out_dir: str | os.PathLike) -> tuple[str, int | None]:
    """(model name, version) of a model folder: `models/x` -> ("x", None), `models/x/3` -> ("x", 3)."""
    out_dir = Path(out_dir)
    if out_dir.name.isdigit() and not out_dir.name.startswith("0"):
        return out_dir.parent.name, int(out_dir.name)
    return out_dir.name, None


def new_version_target(models_dir: str | os.PathLike, name: str) -> Path:
    """`models_dir/name/<N+1>/` for a new version of model `name` (1 for a new model).  A
    single-version folder of that name is never turned into a versioned one: an error."""
    check_model_name(name)
    folder = Path(models_dir) / name
    if (folder / CARD_FILE).is_file():
        raise UserError(f"model folder {str(folder)!r} holds a single model (its card.json at its "
                        "top), not versions: export under another --name")
    versions = model_versions(folder)
    return folder / str((versions[-1] if versions else 0) + 1)


def check_export_target(out_dir: str | os.PathLike, replace: bool = False) -> Path:
    """An export never replaces a model folder unasked: `out_dir` (whose name is checked) must
    not exist yet, unless `replace` (`--replace`)."""
    out_dir = Path(out_dir)
    check_model_name(out_dir.name)
    if (out_dir.exists() or out_dir.is_symlink()) and not replace:
        raise UserError(f"model folder {str(out_dir)!r} already exists: choose another --name, or "
                        "pass --replace (replace=True from Python) to replace it")
    return out_dir


def make_card(out_dir: str | os.PathLike, *, kind: str, image_size: int, latent_dim: int,
              channels: int = 3, classes: Sequence[str] | None = None,
              training: Mapping | None = None, dataset: Mapping | None = None,
              images_seen: int | None = None, wall_time_s: float | None = None,
              metrics: Mapping | None = None, **extra: Any) -> dict[str, Any]:
    """The card every model folder carries (its `files` are added by `write_model_folder`)."""
    name, version = model_identity(out_dir)
    card = {
        "name": name,
        "kind": kind,
        "classes": list(classes) if classes else None,
        "latent_dim": int(latent_dim),
        "image_size": int(image_size),
        "channels": int(channels),
        "value_range": [-1.0, 1.0],
        "training": card_safe(dict(training or {})),
        "dataset": card_safe(dict(dataset or {})),
        "images_seen": images_seen,
        "wall_time_s": wall_time_s,
        "metrics": card_safe(dict(metrics or {})),
        "versions": library_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if version is not None:
        card["version"] = str(version)
    card.update(card_safe(extra))
    return card


def write_model_folder(out_dir: str | os.PathLike, card: Mapping[str, Any],
                       write_files: Callable[[Path], Mapping[str, str]]) -> Path:
    """Write a model folder: `write_files(folder)` saves the model's files and returns their
    roles (e.g. {"keras": "generator.keras"}), then the card; the whole folder replaces
    `out_dir` by renames.  A failure leaves the previous folder (if any) as it was."""
    out_dir = Path(out_dir)
    check_model_name(out_dir.name)
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = dict(write_files(staging))
    write_json_atomic(staging / CARD_FILE, {**card, "files": files})
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir


def read_card(model_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        raise UserError(f"{str(model_dir)!r} has no {CARD_FILE}: it is not an exported model; "
                        "export one with `python -m condgan export runs/NAME --name NAME`")
    try:
        card = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON ({error}): re-export the model") from None
    if not isinstance(card, dict) or not isinstance(card.get("kind"), str):
        raise UserError(f"{path} names no model kind: re-export the model")
    return card


def model_files(path: str | os.PathLike, card: Mapping[str, Any],
                defaults: Mapping[str, str]) -> list[Path]:
    """The files a loader needs, `card["files"][role]` or `defaults[role]` for each role (in
    order): plain names inside `path` that exist, else a UserError saying to re-export."""
    path = Path(path)
    files = card.get("files", {})
    found = []
    for role, default in defaults.items():
        name = files.get(role, default)
        if Path(name).name != name or not (path / name).is_file():
            raise UserError(f"{str(path)!r} lacks {name!r}: re-export the model with "
                            "`python -m condgan export`")
        found.append(path / name)
    return found


def carried_metrics(out_dir: str | os.PathLike, identity: Mapping[str, Any],
                    say: Callable[[str], None] = print) -> dict[str, Any]:
    """The metrics of the model being replaced at `out_dir` that still hold for the new export:
    all of them when it is the very same weights (same run directory, checkpoint step, weights
    choice and, when the old card has one, weights fingerprint), else none, since they measured
    another model.  Says which, when there were any."""
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return {}
    try:
        old = read_card(out_dir)
    except UserError:
        say(f"replacing {out_dir}: its card could not be read, so no metrics are carried over")
        return {}
    metrics = dict(old.get("metrics") or {})
    differ = [f"{key} {old.get(key)!r} -> {identity.get(key)!r}" for key in IDENTITY_KEYS
              if key in identity and (key != "generator_fingerprint" or key in old)
              and old.get(key) != identity.get(key)]
    if not metrics:
        say(f"replacing {out_dir} (its card had no metrics)")
        return {}
    names = ", ".join(sorted(metrics))
    if differ:
        say(f"replacing {out_dir}: its card's metrics ({names}) measured other weights "
            f"({'; '.join(differ)}), so they are dropped; measure the new model with "
            f"`python -m condgan evaluate {out_dir} --data DATA`")
        return {}
    say(f"replacing {out_dir} with the very same weights (run {identity.get('run_dir')!r}, step "
        f"{identity.get('step')}, {identity.get('weights')} weights): its metrics ({names}) are kept")
    return metrics


@dataclasses.dataclass
class CardUpdate:
    """What `merge_card_metrics` did to a card: for a notebook or a command to show the user."""
    card_file: str
    written: list[str]                  # metrics the card did not have: written
    replaced: dict[str, dict]           # name -> the card's earlier entry, replaced on request
    not_replaced: dict[str, dict]       # name -> the card's entry, kept (no replace asked for)
    messages: list[str]                 # the lines said, in order

    @property
    def changed(self) -> bool:
        return bool(self.written or self.replaced)


def metric_images(entry: Any) -> int | None:
    """The number of generated images a metric entry was measured on, when its protocol says."""
    protocol = entry.get("protocol") if isinstance(entry, Mapping) else None
    if isinstance(protocol, Mapping) and isinstance(protocol.get("num_generated"), int):
        return protocol["num_generated"]
    return None


def _measured(entry: Any) -> str:
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = json.dumps(value, sort_keys=True, default=str)
        text = text if len(text) <= 60 else text[:57] + "..."
    n = metric_images(entry)
    return f"{text} ({n} generated images)" if n is not None else \
        f"{text} (number of generated images not recorded)"


def merge_card_metrics(model_dir: str | os.PathLike, metrics: Mapping[str, Any], *,
                       replace: bool = False,
                       how_to_replace: str = "rerun with --replace (replace=True from Python)",
                       say: Callable[[str], None] = print) -> CardUpdate:
    """Write `metrics` into card.json: those the card lacks always; one it already has only
    when `replace`, since a card's numbers are not overwritten unasked (a quick 1,000-image
    check must not replace a 10,000-image score).  Says, per metric, what was written, replaced
    or left in place (with both values and their numbers of images), and returns that."""
    card = read_card(model_dir)
    file = Path(model_dir) / CARD_FILE
    existing = dict(card.get("metrics") or {})
    update = CardUpdate(str(file), [], {}, {}, [])

    def tell(line: str) -> None:
        update.messages.append(line)
        say(line)

    for name, entry in metrics.items():
        if name not in existing:
            update.written.append(name)
        elif replace:
            update.replaced[name] = existing[name]
        else:
            update.not_replaced[name] = existing[name]
    if update.changed:
        card.setdefault("metrics", {}).update(
            {name: metrics[name] for name in [*update.written, *update.replaced]})
        write_json_atomic(file, card)
    if update.written:
        tell(f"wrote {', '.join(update.written)} into {file}")
    for name, old in update.replaced.items():
        old_n, new_n = metric_images(old), metric_images(metrics[name])
        line = f"replaced {name} in {file}: {_measured(old)} -> {_measured(metrics[name])}"
        if old_n is not None and new_n is not None and new_n < old_n:
            line += (f"; note: a score from fewer images ({new_n}) replaced one from more "
                     f"({old_n}), and the two are not comparable")
        tell(line)
    for name, old in update.not_replaced.items():
        tell(f"not replaced: {file} already has {name} = {_measured(old)}; this evaluation "
             f"gave {_measured(metrics[name])}. To replace it, {how_to_replace}")
    if not update.changed:
        tell(f"{file} unchanged")
    return update
