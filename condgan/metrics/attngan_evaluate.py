"""Evaluate an exported AttnGAN on held-out captions: R-precision and (Shapes) caption accuracy.

Held-out image i contributes its caption number i % 10 (deterministic), generated with seed
10000 + i.  R-precision follows part 1 (1 true + 99 mismatched captions from other attribute
sets, top-1 by cosine of the DAMSM global image and sentence features) and is reported for the
generated images and, as the ceiling, for the real held-out images with the same captions.
Caption accuracy (`attngan_caption_accuracy`) scores only captions that fit the text encoder's
18 words (longer two-object captions lose words at evaluation; the count is reported); the
two-object caption accuracy scores every two-object caption among the held-out ones against
all it names, however long (most are longer than 18 words: the model reads them truncated, as
it does when serving them), and says how many were.
FID: Inception FID (`condgan.metrics.inception`) when the InceptionV3 weights are already on
disk (never downloaded here); always `damsm_fid`, the Frechet distance between generated and
real held-out images in the DAMSM image encoder's global feature space (D-dimensional, trained on
this data set).  **damsm_fid is not FID**: another network and feature space; it works offline
and compares runs that use the same DAMSM.
Perceptual path length (`classifier_ppl`, `ppl_lpips`: only when named, as for other models;
ppl.py) walks the image noise with the caption fixed: pair i draws one of the held-out images'
captions (any of its ten) uniformly from PCG64(seed), and the conditioning-augmentation noise
stays at z1's.  `classifier_ppl` measures in the Shapes attribute classifier's feature maps, so
it needs Shapes data; `ppl_lpips` (VGG16 weights on disk) measures any.  Asked for alone, they
need no DAMSM run and draw no held-out images.
The metrics, their computations and their protocols are the metrics registry's (registry.py):
'auto' gives a caption model each of its metrics whose judge is at hand; a named one that
cannot be computed is an error that says what it needs.
Results are merged into the model's card.json with their protocol, which names the DAMSM run.
With `damsm_dir` other than the card's own, the DAMSM-based numbers (R-precision, damsm_fid)
are stored as `<metric>@<that run's folder name>`, so they never replace the card's own.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.metrics.ppl import DEFAULT_PAIRS
from condgan.paths import project_path


def _other_damsm_suffix(damsm_dir, own_damsm) -> str:
    """Empty for the card's own DAMSM (recorded as `card_path` records it), else "@<run folder
    name>"."""
    from condgan.model_folder import card_path

    if own_damsm and card_path(damsm_dir) == own_damsm:
        return ""
    return "@" + Path(damsm_dir).resolve().name


# What a caption metric's judge needs, for the error when one named cannot be computed.
_JUDGE_NEEDS = {
    "inception": "InceptionV3's weights on disk (evaluating a caption model never downloads them)",
    "attributes": "the Shapes attribute classifier (--classifier) and data that records each "
                  "image's attributes (Shapes)",
    "attributes_two_objects": "the Shapes attribute classifier (--classifier), Shapes data and "
                              "two-object captions among the held-out ones",
}


def evaluate_attngan(model_dir, data, damsm_dir=None, classifier_dir=None, n: int = 1000,
                     seed: int = 0, metrics: str = "auto", ppl_pairs: int = DEFAULT_PAIRS,
                     batch_size: int = 100, lpips_weights=None, lpips_linear=None,
                     write_card: bool = True, replace: bool = False, say=print,
                     generator=None) -> dict:
    """Score `model_dir` on `data`'s held-out captions (see the module docstring): metric name ->
    {value, protocol}; metrics the card lacks are written into it, ones it has are replaced only
    with `replace=True`.  `metrics`: 'auto' or a comma-separated list of the caption metrics;
    path length walks `ppl_pairs` pairs.  `generator`: the model,
    already loaded (else loaded from `model_dir`)."""
    from condgan.data.caption_sets import load_caption_split
    from condgan.families import load_model_folder
    from condgan.metrics import ppl, registry
    from condgan.metrics.registry import Judge, MetricContext
    from condgan.model_folder import card_path, merge_card_metrics

    model = generator if generator is not None else load_model_folder(model_dir)
    wanted = registry.parse_names(metrics, [model.conditioning])
    candidates = ([registry.METRICS[m] for m in wanted] if wanted is not None
                  else registry.applicable(model.conditioning))
    needs = {spec.needs for spec in candidates}
    test = load_caption_split(data, "test", model.image_size)
    # Path length's distances first: a missing network is said before any image is drawn.
    distances = ppl.distances_for(
        needs, attribute_classifier=(_shapes_maps_classifier(classifier_dir, test, data)
                                     if "classifier_maps" in needs else None),
        lpips_weights=lpips_weights, lpips_linear=lpips_linear)

    judges, fields, suffixes = {}, {"n": n, "protocol": {}}, {}
    if needs - set(registry.PATH_LENGTH_NEEDS):
        judges, fields, suffixes = _held_out_judges(model, model_dir, test, data, damsm_dir,
                                                    classifier_dir, n, seed, say)
    # Every caption of every held-out image: the walk draws pair i's from them.
    captions = [caption for image_captions in test.captions for caption in image_captions]
    found, walk = ppl.walk_distances(model, distances, pairs=ppl_pairs, seed=seed,
                                     batch_size=batch_size, say=say, captions=captions,
                                     data=card_path(data))
    judges.update({need: Judge.of_distance(distances[need], found[need]) for need in found})

    missing = [spec for spec in candidates if spec.needs not in judges]
    if wanted is not None and missing:
        raise UserError("; ".join(f"{spec.name} cannot be computed: it needs "
                                  f"{_JUDGE_NEEDS.get(spec.needs, spec.needs)}" for spec in missing))
    context = MetricContext(seed=seed, judges=judges, walk=walk, **fields)
    selected = [spec for spec in candidates if spec.needs in judges]
    # Another DAMSM's numbers go in beside the card's own, as <metric>@<run>.
    results = registry.score(selected, context, say=say, suffixes=suffixes)
    if write_card:
        results.card = merge_card_metrics(model_dir, results, replace=replace, say=say,
                                          how_to_replace="rerun with --replace (replace=True from Python)")
    return results


def _shapes_maps_classifier(classifier_dir, test, data):
    """The Shapes attribute classifier folder whose feature maps measure a caption model's
    classifier_ppl; a UserError naming the fix when there is none or the data is not Shapes."""
    from condgan.metrics.datasets import made_by_shapes

    if classifier_dir is None:
        raise UserError("classifier_ppl of a caption model measures in the Shapes attribute "
                        "classifier's feature maps, and there is none at "
                        "models/classifiers/shapes_attributes: train it with `python -m condgan "
                        "train-shapes-attributes --data data/shapes` or pass --classifier DIR")
    if not made_by_shapes(test.meta):
        raise UserError(f"classifier_ppl of a caption model measures in the Shapes attribute "
                        f"classifier's feature maps, which reads Shapes images; {str(data)!r} is "
                        "not Shapes data (made by `python -m condgan make-shapes`): measure "
                        "ppl_lpips instead (VGG16 weights on disk, --lpips-weights)")
    return classifier_dir


def _held_out_judges(model, model_dir, test, data, damsm_dir, classifier_dir, n: int, seed: int,
                     say):
    """The judges of the held-out captions' metrics (DAMSM; Inception when its weights are on
    disk; the attribute classifier for data that records attributes), what their context holds
    (`MetricContext` fields) and the card-name suffix of the DAMSM's metrics."""
    from condgan.families.attngan.family import RP_SEED
    from condgan.families.damsm.data import class_filter
    from condgan.families.damsm.family import load_damsm
    from condgan.metrics.registry import Judge
    from condgan.metrics.r_precision import encode_pairs, resize_uint8
    from condgan.model_folder import card_path
    from condgan.text import encode_texts, tokenize

    own_damsm = model.card.get("dataset", {}).get("damsm")
    damsm_dir = damsm_dir or (project_path(own_damsm) if own_damsm else None)
    if not damsm_dir:
        raise UserError(f"{model_dir}: the card names no DAMSM run; pass --damsm runs/damsm_NAME")
    if not (Path(damsm_dir) / "config.json").is_file():
        raise UserError(f"the DAMSM run {str(damsm_dir)!r} (R-precision's judge) is not here: pass "
                        "--damsm with the folder of the DAMSM run the model was trained against")
    n = min(n, len(test.images))
    if n < 100:
        raise UserError(f"{data}: {n} held-out images; R-precision needs at least 100")
    index = np.arange(n)
    captions = [test.captions[i][i % len(test.captions[i])] for i in index]
    say(f"generating {n} images from {model_dir} for held-out captions (seeds {RP_SEED}+i)")
    fakes = model.generate_for_seeds([RP_SEED + int(i) for i in index], captions)
    text, image, vocabulary, damsm_cfg = load_damsm(damsm_dir)
    tokens, lengths = encode_texts(captions, vocabulary, damsm_cfg.max_len)
    real = test.images[index]
    fakes, real = resize_uint8(fakes, damsm_cfg.image_size), resize_uint8(real, damsm_cfg.image_size)
    resize = f"bilinear to {damsm_cfg.image_size}px"

    # The judges: DAMSM always; Inception when its weights are on disk; the attribute
    # classifier for a data set that records each image's attributes.
    damsm_features, sentences = {}, {}
    for side, images in (("generated", fakes), ("real", real)):
        damsm_features[side], sentences[side] = encode_pairs(image, text, images, tokens, lengths)
    judges = {"damsm": Judge(f"DAMSM {card_path(damsm_dir)}", _statistics(damsm_features["generated"]),
                             _statistics(damsm_features["real"]), dim=damsm_cfg.dim, resize=resize)}
    inception = _inception_or_none()
    if inception is not None:
        generated, reference = (
            _statistics(np.concatenate([inception(images[k:k + 100])["features"]
                                        for k in range(0, n, 100)])) for images in (fakes, real))
        judges["inception"] = Judge("InceptionV3 pool3 (keras.applications)", generated, reference,
                                    resize=resize)
    attributes = test.meta.get("attributes") or []
    chosen = two_objects = truncated = None
    if classifier_dir is not None and attributes and attributes[0] is not None:
        from condgan.metrics.attngan_caption_accuracy import load_classifier

        classifier = load_classifier(classifier_dir)
        judge_name = f"Shapes attribute classifier {card_path(classifier_dir)}"
        # Only captions the text encoder reads whole: a longer one lost words on the way in.
        known_words = [len([w for w in tokenize(captions[i]) if w in vocabulary]) for i in index]
        fits = [i for i in index if known_words[i] <= damsm_cfg.max_len]
        chosen = [attributes[i] for i in fits]
        judges["attributes"] = Judge(judge_name, fakes[fits], real[fits], resize=resize,
                                     network=classifier)
        pairs = [i for i in index if len(attributes[i]["objects"]) == 2]
        if pairs:
            two_objects = [attributes[i] for i in pairs]
            truncated = sum(known_words[i] > damsm_cfg.max_len for i in pairs)
            judges["attributes_two_objects"] = Judge(judge_name, fakes[pairs], real[pairs],
                                                     resize=resize, network=classifier)

    fields = dict(
        n=n, protocol=dict(num_generated=n, num_reference=n, split="test", seed=seed,
                           data=card_path(data),
                           captions=f"caption i%10 of held-out image i, seed {RP_SEED}+i",
                           method=None),
        sentences=sentences, class_ids=class_filter(test.class_ids[index]), attributes=chosen,
        max_words=damsm_cfg.max_len, two_object_attributes=two_objects, truncated=truncated)
    return judges, fields, {"damsm": _other_damsm_suffix(damsm_dir, own_damsm)}


def _statistics(features: np.ndarray):
    """Features with their mean and covariance (`fid.feature_statistics`), as a judge holds them."""
    from condgan.metrics.features import Extracted
    from condgan.metrics.fid import feature_statistics

    return Extracted(features, None, *feature_statistics(features))


def _inception_or_none():
    """InceptionV3 features when the weights are already on disk, else None (no download)."""
    from condgan.metrics.inception import InceptionFeatures
    try:
        return InceptionFeatures(allow_download=False)
    except UserError:
        return None
