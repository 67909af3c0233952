"""Shapes: the embedded captioned data set, generated deterministically from a seed.

Each image is a plain background (black, white or gray) with one or two flat-coloured objects
(circle, square, triangle, diamond; red, green, blue, yellow, purple, orange; small or large),
each in its own cell of a 3x3 grid.  Ten captions per image are drawn from varied templates and
synonyms, so wording and word order change while the attributes stay exact; the attributes are
stored with every image.

`generate_shapes(n, size, seed)` is a pure function of its arguments and `SHAPES_VERSION`:
image i is drawn from `np.random.default_rng([seed, VERSION, i])`, so the same (seed, version)
gives the same bytes for any `n`, and image i does not depend on how many images come before.
Pixels are painted with exact colours (no anti-aliasing) so tests can read the attributes back.
Changing anything that alters the output requires bumping `SHAPES_VERSION`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from condgan.errors import UserError

SHAPES_VERSION = 1
SHAPES = ("circle", "square", "triangle", "diamond")
COLOURS = {"red": (220, 30, 30), "green": (30, 170, 50), "blue": (40, 70, 225),
           "yellow": (240, 220, 30), "purple": (140, 50, 170), "orange": (250, 140, 20)}
BACKGROUNDS = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128)}
SIZES = ("small", "large")
POSITIONS = ("top left", "top", "top right", "left", "center", "right",
             "bottom left", "bottom", "bottom right")  # row-major over the 3x3 grid
# Object extent as a fraction of a grid cell (the half-size of its bounding square).
_HALF = {"small": 0.22, "large": 0.42}

_SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
_SHAPE_WORDS = {"circle": ("circle", "disk", "round dot"), "square": ("square", "box"),
                "triangle": ("triangle",), "diamond": ("diamond", "rhombus")}
_POS_WORDS = {
    "top left": ("in the top left corner", "in the upper left corner", "at the top left"),
    "top": ("at the top", "at the top center", "in the upper middle"),
    "top right": ("in the top right corner", "in the upper right corner", "at the top right"),
    "left": ("on the left", "at the left side", "in the middle left"),
    "center": ("in the center", "in the middle", "at the center"),
    "right": ("on the right", "at the right side", "in the middle right"),
    "bottom left": ("in the bottom left corner", "in the lower left corner", "at the bottom left"),
    "bottom": ("at the bottom", "at the bottom center", "in the lower middle"),
    "bottom right": ("in the bottom right corner", "in the lower right corner",
                     "at the bottom right"),
}
_BG_WORDS = ("on a {} background", "against a {} backdrop", "on {}")


def word_groups() -> dict[str, dict[str, list[str]]]:
    """The one-word attribute synonyms, grouped for swap negatives (`condgan.text.word_swap`).
    Positions are phrases, not words, and "round dot" is two words: neither is swapped."""
    one_word = lambda words: [w for w in words if " " not in w]  # noqa: E731
    return {"shape": {k: one_word(v) for k, v in _SHAPE_WORDS.items()},
            "colour": {c: [c] for c in COLOURS},
            "size": {k: list(v) for k, v in _SIZE_WORDS.items()},
            "background": {b: [b] for b in BACKGROUNDS}}
_ONE = ("a {o} {p}", "a {o} {p} {b}", "{b}, a {o} {p}", "there is a {o} {p} {b}",
        "a {o} is {p} {b}", "{p} there is a {o} {b}", "this image shows a {o} {p} {b}",
        "a {o} {b} {p}")
_TWO = ("a {o} {p} and a {o2} {p2}", "a {o} {p} and a {o2} {p2} {b}",
        "{b}, a {o} {p} and a {o2} {p2}", "two shapes {b}: a {o} {p} and a {o2} {p2}",
        "there is a {o} {p} and a {o2} {p2}", "a {o} {p}, a {o2} {p2}, {b}")


@dataclasses.dataclass
class ShapesSet:
    images: np.ndarray            # uint8 (N, size, size, 3)
    captions: list[list[str]]     # ten per image
    attributes: list[dict]        # {"background": ..., "objects": [{shape, colour, size, position}]}
    meta: dict


def generate_shapes(n: int, size: int = 64, seed: int = 0) -> ShapesSet:
    """`n` images of `size` px (32..256) with ten captions and the ground-truth attributes."""
    _check_request(n, size)
    return _draw_images(range(n), size, seed, "generate_shapes")


def one_object_shapes(n: int, size: int = 64, seed: int = 0) -> ShapesSet:
    """The first `n` images of `generate_shapes(..., size, seed)` that hold one object (about
    half of them): the same pixels as there, each attribute of the image's single object."""
    _check_request(n, size)
    chosen, i = [], 0
    while len(chosen) < n:
        if len(_draw_attributes(np.random.default_rng([seed, SHAPES_VERSION, i]))["objects"]) == 1:
            chosen.append(i)
        i += 1
    return _draw_images(chosen, size, seed, "one_object_shapes")


def _check_request(n: int, size: int) -> None:
    if not 32 <= size <= 256:
        raise UserError(f"--size {size} is out of range: Shapes images are 32 to 256 px")
    if n < 1:
        raise UserError(f"--n {n} must be at least 1")


def _draw_images(indices, size: int, seed: int, generator: str) -> ShapesSet:
    indices = list(indices)
    images = np.empty((len(indices), size, size, 3), dtype=np.uint8)
    captions, attributes = [], []
    for row, i in enumerate(indices):
        rng = np.random.default_rng([seed, SHAPES_VERSION, i])
        attrs = _draw_attributes(rng)
        images[row] = render(attrs, size, rng)
        attributes.append(attrs)
        captions.append([describe(attrs, rng) for _ in range(10)])
    meta = {"generator": f"condgan.data.shapes.{generator}", "version": SHAPES_VERSION,
            "seed": seed, "size": size, "num_images": len(indices)}
    return ShapesSet(images, captions, attributes, meta)


def class_key(attrs: dict) -> str:
    """A canonical string of all attributes: images with the same key have interchangeable
    captions, so DAMSM treats them as one class (no false negatives in a batch)."""
    objects = sorted(f"{o['size']} {o['colour']} {o['shape']} {o['position']}"
                     for o in attrs["objects"])
    return attrs["background"] + "|" + "|".join(objects)


def _draw_attributes(rng: np.random.Generator) -> dict:
    count = int(rng.integers(1, 3))
    cells = rng.choice(len(POSITIONS), size=count, replace=False)
    objects = [{"shape": SHAPES[rng.integers(len(SHAPES))],
                "colour": list(COLOURS)[rng.integers(len(COLOURS))],
                "size": SIZES[rng.integers(len(SIZES))],
                "position": POSITIONS[int(c)]} for c in cells]
    return {"background": list(BACKGROUNDS)[rng.integers(len(BACKGROUNDS))], "objects": objects}


def render(attrs: dict, size: int, rng: np.random.Generator) -> np.ndarray:
    """Paint the background and the objects; each object is jittered inside its own cell."""
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = BACKGROUNDS[attrs["background"]]
    cell = size / 3.0
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    for obj in attrs["objects"]:
        row, col = divmod(POSITIONS.index(obj["position"]), 3)
        half = _HALF[obj["size"]] * cell
        slack = max(cell / 2 - half - 1, 0.0)  # keep the whole object inside its cell
        cy = (row + 0.5) * cell + rng.uniform(-slack, slack)
        cx = (col + 0.5) * cell + rng.uniform(-slack, slack)
        image[_mask(obj["shape"], xx - cx, yy - cy, half)] = COLOURS[obj["colour"]]
    return image


def _mask(shape: str, dx: np.ndarray, dy: np.ndarray, half: float) -> np.ndarray:
    if shape == "circle":
        return dx * dx + dy * dy <= half * half
    if shape == "square":
        return (np.abs(dx) <= half * 0.85) & (np.abs(dy) <= half * 0.85)
    if shape == "diamond":
        return np.abs(dx) + np.abs(dy) <= half
    # triangle pointing up: apex at the top, base at the bottom, width grows linearly
    return (dy >= -half) & (dy <= half) & (np.abs(dx) <= (dy + half) / 2)


def describe(attrs: dict, rng: np.random.Generator) -> str:
    """One caption naming every attribute, with randomly chosen template and synonyms."""
    def pick(options):
        return options[int(rng.integers(len(options)))]

    def phrase(obj):
        size, shape = pick(_SIZE_WORDS[obj["size"]]), pick(_SHAPE_WORDS[obj["shape"]])
        return f"{size} {obj['colour']} {shape}"

    background = pick(_BG_WORDS).format(attrs["background"])
    objects = list(attrs["objects"])
    if len(objects) == 1:
        template = pick(_ONE)
        if "{b}" not in template:  # the short template names the background as a separate clause
            template += " {b}"
        return template.format(o=phrase(objects[0]), p=pick(_POS_WORDS[objects[0]["position"]]),
                               b=background)
    if rng.integers(2):  # mention the objects in either order
        objects.reverse()
    template = pick(_TWO)
    if "{b}" not in template:
        template += " {b}"
    return template.format(o=phrase(objects[0]), p=pick(_POS_WORDS[objects[0]["position"]]),
                           o2=phrase(objects[1]), p2=pick(_POS_WORDS[objects[1]["position"]]),
                           b=background)


def write_shapes(folder, n: int, size: int = 64, seed: int = 0, test_fraction: float = 0.1,
                 command: str | None = None):
    """Generate Shapes and save it in the generic captioned layout (`captioned.py`); the last
    `round(n * test_fraction)` images form the held-out "test" split."""
    from condgan.data.captioned import write_captioned

    if not 0.0 <= test_fraction < 1.0:
        raise UserError(f"--test-fraction {test_fraction} must lie in [0, 1)")
    data = generate_shapes(n, size, seed)
    n_test = int(round(n * test_fraction))
    splits = ["train"] * (n - n_test) + ["test"] * n_test
    meta = dict(data.meta, test_fraction=test_fraction, num_test=n_test, command=command,
                attribute_values={"shape": list(SHAPES), "colour": list(COLOURS),
                                  "size": list(SIZES), "position": list(POSITIONS),
                                  "background": list(BACKGROUNDS)})
    return write_captioned(folder, data.images, data.captions, splits=splits,
                           classes=[class_key(a) for a in data.attributes],
                           attributes=data.attributes, meta=meta)


def write_shapes_arrays(path, n: int, size: int = 32, seed: int = 0, command: str | None = None):
    """`n` one-object Shapes images as an array set (`.npz`, one class "shapes"): the data of
    an unconditional GAN whose latent space the attribute edits steer (`condgan.control`)."""
    from condgan.data.arrays import ArraySet, save_array_set

    data = one_object_shapes(n, size, seed)
    meta = dict(data.meta, objects=1)
    arrays = ArraySet(data.images, np.zeros(n, np.int64), ["shapes"], meta)
    return save_array_set(path, arrays, source=meta["generator"], command=command)
