"""Exported generators: `models/<name>/generator.keras`, `generator.h5`, `card.json`.

`export_generator` writes a model directory; `load_generator` reads one back in Keras safe
mode and wraps it in `LoadedGenerator`, whose `generate()` turns labels and a seed into uint8
images.  Image *i* of a request is a function of its own seed only (`seed + i`), and the
generator always runs on fixed-size chunks, so the same seed gives the same pixels whatever the
batch size or the server's micro-batching.  This module imports keras but not TensorFlow, so a
model exported here loads under any Keras backend.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from condgan.data.arrays import class_index, write_json_atomic
from condgan.errors import UserError
from condgan.paths import project_root

CARD_FILE = "card.json"
KERAS_FILE = "generator.keras"
H5_FILE = "generator.h5"
KINDS = ("gan", "cgan", "attngan")
# Generator calls always see this many rows (the last chunk is padded), so the arithmetic
# each image goes through is the same whatever the request size.
CHUNK = 16
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SEED_MAX = 2**31 - 1


def check_model_name(name: str, what: str = "model name") -> str:
    """Model and run names become directory names: allow only a safe, flat character set."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise UserError(f"{what} {name!r} is not allowed: use letters, digits, '_', '-', '.' "
                        "(at most 64 characters, not starting with '.' or '-')")
    return name


# Folder names too generic to say which data they hold: the card keeps the parent's name too.
_GENERIC_NAMES = {"train", "test", "val", "valid", "validation", "images", "data"}
# An absolute (or home- or parent-relative) path inside free text, such as a data set's
# "class folders /tmp/cifar10/train" source description.
_PATH_IN_TEXT = re.compile(r"(?<![\w.:/~-])(?:~|\.\.)?/[^\s()\[\]{}'\",;]+")


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


def arrays_fingerprint(state: Mapping[str, np.ndarray], prefix: str) -> str:
    """A content hash of the checkpoint arrays under `prefix/` (a generator's weights): two
    exports share it exactly when they hold the very same weights."""
    digest = hashlib.sha256()
    keys = sorted(k for k in state if k.startswith(prefix + "/"))
    for key in keys:
        array = np.ascontiguousarray(state[key])
        digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    import keras

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "keras": keras.__version__, "keras_backend": keras.backend.backend()}
    try:
        import condgan

        versions["condgan"] = condgan.__version__
    except ImportError:  # pragma: no cover
        pass
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    return versions


def export_generator(generator, out_dir: str | os.PathLike, *, kind: str, latent_dim: int,
                     classes: Sequence[str] | None = None, training: Mapping | None = None,
                     dataset: Mapping | None = None, images_seen: int | None = None,
                     wall_time_s: float | None = None, metrics: Mapping | None = None,
                     legacy_h5: bool = True, extra: Mapping | None = None) -> Path:
    """Write generator.keras (+ generator.h5) and card.json into `out_dir`, replacing it whole.

    The new directory is assembled beside the old one and swapped in by rename, so a failed
    export never leaves a half-written model where a good one was.
    """
    if kind not in KINDS:
        raise UserError(f"model kind {kind!r} is not known: use one of {KINDS}")
    if kind == "cgan" and not classes:
        raise UserError("a conditional generator needs its class names for the card")
    out_dir = Path(out_dir)
    staging = new_staging_directory(out_dir)
    generator.save(staging / KERAS_FILE)
    files = {"keras": KERAS_FILE}
    if legacy_h5:
        generator.save(staging / H5_FILE)
        files["h5"] = H5_FILE
    size = int(generator.outputs[0].shape[1])
    card = {
        "name": out_dir.name,
        "kind": kind,
        "classes": list(classes) if classes else None,
        "latent_dim": int(latent_dim),
        "image_size": size,
        "channels": int(generator.outputs[0].shape[-1]),
        "value_range": [-1.0, 1.0],
        "inputs": [t.name for t in generator.inputs] if hasattr(generator, "inputs") else None,
        "files": files,
        "training": dict(training or {}),
        "dataset": dict(dataset or {}),
        "images_seen": images_seen,
        "wall_time_s": wall_time_s,
        "metrics": dict(metrics or {}),
        "versions": library_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    card.update(extra or {})
    write_json_atomic(staging / CARD_FILE, card)
    return swap_in_directory(staging, out_dir)


def new_staging_directory(out_dir: Path) -> Path:
    """An empty folder beside `out_dir` (whose name is checked) to write a model into before
    `swap_in_directory` puts it in place."""
    check_model_name(out_dir.name)
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def swap_in_directory(staging: Path, out_dir: Path) -> Path:
    """Replace `out_dir` with the fully written `staging` by renames, so readers see either
    the old model or the new one, never a half-written folder."""
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
    if card.get("kind") not in KINDS:
        raise UserError(f"{path}: kind {card.get('kind')!r} is not one of {KINDS}")
    return card


def update_card_metrics(model_dir: str | os.PathLike, metrics: Mapping[str, Any]) -> dict:
    """Merge `metrics` (name -> {value, protocol, ...}) into card.json, atomically, replacing
    entries of the same name (`merge_card_metrics` keeps them unless asked)."""
    card = read_card(model_dir)
    card.setdefault("metrics", {}).update(metrics)
    write_json_atomic(Path(model_dir) / CARD_FILE, card)
    return card


def check_export_target(out_dir: str | os.PathLike, replace: bool = False) -> Path:
    """An export never replaces a model folder unasked: `out_dir` must not exist yet, unless
    `replace` (`--replace`)."""
    out_dir = Path(out_dir)
    if (out_dir.exists() or out_dir.is_symlink()) and not replace:
        raise UserError(f"model folder {str(out_dir)!r} already exists: choose another --name, or "
                        "pass --replace (replace=True from Python) to replace it")
    return out_dir


# What makes two exports the very same weights: the card fields compared by `carried_metrics`.
IDENTITY_KEYS = ("run_dir", "step", "weights", "generator_fingerprint")


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


def _value_text(entry: Any) -> str:
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def metric_images(entry: Any) -> int | None:
    """The number of generated images a metric entry was measured on, when its protocol says."""
    protocol = entry.get("protocol") if isinstance(entry, Mapping) else None
    if isinstance(protocol, Mapping) and isinstance(protocol.get("num_generated"), int):
        return protocol["num_generated"]
    return None


def _measured(entry: Any) -> str:
    n = metric_images(entry)
    images = f"{n} generated images" if n is not None else "number of generated images not recorded"
    return f"{_value_text(entry)} ({images})"


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


class LoadedGenerator:
    """An exported generator plus its card: labels and seeds in, uint8 images out."""

    def __init__(self, model, card: Mapping[str, Any], path: Path) -> None:
        self.model = model
        self.card = dict(card)
        self.path = path
        self.name = card.get("name", path.name)
        self.kind = card["kind"]
        self.classes = card.get("classes")
        self.latent_dim = int(card["latent_dim"])
        self.image_size = int(card["image_size"])

    @property
    def conditional(self) -> bool:
        return self.kind == "cgan"

    def label_indices(self, labels: Sequence[str | int]) -> np.ndarray:
        if not self.conditional:
            raise UserError(f"model {self.name!r} is unconditional: pass n, not labels")
        return np.array([class_index(self.classes, lab) for lab in labels], dtype=np.int32)

    @staticmethod
    def noise_for_seeds(seeds: Sequence[int], latent_dim: int) -> np.ndarray:
        """One standard-normal vector per seed, from numpy's PCG64 (backend-independent)."""
        return np.stack([np.random.default_rng(int(s)).standard_normal(latent_dim)
                         for s in seeds]).astype(np.float32)

    def generate_for_seeds(self, seeds: Sequence[int], labels: Sequence[str | int] | None = None
                           ) -> np.ndarray:
        """uint8 (N, H, W, 3); image i depends only on seeds[i] (and labels[i])."""
        seeds = [int(s) for s in seeds]
        if any(not 0 <= s <= SEED_MAX for s in seeds):
            raise UserError(f"seeds must lie in 0..{SEED_MAX}")
        noise = self.noise_for_seeds(seeds, self.latent_dim)
        inputs = [noise]
        if self.conditional:
            if labels is None or len(labels) != len(seeds):
                raise UserError(f"model {self.name!r} is conditional: give one label per image, "
                                f"from {self.classes}")
            inputs.append(self.label_indices(labels))
        return self._run_chunked(inputs)

    def generate(self, labels: Sequence[str | int] | str | int | None = None, n: int | None = None,
                 seed: int | None = None, captions=None) -> np.ndarray:
        """Images for `labels` (conditional) or `n` images (unconditional), from `seed`."""
        if captions is not None:
            raise UserError(f"model {self.name!r} does not read captions: "
                            + (f"pass labels from {self.classes}" if self.conditional else "pass n"))
        if isinstance(labels, (str, int, np.integer)):
            labels = [labels] * (n or 1)
        count = len(labels) if labels is not None else n
        if not count or count < 1:
            raise UserError("say how many images: give labels (conditional models) or n >= 1")
        base = int(np.random.default_rng().integers(0, SEED_MAX - count)) if seed is None else int(seed)
        return self.generate_for_seeds(range(base, base + count), labels)

    def _run_chunked(self, inputs: list[np.ndarray]) -> np.ndarray:
        count = inputs[0].shape[0]
        outputs = []
        for start in range(0, count, CHUNK):
            chunk = [a[start:start + CHUNK] for a in inputs]
            rows = chunk[0].shape[0]
            if rows < CHUNK:  # pad by repeating the first row; padded rows are dropped
                chunk = [np.concatenate([a, np.repeat(a[:1], CHUNK - rows, axis=0)]) for a in chunk]
            # predict_on_batch runs a compiled function: several times faster than an eager call.
            images = np.asarray(self.model.predict_on_batch(chunk if len(chunk) > 1 else chunk[0]))
            outputs.append(images[:rows])
        return to_uint8(np.concatenate(outputs))


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats to uint8 with rounding (not truncation, which darkens by half a level)."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load_generator(path: str | os.PathLike):
    """Load `models/<name>/` in safe mode (no arbitrary code runs from the file): a
    `LoadedGenerator` for GANs and cGANs, an `AttnGANModel` for caption models (`kind: attngan`,
    `generate(captions=[...], seed=...)`)."""
    path = Path(path)
    if read_card(path).get("kind") == "attngan":
        from condgan.attngan_export import load_attngan
        return load_attngan(path)
    return load_keras_generator(path)


def load_keras_generator(path: str | os.PathLike) -> LoadedGenerator:
    """The card's single Keras generator file as a `LoadedGenerator`, whatever the kind (the
    caption pipeline around an AttnGAN generator is `load_generator`'s job)."""
    import keras

    import condgan.models  # noqa: F401  registers the custom layers before deserialising

    path = Path(path)
    card = read_card(path)
    file = path / card.get("files", {}).get("keras", KERAS_FILE)
    if not file.is_file():
        raise UserError(f"{str(path)!r} has a card but no {file.name}: re-export the model")
    model = keras.saving.load_model(file, safe_mode=True, compile=False)
    return LoadedGenerator(model, card, path)
