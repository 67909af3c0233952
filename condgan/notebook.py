"""What the notebooks share: the project's paths, figures shown inline, the series' workspace.

    from condgan import notebook as nb
    nb.path("configs/cgan_cifar10.py")      # the same file from notebooks/ or the project root
    nb.show_images(images, columns=8)        # an inline figure (image/png), nothing written to disk

Importing this module quiets TensorFlow's start-up output (condgan.quiet) and imports Keras.
Everything a notebook of the series writes goes under its workspace, `runs/notebooks/quick/`
or `runs/notebooks/full/` (git ignores `runs/`), so running the series never changes a file
of the repository, a shipped model or its card.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from condgan.errors import UserError
from condgan.paths import project_path, project_root
from condgan.quiet import import_keras_quietly

import_keras_quietly()

__all__ = ["path", "relative", "project_root", "workspace", "show_images", "show_run_samples", "show_figure",
           "plot_history", "keep_per_class", "cifar10", "example_class_folders", "require",
           "shapes", "damsm_retrieval", "show_word_attention", "Stopwatch"]

path = project_path


def relative(file: str | os.PathLike) -> str:
    """`file` relative to the project root when inside it (as configs and cards record paths:
    the same on every machine), else as given."""
    file = Path(file)
    try:
        return str(file.resolve().relative_to(project_root()))
    except ValueError:
        return str(file)

# Pixels per inch of the inline charts: small enough that an executed notebook stays light.
DPI = 72


def workspace(quick: bool, root: str | os.PathLike | None = None) -> Path:
    """The series' folder for runs, data and models of one mode: `runs/notebooks/quick` or
    `runs/notebooks/full` (or under `root`)."""
    base = project_path(root) if root else project_path("runs/notebooks")
    folder = base / ("quick" if quick else "full")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def show_figure(fig) -> None:
    """Show a matplotlib figure as the cell's output (image/png) whatever backend is active,
    and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def _show_pixels(pixels: np.ndarray, title: str | None = None) -> None:
    """An RGB array as the cell's output: a lossless PNG at exactly these pixels (samples are
    judged by eye, so no resampling or compression artefacts; and no bigger than it must be)."""
    import io

    from IPython.display import Image, display
    from PIL import Image as PILImage

    if title:
        print(title)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    display(Image(data=buffer.getvalue(), format="png"))


def _label_rows(grid: np.ndarray, labels: Sequence[str], row_height: int, pad: int) -> np.ndarray:
    """The grid with a white margin on its left holding one label per row."""
    from PIL import Image as PILImage, ImageDraw

    width = 8 + 7 * max(len(label) for label in labels)
    canvas = PILImage.new("RGB", (grid.shape[1] + width, grid.shape[0]), (255, 255, 255))
    canvas.paste(PILImage.fromarray(grid), (width, 0))
    draw = ImageDraw.Draw(canvas)
    for row, label in enumerate(labels):
        draw.text((4, pad + row * row_height + row_height // 2 - 6), label, fill=(0, 0, 0))
    return np.asarray(canvas)


def show_images(images, columns: int = 8, title: str | None = None,
                row_labels: Sequence[str] | None = None, zoom: int | None = None) -> None:
    """uint8 images (N, H, W, C) as one inline grid, each image pixel shown as `zoom` x `zoom`
    screen pixels (default 2 up to 32 px images, else 1); `row_labels` name the rows.  A list
    of such arrays is shown as grids side by side (e.g. two models drawn with the same seeds);
    smaller images are enlarged to the size of the largest, so the panels' rows line up."""
    from condgan.basics import make_grid

    panels = [np.asarray(images)] if isinstance(images, np.ndarray) else [np.asarray(i) for i in images]
    size = max(p.shape[1] for p in panels)
    if zoom is None:
        zoom = 2 if size <= 32 else 1
    panels = [p.repeat(size // p.shape[1], axis=1).repeat(size // p.shape[1], axis=2) for p in panels]
    grids = [make_grid(p, columns, scale=zoom) for p in panels]
    _show_pixels(_side_by_side(grids, row_labels, (size + 2) * zoom, 2 * zoom), title)


def _side_by_side(grids: Sequence[np.ndarray], row_labels, row_height: int, pad: int) -> np.ndarray:
    height = max(g.shape[0] for g in grids)
    spacer = np.full((height, 12, 3), 255, np.uint8)
    parts = []
    for grid in grids:
        parts += [np.pad(grid, ((0, height - grid.shape[0]), (0, 0), (0, 0)), constant_values=255), spacer]
    pixels = np.concatenate(parts[:-1], axis=1)
    return _label_rows(pixels, row_labels, row_height, pad) if row_labels else pixels


def show_run_samples(run_dir: str | os.PathLike, image_size: int, columns: int | None = None,
                     epochs: Sequence[int] | None = None, row_labels: Sequence[str] | None = None,
                     zoom: int | None = None) -> list[Path]:
    """A run's sample grids (`samples/epoch_NNNN.png`: fixed noise, so comparable across
    epochs) side by side: the first and the last by default, or `epochs`; each cut to its first
    `columns` columns of `image_size` px images, shown at `zoom` (default as `show_images`).
    Returns the grid files shown."""
    from PIL import Image as PILImage

    from condgan.basics import GRID_PAD
    from condgan.viz import SAMPLE_GRID_SCALE

    grids = sorted((Path(run_dir) / "samples").glob("epoch_*.png"))
    if not grids:
        raise UserError(f"{run_dir} has no sample grids yet: train the run first")
    by_epoch = {int(g.stem.split("_")[1]): g for g in grids}
    wanted = list(epochs) if epochs else sorted({min(by_epoch), max(by_epoch)})
    missing = [e for e in wanted if e not in by_epoch]
    if missing:
        raise UserError(f"{run_dir} has no sample grid for epoch(s) {missing}: it has {sorted(by_epoch)}")
    zoom = zoom or (2 if image_size <= 32 else 1)
    step = max(1, SAMPLE_GRID_SCALE // zoom)   # the saved grids are zoomed SAMPLE_GRID_SCALE x
    pad = GRID_PAD * SAMPLE_GRID_SCALE // step
    cell = (image_size + GRID_PAD) * SAMPLE_GRID_SCALE // step
    panels = []
    for epoch in wanted:
        with PILImage.open(by_epoch[epoch]) as image:
            pixels = np.asarray(image.convert("RGB"))[::step, ::step]
        panels.append(pixels[:, :pad + columns * cell] if columns else pixels)
    _show_pixels(_side_by_side(panels, row_labels, cell, pad),
                 "   ".join(f"epoch {e}" for e in wanted) + "   (left to right; the same noise in each)")
    return [by_epoch[e] for e in wanted]


def plot_history(run_dir: str | os.PathLike,
                 panels: Mapping[str, Sequence[str]] | None = None, x: str = "kimg") -> list[dict]:
    """Curves from a run's history.jsonl, one panel per entry of `panels` (title -> keys;
    default: every loss); returns the history.  x: 'kimg' (thousands of images) or 'epoch'."""
    import matplotlib.pyplot as plt

    from condgan.train.history import read_history

    history = read_history(run_dir)
    if not history:
        raise UserError(f"{run_dir} has no history.jsonl yet: train the run first")
    if panels is None:
        keys = sorted({k for h in history for k in h if k.endswith("loss")})
        panels = {"losses (epoch means)": keys}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.2), dpi=DPI,
                             squeeze=False)
    xs = [h.get(x, h.get("epoch", i)) for i, h in enumerate(history)]
    for ax, (title, keys) in zip(axes[0], panels.items()):
        for key in keys:
            ys = [h.get(key, np.nan) for h in history]
            ax.plot(xs, [np.nan if y is None else y for y in ys], marker="o", ms=3, label=key)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("thousands of images seen" if x == "kimg" else x)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    show_figure(fig)
    return history


def keep_per_class(data, count: int):
    """The first `count` images of each class (quick runs); 0 keeps everything."""
    from condgan.data.arrays import ArraySet

    if not count:
        return data
    keep = np.concatenate([np.flatnonzero(data.y == c)[:count] for c in range(len(data.classes))])
    return ArraySet(data.x[keep], data.y[keep], data.classes, data.meta)


def require(file: str | os.PathLike, how: str) -> Path:
    """`file` (a project path) when it exists, else an error saying how to make it."""
    found = project_path(file)
    if not found.exists():
        raise UserError(f"{found} does not exist: {how}")
    return found


def cifar10(split: str = "train", classes: Sequence[str] | None = None,
            source: str | os.PathLike = "data/cifar10"):
    """CIFAR-10 as written by `python -m condgan get-data cifar10` (or any CIFAR-10 copy
    `source` names), optionally only some classes."""
    from condgan.data.sources import load_training_set

    folder = require(source, "get CIFAR-10 first with `python -m condgan get-data cifar10` "
                             "(downloads 163 MB), or `... --from cifar-10-python.tar.gz` for a "
                             "copy you have")
    return load_training_set(str(folder), 32, classes, split=split)


def mnist(split: str = "train", source: str | os.PathLike = "data/mnist"):
    """MNIST digits as written by `python -m condgan get-data mnist` (32x32, grey copied to RGB)."""
    from condgan.data.sources import load_training_set

    folder = require(source, "get the digits first with `python -m condgan get-data mnist` "
                             "(downloads 11 MB), or `... --from FOLDER` holding MNIST's "
                             "*-idx*-ubyte.gz files")
    return load_training_set(str(folder), 32, split=split)


def example_class_folders(out: str | os.PathLike, classes: Sequence[str], per_class: int,
                          source: str | os.PathLike = "data/cifar10") -> Path:
    """CIFAR-10 training images of `classes` written as JPEG class folders `out/<class>/*.jpg`:
    a stand-in for a user's own photos, so the series runs without scraper keys or downloads.
    Files already there are kept (re-running adds only what is missing)."""
    from PIL import Image

    out = Path(out)
    data = cifar10("train", classes, source)
    for label, name in enumerate(data.classes):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, pixels in enumerate(data.x[data.y == label][:per_class]):
            file = folder / f"{name}_{i:04d}.jpg"
            if not file.exists():
                Image.fromarray(pixels).save(file, quality=95)
    return out


def shapes(folder: str | os.PathLike = "data/shapes", n_images: int = 20000, size: int = 64,
           split: str = "test"):
    """One split of the Shapes captioned data set (`condgan.data.shapes`), written first when
    the folder has none (deterministic from its seed: every machine gets the same images)."""
    from condgan.data.caption_sets import load_caption_split
    from condgan.data.shapes import write_shapes

    folder = project_path(folder)
    if not (folder / "captions.jsonl").is_file():
        write_shapes(folder, n_images, size, seed=0)
    return load_caption_split(folder, split, size)


def shapes_one_object(path: str | os.PathLike = "data/shapes_one.npz", n_images: int = 20000,
                      size: int = 32):
    """The one-object Shapes array set (`make-shapes -o data/shapes_one.npz --size 32`), written
    first when it is missing (deterministic from its seed)."""
    from condgan.data.arrays import load_array_set
    from condgan.data.shapes import write_shapes_arrays

    path = project_path(path)
    if not path.is_file():
        write_shapes_arrays(path, n_images, size, seed=0,
                            command=f"python -m condgan make-shapes -o {relative(path)} --size {size}")
    return load_array_set(path)


def damsm_retrieval(run_dir: str | os.PathLike, data: str | os.PathLike, repeats: int = 3,
                    examples: int = 3) -> dict:
    """R-precision of a DAMSM run on the held-out captions, and retrieval examples."""
    from condgan.families.damsm.family import evaluate_damsm

    return evaluate_damsm(run_dir, str(project_path(data)), repeats=repeats, examples=examples)


def show_word_attention(run_dir: str | os.PathLike, image: np.ndarray, caption: str) -> list[str]:
    """The DAMSM's attention of each word of `caption` over the regions of `image`: the image,
    then one panel per word with the attention laid over it as a heat map (red: most).
    Returns the words."""
    from matplotlib import colormaps

    from condgan.families.damsm.family import word_attention_maps

    words, maps = word_attention_maps(run_dir, image, caption)
    size = image.shape[0]
    heat = colormaps["jet"]
    panels = [image]
    for attention in maps:
        up = np.kron(attention / max(float(attention.max()), 1e-8),
                     np.ones((size // attention.shape[0], size // attention.shape[1])))
        overlay = 0.45 * image + 0.55 * 255 * heat(up)[..., :3]
        panels.append(np.clip(overlay, 0, 255).astype(np.uint8))
    columns = 10
    rows = [panels[i:i + columns] for i in range(0, len(panels), columns)]
    labels = ["image", *words]
    from PIL import Image as PILImage, ImageDraw

    cell = size + 16
    canvas = PILImage.new("RGB", (columns * (size + 4), len(rows) * cell), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for k, (panel, label) in enumerate(zip(panels, labels)):
        r, c = divmod(k, columns)
        canvas.paste(PILImage.fromarray(panel), (c * (size + 4), r * cell))
        draw.text((c * (size + 4) + 2, r * cell + size + 2), label[:10], fill=(0, 0, 0))
    pixels = np.asarray(canvas)
    if size <= 64:
        pixels = np.kron(pixels, np.ones((2, 2, 1), np.uint8))
    _show_pixels(pixels, f"{caption!r}: each word's attention over the image (red: most)")
    return words


class Stopwatch:
    """How long the notebook has run, for its closing line."""

    def __init__(self) -> None:
        self.start = time.time()

    def minutes(self) -> float:
        return (time.time() - self.start) / 60

    def __str__(self) -> str:
        seconds = time.time() - self.start
        return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
