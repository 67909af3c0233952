"""The generic captioned layout: a folder of images plus `captions.jsonl`.

Each line of `captions.jsonl` is one image:
    {"image": "images/000001.png", "captions": ["a red circle ...", ...]}
with optional keys `"split"` ("train" | "test"), `"class"` (a string: images of one class may
share captions, so DAMSM does not use them as negatives for each other) and `"attributes"`
(anything JSON, kept as is).  Image paths are relative to the folder and may not leave it.
Without `"split"` keys, a deterministic 10% of the images (by a hash of their path) is held out.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from condgan.errors import UserError

CAPTIONS_FILE = "captions.jsonl"


@dataclasses.dataclass
class CaptionedSet:
    """Images with their captions: what the DAMSM trainer and the AttnGAN port consume."""

    images: np.ndarray              # uint8 (N, H, W, 3)
    captions: list[list[str]]       # raw caption strings per image (>= 1 each)
    class_ids: np.ndarray           # int64 (N,): same id = interchangeable captions
    keys: list[str]                 # image path (generic) or CUB filename
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index: Sequence[int] | np.ndarray) -> "CaptionedSet":
        """The images at `index`, with their captions, classes, keys and per-image attributes."""
        index = np.asarray(index, dtype=np.int64)
        meta = dict(self.meta)
        if isinstance(meta.get("attributes"), list):   # one record per image
            meta["attributes"] = [meta["attributes"][i] for i in index]
        return CaptionedSet(self.images[index], [self.captions[i] for i in index],
                            self.class_ids[index], [self.keys[i] for i in index], meta)


def write_captioned(folder: str | os.PathLike, images: np.ndarray, captions: list[list[str]],
                    *, splits: Sequence[str] | None = None, classes: Sequence[str] | None = None,
                    attributes: Sequence[Any] | None = None, meta: dict | None = None) -> Path:
    """Write PNGs under `folder/images/` and `captions.jsonl` (written last, atomically, so a
    folder with a captions file is complete)."""
    from PIL import Image

    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, image in enumerate(images):
        name = f"images/{i:06d}.png"
        Image.fromarray(image).save(folder / name, optimize=False, compress_level=1)
        row: dict[str, Any] = {"image": name, "captions": list(captions[i])}
        if splits is not None:
            row["split"] = splits[i]
        if classes is not None:
            row["class"] = classes[i]
        if attributes is not None:
            row["attributes"] = attributes[i]
        lines.append(json.dumps(row, sort_keys=True))
    if meta is not None:
        _atomic_text(folder / "dataset.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    _atomic_text(folder / CAPTIONS_FILE, "\n".join(lines) + "\n")
    return folder


def read_captions_jsonl(folder: str | os.PathLike) -> list[dict]:
    """Parse and validate `captions.jsonl`; errors name the line and the fix."""
    path = Path(folder) / CAPTIONS_FILE
    if not path.is_file():
        raise UserError(f"{str(path)!r} does not exist: a captioned folder needs {CAPTIONS_FILE} "
                        'with lines {"image": "...", "captions": ["...", ...]} '
                        "(or make one with `python -m condgan make-shapes -o FOLDER`)")
    rows = []
    root = Path(folder).resolve()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"{where} is not valid JSON ({error}): one object per line") from None
        if not isinstance(row, dict) or not isinstance(row.get("image"), str):
            raise UserError(f'{where} needs an "image" path relative to the folder')
        caps = row.get("captions")
        if not isinstance(caps, list) or not caps or not all(isinstance(c, str) for c in caps):
            raise UserError(f'{where} needs "captions": a non-empty list of strings')
        target = (root / row["image"]).resolve()
        if root not in target.parents:
            raise UserError(f"{where}: image path {row['image']!r} leaves the folder; "
                            "use a path relative to the folder, without '..'")
        if row.get("split", "train") not in ("train", "test"):
            raise UserError(f'{where}: "split" must be "train" or "test"')
        row["_path"] = target
        rows.append(row)
    if not rows:
        raise UserError(f"{str(path)!r} has no images: add one JSON line per image")
    return rows


def load_captioned(folder: str | os.PathLike, split: str | None = None,
                   image_size: int | None = None) -> CaptionedSet:
    """Images (resized to `image_size` when given) with captions of one split (or all)."""
    from PIL import Image

    rows = read_captions_jsonl(folder)
    if split is not None:
        if split not in ("train", "test"):
            raise UserError(f"split {split!r} must be 'train' or 'test'")
        has_split = any("split" in r for r in rows)
        rows = [r for r in rows if (r.get("split") if has_split else _hash_split(r["image"])) == split]
        if not rows:
            raise UserError(f"{folder}: no images in split {split!r}; mark some lines "
                            f'with "split": "{split}"')
    images = []
    for row in rows:
        try:
            with Image.open(row["_path"]) as img:
                img = img.convert("RGB")
                if image_size is not None and img.size != (image_size, image_size):
                    img = img.resize((image_size, image_size), Image.BICUBIC)
                images.append(np.asarray(img, dtype=np.uint8))
        except (OSError, ValueError) as error:
            raise UserError(f"cannot read image {row['image']!r} listed in {folder}/"
                            f"{CAPTIONS_FILE} ({error}): fix or remove the line") from None
    if len({a.shape for a in images}) > 1:
        raise UserError(f"images in {folder} have different sizes: pass an image size "
                        "(config `image_size`) to resize them")
    class_names = [str(r.get("class", r["image"])) for r in rows]
    lookup = {name: i for i, name in enumerate(sorted(set(class_names)))}
    meta = {"source": str(folder), "split": split,
            "attributes": [r.get("attributes") for r in rows]}
    side = Path(folder) / "dataset.json"
    if side.is_file():
        meta["dataset"] = json.loads(side.read_text())
    return CaptionedSet(np.stack(images), [list(r["captions"]) for r in rows],
                        np.array([lookup[c] for c in class_names], dtype=np.int64),
                        [r["image"] for r in rows], meta)


def _hash_split(name: str) -> str:
    return "test" if hashlib.sha256(name.encode()).digest()[0] < 26 else "train"  # ~10%


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def captions_fingerprint(folder: str | os.PathLike) -> str | None:
    """A content hash of a captioned folder's caption list (captions.jsonl), when it has one:
    with the folder's name, it says which captioned set a model was trained on."""
    from condgan.basics import sha256_file

    file = Path(folder) / CAPTIONS_FILE
    return sha256_file(file)[:23] if file.is_file() else None


def first_known_caption(folder: str | os.PathLike, vocabulary) -> str | None:
    """The first held-out caption whose every word `vocabulary` holds: what a user can type and
    get a faithful picture for (the web page's placeholder)."""
    from condgan.text import tokenize

    file = Path(folder) / CAPTIONS_FILE
    if not file.is_file():
        return None
    with open(file) as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("split") != "test":
                continue
            for caption in record.get("captions", []):
                if all(word in vocabulary for word in tokenize(caption)):
                    return caption
    return None
