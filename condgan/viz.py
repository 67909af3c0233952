"""Pictures a person looks at: image grids and the loss plot (written atomically)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from condgan.basics import make_grid

# The zoom of the sample grids a run saves (small images are hard to judge at 1:1).
SAMPLE_GRID_SCALE = 2


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
                   keys: Sequence[str] | None = None) -> Path | None:
    """The losses per epoch against images seen (the seed notebooks' plot, every epoch); `keys`
    default: every `*loss` field of the history."""
    if not history:
        return None
    if keys is None:
        keys = sorted({k for h in history for k in h if k.endswith("loss")})
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
