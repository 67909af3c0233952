"""Evaluate an exported AttnGAN on held-out captions: R-precision and (Shapes) caption accuracy.

Held-out image i contributes its caption number i % 10 (deterministic), generated with seed
10000 + i.  R-precision follows part 1 (1 true + 99 mismatched captions from other attribute
sets, top-1 by cosine of the DAMSM global image and sentence features) and is reported for the
generated images and, as the ceiling, for the real held-out images with the same captions.
Caption accuracy (`attngan_caption_accuracy`) scores only captions that fit the text encoder's
18 words (longer two-object captions lose words at evaluation; the count is reported).
FID: Inception FID (`condgan.metrics.inception`) when the InceptionV3 weights are already on
disk (never downloaded here); always `damsm_fid`, the Frechet distance between generated and
real held-out images in the DAMSM image encoder's global feature space (D-dimensional, trained on
this data set).  **damsm_fid is not FID**: another network and feature space; it works offline
and compares runs that use the same DAMSM.
Results are merged into the model's card.json with their protocol, which names the DAMSM run.
With `damsm_dir` other than the card's own, the DAMSM-based numbers (R-precision, damsm_fid)
are stored as `<metric>@<that run's folder name>`, so they never replace the card's own.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.paths import project_path


def _other_damsm_suffix(damsm_dir, own_damsm) -> str:
    """Empty for the card's own DAMSM, else "@<run folder name>"."""
    if own_damsm and Path(damsm_dir).resolve() == project_path(own_damsm).resolve():
        return ""
    return "@" + Path(damsm_dir).resolve().name


def evaluate_attngan(model_dir, data, damsm_dir=None, classifier=None, n: int = 1000,
                     seed: int = 0, write_card: bool = True, replace: bool = False,
                     say=print) -> dict:
    """Score `model_dir` on `data`'s held-out captions (see the module docstring); metrics the
    card lacks are written into it, ones it has are replaced only with `replace=True`."""
    from condgan.attngan_export import load_attngan
    from condgan.export import card_path, merge_card_metrics
    from condgan.metrics.fid import fid_from_features
    from condgan.metrics.r_precision import encode_pairs, r_precision
    from condgan.text import encode_texts, tokenize
    from condgan.data.caption_sets import load_caption_split
    from condgan.train.damsm_trainer import _class_filter, load_damsm

    model = load_attngan(model_dir)
    own_damsm = model.card.get("dataset", {}).get("damsm")
    damsm_dir = damsm_dir or (project_path(own_damsm) if own_damsm else None)
    if not damsm_dir:
        raise UserError(f"{model_dir}: the card names no DAMSM run; pass --damsm runs/damsm_NAME")
    test = load_caption_split(data, "test", model.image_size)
    n = min(n, len(test.images))
    if n < 100:
        raise UserError(f"{data}: {n} held-out images; R-precision needs at least 100")
    index = np.arange(n)
    captions = [test.captions[i][i % len(test.captions[i])] for i in index]
    fakes = model.generate_for_seeds([10_000 + int(i) for i in index], captions)
    text, image, vocabulary, damsm_cfg = load_damsm(damsm_dir)
    tokens, lengths = encode_texts(captions, vocabulary, damsm_cfg.max_len)
    ids = _class_filter(test.class_ids[index])
    real = test.images[index]
    fakes, real = resize_uint8(fakes, damsm_cfg.image_size), resize_uint8(real, damsm_cfg.image_size)
    result = {"queries": n}
    features = {}
    for name, images in (("generated", fakes), ("real", real)):
        features[name], sentences = encode_pairs(image, text, images, tokens, lengths)
        result[f"r_precision_{name}"] = r_precision(features[name], sentences, seed=seed,
                                                    class_ids=ids, repeats=3)["r_precision"]
    result["damsm_fid"] = fid_from_features(features["generated"], features["real"])
    inception = _inception_or_none()
    if inception is not None:
        result["fid"] = fid_from_features(
            np.concatenate([inception(fakes[k:k + 100])["features"] for k in range(0, n, 100)]),
            np.concatenate([inception(real[k:k + 100])["features"] for k in range(0, n, 100)]))
    attributes = test.meta.get("attributes") or []
    if classifier is not None and attributes and attributes[0] is not None:
        from condgan.metrics.attngan_caption_accuracy import caption_accuracy, load_classifier
        clf = load_classifier(classifier)
        fits = [i for i in index if len([w for w in tokenize(captions[i]) if w in vocabulary])
                <= damsm_cfg.max_len]
        chosen = [attributes[i] for i in fits]
        result["caption_accuracy_generated"] = caption_accuracy(clf, fakes[fits], chosen)
        result["caption_accuracy_real"] = caption_accuracy(clf, real[fits], chosen)
    protocol = (f"{n} held-out captions (caption i%10 of test image i, seed 10000+i); R-precision: "
                "1 true + 99 mismatched captions of other attribute sets, DAMSM cosine top-1, "
                "3 repeats; caption accuracy: per-cell attribute classifier on captions of <= "
                f"{damsm_cfg.max_len} words; damsm_fid (NOT Inception FID): Frechet distance of "
                f"DAMSM global image features ({damsm_cfg.dim}-d) of generated vs the {n} real "
                "held-out images; fid: InceptionV3 pool3 vs the same real images, only when its "
                f"weights are on disk; DAMSM: {card_path(damsm_dir)}")
    other = _other_damsm_suffix(damsm_dir, own_damsm)
    metrics = {(k + other if k.startswith(("r_precision", "damsm_fid")) else k):
               {"value": v, "protocol": protocol} for k, v in result.items() if k != "queries"}
    if write_card:
        merge_card_metrics(model_dir, metrics, replace=replace,
                           how_to_replace="rerun with --replace (replace=True from Python)", say=say)
    return result


def _inception_or_none():
    """InceptionV3 features when the weights are already on disk, else None (no download)."""
    from condgan.metrics.inception import InceptionFeatures
    try:
        return InceptionFeatures(allow_download=False)
    except UserError:
        return None


def resize_uint8(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of uint8 images to size x size (identity when already that size), e.g.
    256 px birds for a DAMSM trained at 299 px."""
    images = np.asarray(images)
    if images.shape[1] == size:
        return images
    import keras
    out = np.asarray(keras.ops.image.resize(images.astype(np.float32), (size, size)))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
