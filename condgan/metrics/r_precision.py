"""R-precision, AttnGAN's retrieval protocol (Xu et al. 2018, sec. 5; Table 1).

For each image (real or generated) the candidate pool holds its true caption and 99 captions of
other images drawn at random; the image's global feature ranks them by cosine similarity with
their sentence features; the query scores 1 when the true caption ranks first (R = 1, so
R-precision is top-1 accuracy).  Chance is 1/100.  A tie with a mismatched caption counts as a
miss, so a constant encoder scores 0, not 1.

`class_ids` (optional) draws the mismatched captions only from images of other classes: for
Shapes, whose class is the full attribute set, a caption of an identical-looking image is a true
description, not a mismatch.  AttnGAN's CUB numbers use no class filter.
"""
from __future__ import annotations

import numpy as np

from condgan.errors import UserError


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def r_precision(image_features, text_features, *, n_candidates: int = 100, seed: int = 0,
                class_ids=None, repeats: int = 1) -> dict:
    """image_features (N, D), text_features (N, D): row i of each is a matching pair.

    Returns {"r_precision": mean, "std": over repeats, "per_repeat": [...], "queries": N,
    "candidates": n_candidates}.
    """
    img, txt = _normalise(image_features), _normalise(text_features)
    n = img.shape[0]
    if txt.shape[0] != n:
        raise UserError(f"R-precision needs one caption per image, got {n} images and "
                        f"{txt.shape[0]} captions")
    if n < n_candidates:
        raise UserError(f"R-precision with {n_candidates} candidates needs at least "
                        f"{n_candidates} image-caption pairs, got {n}: evaluate more images")
    classes = None if class_ids is None else np.asarray(class_ids)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(repeats):
        hits = 0
        for i in range(n):
            others = np.flatnonzero(classes != classes[i]) if classes is not None else None
            if others is None:
                pick = rng.choice(n - 1, size=n_candidates - 1, replace=False)
                pick = pick + (pick >= i)           # skip i itself
            else:
                if len(others) < n_candidates - 1:
                    raise UserError("too few images of other classes for R-precision: "
                                    f"need {n_candidates - 1}, have {len(others)}")
                pick = rng.choice(others, size=n_candidates - 1, replace=False)
            true = img[i] @ txt[i]
            hits += int(true > np.max(txt[pick] @ img[i]))
        scores.append(hits / n)
    return {"r_precision": float(np.mean(scores)), "std": float(np.std(scores)),
            "per_repeat": [float(s) for s in scores], "queries": int(n),
            "candidates": int(n_candidates)}


def encode_pairs(image_encoder, text_encoder, images, tokens, lengths, batch_size: int = 100):
    """Global image features and sentence features of (images uint8 or float in [-1, 1],
    captions) pairs, batched, in inference mode.  Returns two (N, D) float arrays."""
    images = np.asarray(images)
    feats_img, feats_txt = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        if batch.dtype == np.uint8:
            batch = batch.astype(np.float32) / 127.5 - 1.0
        feats_img.append(np.asarray(image_encoder(batch, training=False)[1]))
        feats_txt.append(np.asarray(text_encoder(tokens[start:start + batch_size],
                                                 lengths[start:start + batch_size],
                                                 training=False)[1]))
    return np.concatenate(feats_img), np.concatenate(feats_txt)


def r_precision_of_images(image_encoder, text_encoder, images, tokens, lengths, **kwargs) -> dict:
    """R-precision of any image set (e.g. generated from `tokens`) against its captions."""
    img, txt = encode_pairs(image_encoder, text_encoder, images, tokens, lengths)
    return r_precision(img, txt, **kwargs)


def resize_uint8(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of uint8 images to size x size (identity when already that size), e.g.
    256 px birds for a DAMSM trained at 299 px."""
    images = np.asarray(images)
    if images.shape[1] == size:
        return images
    import keras
    out = np.asarray(keras.ops.image.resize(images.astype(np.float32), (size, size)))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
