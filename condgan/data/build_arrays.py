"""A scrape manifest or plain class folders -> a labelled array set (`NAME.npz` + `NAME.json`).

Deterministic: images are ordered by (class, key) whatever order the manifest lines came in,
and decoding is a pure function of the file, so the same inputs give the same arrays and
fingerprint.  The sidecar keeps the per-image keys and a licence summary, so the manifest
(not the arrays) stays the thing to share: it says where every picture came from.
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Sequence

import numpy as np

from condgan.data.arrays import ArraySet, save_array_set
from condgan.data.folders import FIT_MODES, import_class_folders, load_image_file
from condgan.data.manifest import MANIFEST_NAME, read_manifest
from condgan.errors import UserError, exit_with_user_error

log = logging.getLogger(__name__)

MIN_SHARE = 0.10  # a class under 10 % of the largest one is worth a warning


def _manifest_records(manifest: Path) -> list[dict]:
    return [r for r in read_manifest(manifest).values() if r.get("status") == "downloaded"]


def _load_many(paths: list[str], size: int, fit: str, workers: int) -> list[np.ndarray | None]:
    if workers > 1 and len(paths) > 256:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(load_image_file, paths, repeat(size), repeat(fit), chunksize=256))
    return [load_image_file(p, size, fit) for p in paths]


def build_from_manifest(manifest: str | os.PathLike, size: int, *, fit: str = "crop",
                        classes: Sequence[str] | None = None, workers: int | None = None) -> ArraySet:
    """Every `downloaded` record of a manifest, labelled by its `label`, ordered by (class, key)."""
    manifest = Path(manifest)
    folder = manifest.parent.resolve()
    records = _manifest_records(manifest)
    found = sorted({r["label"] for r in records})
    names = list(classes) if classes else found
    missing = [c for c in names if c not in found]
    if missing or not names:
        raise UserError(f"class(es) {missing or names} have no downloaded images in {str(manifest)!r}: "
                        f"available labels are {found}")
    order = {name: i for i, name in enumerate(names)}
    chosen = sorted((r for r in records if r["label"] in order), key=lambda r: (order[r["label"]], r["key"]))
    paths, skipped = [], []
    for record in chosen:
        path = (folder / record["path"]).resolve()
        if folder not in path.parents:  # a manifest line must not point outside its folder
            raise UserError(f"manifest {str(manifest)!r} entry {record['key']!r} has path "
                            f"{record['path']!r} outside its folder: fix or remove that line")
        paths.append(str(path))
    images = _load_many(paths, size, fit, workers or min(os.cpu_count() or 1, 8))
    keep = []
    for record, path, image in zip(chosen, paths, images):
        if image is None:
            skipped.append(record["key"])
            log.warning("skipped %s: %s is missing or unreadable", record["key"], path)
        else:
            keep.append((record, image))
    if not keep:
        raise UserError(f"none of the {len(chosen)} downloaded images in {str(manifest)!r} could be "
                        "read: were the image folders moved away from the manifest?")
    x = np.stack([image for _, image in keep])
    y = np.array([order[r["label"]] for r, _ in keep], dtype=np.int64)
    kept = [r for r, _ in keep]
    meta = {"keys": [r["key"] for r in kept], "skipped": skipped,
            "licenses": dict(sorted(collections.Counter(r.get("license") or "unknown" for r in kept).items())),
            "sources": dict(sorted(collections.Counter(r.get("source") or "unknown" for r in kept).items())),
            "manifest": str(manifest)}
    return ArraySet(x, y, names, meta)


def balance_report(data: ArraySet, min_share: float = MIN_SHARE) -> tuple[str, list[str]]:
    """A per-class count table, and a warning for each class under `min_share` of the largest."""
    counts = np.bincount(data.y, minlength=len(data.classes))
    largest = max(int(counts.max()), 1)
    width = max(len(c) for c in data.classes)
    lines, warnings = [], []
    for name, count in zip(data.classes, counts):
        share = count / largest
        lines.append(f"  {name:<{width}}  {int(count):>7}  {share:6.1%} of largest  {'#' * int(round(share * 30))}")
        if share < min_share:
            warnings.append(f"class {name!r} has {int(count)} images, {share:.1%} of the largest "
                            f"class ({largest}): collect more or expect it to be learnt poorly")
    return "\n".join(lines), warnings


def build_arrays(source: str | os.PathLike, size: int, *, fit: str = "crop",
                 classes: Sequence[str] | None = None, workers: int | None = None) -> tuple[ArraySet, str]:
    """(arrays, description of the source) from a manifest file, a scrape folder or class folders."""
    source = Path(source)
    if size < 4 or size > 1024:
        raise UserError(f"--size {size} is out of range: use 4..1024, e.g. --size 32")
    if fit not in FIT_MODES:
        raise UserError(f"fit mode {fit!r} is not known: use one of {FIT_MODES}")
    if source.is_file() and source.suffix == ".jsonl":
        return build_from_manifest(source, size, fit=fit, classes=classes, workers=workers), f"manifest:{source.name}"
    if (source / MANIFEST_NAME).is_file():
        return (build_from_manifest(source / MANIFEST_NAME, size, fit=fit, classes=classes, workers=workers),
                f"manifest:{source.name}/{MANIFEST_NAME}")
    data = import_class_folders(source, size, classes=classes, fit=fit, workers=workers)
    data.meta["licenses"] = {"unknown (local files)": len(data)}
    data.meta["sources"] = {"folders": len(data)}
    return data, f"folders:{source.name}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build_arrays.py", description="Scrape folder (with manifest.jsonl) or class folders "
        "(<root>/<class>/*.jpg) -> NAME.npz + NAME.json, deterministically.")
    parser.add_argument("source", help="a scrape output folder, a manifest.jsonl, or class folders")
    parser.add_argument("-o", "--output", required=True, help="array set to write, e.g. data/mine.npz")
    parser.add_argument("--size", type=int, default=32, help="square image size in pixels (default 32)")
    parser.add_argument("--pad", action="store_true", help="pad to square instead of centre-cropping")
    parser.add_argument("--classes", default=None, help="comma-separated classes to keep, in label order")
    parser.add_argument("--workers", type=int, default=None, help="decoding processes (default: CPUs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
        data, described = build_arrays(args.source, args.size, fit="pad" if args.pad else "crop",
                                       classes=classes, workers=args.workers)
        table, warnings = balance_report(data)
        data.meta.update(fit="pad" if args.pad else "crop", balance_warnings=warnings)
        path = save_array_set(args.output, data, source=described,
                              command=" ".join(["build_arrays.py", *(sys.argv[1:] if argv is None else argv)]))
    except UserError as error:
        exit_with_user_error(error)
    print(f"wrote {path}: {len(data)} images of {data.image_size}x{data.image_size}, "
          f"{len(data.classes)} classes, fingerprint {data.fingerprint()}")
    print(table)
    for warning in warnings:
        print(f"warning: {warning}")
    licences = ", ".join(f"{k}: {v}" for k, v in data.meta.get("licenses", {}).items())
    print(f"licences: {licences}")
    return 0
