"""A captioned data set from wherever it is: a generic captioned folder (`captions.jsonl`, e.g.
Shapes) or AttnGAN's CUB birds layout."""
from __future__ import annotations

import os
from pathlib import Path

from condgan.data.captioned import CaptionedSet, load_captioned
from condgan.data.cub import is_cub_layout, load_cub
from condgan.errors import UserError


def load_caption_split(data_path: str | os.PathLike, split: str, image_size: int) -> CaptionedSet:
    """One split ("train" or "test") of a captioned data set, images at `image_size` px."""
    path = Path(data_path)
    if (path / "captions.jsonl").is_file():
        return load_captioned(path, split, image_size)
    if is_cub_layout(path):
        return load_cub(path, split, image_size)
    raise UserError(f"data {str(path)!r} is neither a captioned folder (captions.jsonl) nor "
                    "AttnGAN's birds layout (CUB_200_2011/, text/, train/filenames.pickle): make "
                    "Shapes with `python -m condgan make-shapes -o data/shapes`")
