"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

The same differentiable augmentation is applied to real and fake images before D sees them,
so D cannot overfit a small data set while G still gets gradients through the augmentation.
Written in keras.ops only; the random numbers come in as arguments (drawn by the caller from
its seeded stream), which keeps the function pure, backend-neutral and exactly resumable.
"""
from __future__ import annotations

from keras import ops

from condgan.errors import UserError

POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # the paper's 1/8 of the image
CUTOUT_RATIO = 0.5         # the paper's half-size square
RANDOM_NUMBERS_PER_IMAGE = 7


def parse_policy(policy: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [p for p in parts if p not in POLICIES]
    if unknown:
        raise UserError(f"DiffAugment policy {unknown} not known: use a comma list of {POLICIES}")
    return parts


def diff_augment(images, uniforms, policy: tuple[str, ...]):
    """Augment NHWC images in [-1, 1]; `uniforms` is (N, 7) uniform [0, 1) numbers."""
    if not policy:
        return images
    if "color" in policy:
        images = _color(images, uniforms[:, 0:3])
    if "translation" in policy:
        images = _translation(images, uniforms[:, 3:5])
    if "cutout" in policy:
        images = _cutout(images, uniforms[:, 5:7])
    return images


def _color(x, u):
    b = u[:, 0][:, None, None, None]
    s = u[:, 1][:, None, None, None]
    c = u[:, 2][:, None, None, None]
    x = x + (b - 0.5)                                   # brightness
    mean = ops.mean(x, axis=-1, keepdims=True)
    x = (x - mean) * (s * 2.0) + mean                   # saturation
    mean = ops.mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (c + 0.5) + mean                # contrast


def _shift_matrices(size: int, shift):
    """(N, size, size) 0/1 matrices moving rows by `shift` pixels, zero-filling the edge."""
    rows = ops.arange(size)[None, :, None]
    cols = ops.arange(size)[None, None, :]
    return ops.cast(ops.equal(rows - ops.cast(shift, "int32")[:, None, None], cols), "float32")


def _translation(x, u):
    height, width = x.shape[1], x.shape[2]
    max_dy, max_dx = int(height * TRANSLATION_RATIO + 0.5), int(width * TRANSLATION_RATIO + 0.5)
    dy = ops.floor(u[:, 0] * (2 * max_dy + 1)) - max_dy
    dx = ops.floor(u[:, 1] * (2 * max_dx + 1)) - max_dx
    x = ops.einsum("nij,njwc->niwc", _shift_matrices(height, dy), x)
    return ops.einsum("nkl,nilc->nikc", _shift_matrices(width, dx), x)


def _cutout(x, u):
    height, width = x.shape[1], x.shape[2]
    cut_h, cut_w = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
    cy = ops.floor(u[:, 0] * (height + 1 - cut_h % 2))[:, None, None]
    cx = ops.floor(u[:, 1] * (width + 1 - cut_w % 2))[:, None, None]
    ys = ops.cast(ops.arange(height), "float32")[None, :, None]
    xs = ops.cast(ops.arange(width), "float32")[None, None, :]
    # A cut_h x cut_w square whose top-left corner is centre - size // 2 (clipped at the edges).
    top, left = cy - cut_h // 2, cx - cut_w // 2
    inside = ops.logical_and(ops.logical_and(ys >= top, ys < top + cut_h),
                             ops.logical_and(xs >= left, xs < left + cut_w))
    return x * ops.cast(ops.logical_not(inside), x.dtype)[..., None]
