"""AttnGAN's CUB birds layout (`data/birds` of github.com/taoxugit/AttnGAN):

    birds/
      CUB_200_2011/images/<class>/<name>.jpg, bounding_boxes.txt, images.txt
      text/<class>/<name>.txt            ten captions per image, one per line
      train/filenames.pickle, test/filenames.pickle   ["<class>/<name>", ...]
      captions.pickle                    optional: [train ids, test ids, ixtoword, wordtoix]

Pickles are read only through `condgan.data.safe_pickle` (plain lists, dicts, str, int);
`filenames.txt` (one name per line) is accepted in place of `filenames.pickle`.  Captions come
from `text/` when present, else from `captions.pickle` (decoded back to words).  Images are
cropped to the bounding box enlarged by 1.5 (AttnGAN `get_imgs`: a square of side
1.5 * max(w, h) around the box centre, clipped to the image), then resized.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from condgan.data.captioned import CaptionedSet
from condgan.data.safe_pickle import safe_load
from condgan.errors import UserError
from condgan.text.tokenizer import tokenize

CAPTIONS_PER_IMAGE = 10


def is_cub_layout(data_dir: str | os.PathLike) -> bool:
    d = Path(data_dir)
    return any((d / "train" / f).is_file() for f in ("filenames.pickle", "filenames.txt"))


def read_filenames(data_dir: str | os.PathLike, split: str) -> list[str]:
    """`<split>/filenames.pickle` (or `.txt`): relative names like "002.X/X_0002_1027"."""
    folder = Path(data_dir) / split
    if (folder / "filenames.pickle").is_file():
        path = folder / "filenames.pickle"
        names = safe_load(path.read_bytes(), encoding="latin1", name=str(path))
    elif (folder / "filenames.txt").is_file():
        path = folder / "filenames.txt"
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    else:
        raise UserError(f"{folder} has no filenames.pickle or filenames.txt: AttnGAN's birds "
                        "layout lists each split's images there")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UserError(f"{path} must hold a list of strings (image names)")
    for name in names:
        if name.startswith(("/", "\\")) or ".." in Path(name).parts:
            raise UserError(f"{path}: image name {name!r} must be relative, without '..'")
    return names


def read_captions_pickle(path: str | os.PathLike):
    """(train captions, test captions, ixtoword) with captions as lists of words."""
    data = safe_load(Path(path).read_bytes(), encoding="latin1", name=str(path))
    if not (isinstance(data, list) and len(data) == 4 and isinstance(data[2], (dict, list))):
        raise UserError(f"{path} is not AttnGAN's captions.pickle "
                        "([train ids, test ids, ixtoword, wordtoix])")
    ixtoword = data[2]

    def words(ids):
        try:
            return [ixtoword[int(i)] for i in ids]
        except (KeyError, IndexError, TypeError, ValueError):
            raise UserError(f"{path}: a caption uses a word index missing from ixtoword") from None
    return [words(c) for c in data[0]], [words(c) for c in data[1]], ixtoword


def read_caption_file(path: Path, per_image: int = CAPTIONS_PER_IMAGE) -> list[str]:
    """The first `per_image` captions of one text file that contain words (AttnGAN skips
    empty lines and word-less captions)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        raise UserError(f"caption file {path} is missing: AttnGAN's layout needs "
                        "text/<class>/<image>.txt for every listed image") from None
    captions = [line.strip() for line in lines if tokenize(line)]
    if not captions:
        raise UserError(f"caption file {path} has no captions")
    return captions[:per_image]


def read_bboxes(cub_dir: str | os.PathLike) -> dict[str, list[float]]:
    """"<class>/<name>" -> [x, y, width, height] from `images.txt` and `bounding_boxes.txt`."""
    cub_dir = Path(cub_dir)
    try:
        paths = dict(line.split(None, 1) for line in (cub_dir / "images.txt").read_text().splitlines()
                     if line.strip())
        boxes = {}
        for line in (cub_dir / "bounding_boxes.txt").read_text().splitlines():
            if line.strip():
                key, *values = line.split()
                boxes[os.path.splitext(paths[key].strip())[0]] = [float(v) for v in values]
    except (OSError, KeyError, ValueError) as error:
        raise UserError(f"{cub_dir}: cannot read images.txt / bounding_boxes.txt ({error}); "
                        "they come with CUB_200_2011") from None
    return boxes


def crop_box(bbox, width: int, height: int) -> tuple[int, int, int, int]:
    """AttnGAN's crop: (x1, y1, x2, y2) of the 1.5x enlarged square around the bounding box."""
    r = int(max(bbox[2], bbox[3]) * 0.75)
    cx, cy = int((2 * bbox[0] + bbox[2]) / 2), int((2 * bbox[1] + bbox[3]) / 2)
    return max(0, cx - r), max(0, cy - r), min(width, cx + r), min(height, cy + r)


def load_cub(data_dir: str | os.PathLike, split: str, image_size: int | None = None,
             with_images: bool = True) -> CaptionedSet:
    """One split as a CaptionedSet; class = the species folder (for same-class masking)."""
    from PIL import Image

    data_dir = Path(data_dir)
    names = read_filenames(data_dir, split)
    if (data_dir / "text").is_dir():
        captions = [read_caption_file(data_dir / "text" / f"{n}.txt") for n in names]
    elif (data_dir / "captions.pickle").is_file():
        train, test, _ = read_captions_pickle(data_dir / "captions.pickle")
        flat = train if split == "train" else test
        if len(flat) != CAPTIONS_PER_IMAGE * len(names):
            raise UserError(f"{data_dir}/captions.pickle has {len(flat)} {split} captions for "
                            f"{len(names)} images: expected {CAPTIONS_PER_IMAGE} each")
        captions = [[" ".join(c) for c in flat[i * CAPTIONS_PER_IMAGE:(i + 1) * CAPTIONS_PER_IMAGE]]
                    for i in range(len(names))]
    else:
        raise UserError(f"{data_dir} has neither text/ nor captions.pickle: unzip AttnGAN's "
                        "birds text.zip into text/")
    species = [n.split("/")[0] for n in names]
    lookup = {s: i for i, s in enumerate(sorted(set(species)))}
    images = np.zeros((len(names), 0, 0, 3), dtype=np.uint8)
    if with_images:
        if image_size is None:
            raise UserError("load_cub needs an image_size to resize the cropped birds to")
        cub = data_dir / "CUB_200_2011"
        boxes = read_bboxes(cub)
        images = np.empty((len(names), image_size, image_size, 3), dtype=np.uint8)
        for i, name in enumerate(names):
            path = cub / "images" / f"{name}.jpg"
            try:
                with Image.open(path) as img:
                    img = img.convert("RGB")
                    if name in boxes:
                        img = img.crop(crop_box(boxes[name], *img.size))
                    images[i] = np.asarray(img.resize((image_size, image_size), Image.BICUBIC))
            except OSError as error:
                raise UserError(f"cannot read bird image {path} ({error}): download "
                                "CUB_200_2011 into the birds folder") from None
    return CaptionedSet(images, captions, np.array([lookup[s] for s in species], dtype=np.int64),
                        names, {"source": str(data_dir), "split": split, "layout": "attngan-cub"})
