"""Pictures a person looks at: image grids and the loss plot (written atomically)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

# White border between the images of a grid, and the zoom of the grids a run saves.
GRID_PAD = 2
SAMPLE_GRID_SCALE = 2


def make_grid(images: np.ndarray, columns: int, pad: int = GRID_PAD, scale: int = 1) -> np.ndarray:
    """uint8 (N,H,W,C) -> one uint8 (rows*(H+pad)+pad, ...) picture, padded with white."""
    images = np.asarray(images)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    count, height, width, _ = images.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    grid = np.full((rows * (height + pad) + pad, columns * (width + pad) + pad, 3), 255, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        grid[top:top + height, left:left + width] = image
    if scale > 1:
        grid = np.kron(grid, np.ones((scale, scale, 1), dtype=np.uint8))
    return grid


def save_png(array: np.ndarray, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def save_grid(images: np.ndarray, path: str | os.PathLike, columns: int,
              scale: int = SAMPLE_GRID_SCALE) -> Path:
    return save_png(make_grid(images, columns, scale=scale), path)


def save_loss_plot(history: Sequence[dict], path: str | os.PathLike,
                   keys: Sequence[str] = ("d_loss", "g_loss")) -> Path | None:
    """D and G loss per epoch against images seen (the seed notebooks' plot, every epoch)."""
    if not history:
        return None
    # A bare Figure (no pyplot): no global backend switch, so a notebook's inline plots keep
    # working, and no pyplot state shared between threads.
    from matplotlib.figure import Figure

    kimg = [h.get("kimg", h.get("epoch", i)) for i, h in enumerate(history)]
    fig = Figure(figsize=(6, 3.5), dpi=100)
    ax = fig.subplots()
    for key in keys:
        if any(key in h for h in history):
            ax.plot(kimg, [h.get(key, np.nan) for h in history], marker="o", ms=3, label=key)
    ax.set_xlabel("thousands of images seen")
    ax.set_ylabel("loss (epoch mean)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial.png")
    fig.savefig(tmp)
    os.replace(tmp, path)
    return path
