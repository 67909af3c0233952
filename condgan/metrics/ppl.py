"""Perceptual path length (Karras et al. 2019, StyleGAN, section 4.1): how much a generator's
images change along small steps of a walk through its latent space.

Pair i: latents z1 and z2, the model's own noise for seeds `seed + 2i` and `seed + 2i + 1`
(`Generator.noise_for_seeds`); t ~ U[0, 1) and, for a class model, a label drawn uniformly (for
a caption model, one of the held-out captions it is given, drawn uniformly), both from numpy's
PCG64 seeded with `seed`; the images G(slerp(z1, z2, t)) and
G(slerp(z1, z2, t + EPSILON)) with that same condition; their distance d (a pair distance of
`feature_distance.py`).  PPL is the mean of d / EPSILON^2 over the pairs, after discarding those
below the 1st and above the 99th percentile of d (StyleGAN's filtering, with its "lower" and
"higher" percentile interpolation).

Slerp is Shoemake's, on the latents as drawn.  StyleGAN scales z to unit length first, which is
harmless there because its mapping network normalises z anyway; these generators read z as
drawn, so the walk keeps the latents' lengths (slerp between two vectors of one length stays at
that length).  A model whose noise also samples its condition (AttnGAN's conditioning
augmentation: `Generator.condition_noise_dim`) keeps that part of z1's noise for both images:
the walk moves the image, not the condition.  Images are the generator's unrounded pixels
(`Generator.generate_from_noise`): rounding to uint8 would hide steps this small.

`distances_for` builds the pair distances the path-length metrics need and `walk_distances`
walks once with all of them: the one way both evaluators (class and unconditional models,
caption models) measure path length.

Importing this module imports no deep-learning library (the metrics registry lists it cheaply).
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from condgan.basics import SEED_MAX
from condgan.errors import UserError

EPSILON = 1e-4
LOW_PERCENTILE, HIGH_PERCENTILE = 1, 99
# StyleGAN's code walks 100,000 pairs (StyleGAN2-ADA's 50,000).  This many take about a minute
# (classifier_ppl) and a few (ppl_lpips) on two CPU cores for a 32x32 model, for a standard
# error (reported beside the value) of under 1% on the shipped models.
DEFAULT_PAIRS = 5000
# Two latents whose angle has a sine below this are parallel: slerp takes the straight line.
_PARALLEL = 1e-7

SAMPLING = (f"pair i: z1, z2 = the model's noise for seeds seed+2i and seed+2i+1; t ~ U[0,1) from "
            f"PCG64(seed); images G(slerp(z1,z2,t)) and G(slerp(z1,z2,t+eps)), eps={EPSILON}, "
            "both with the same condition, as unrounded pixel values in [0,255]; "
            "value: mean of d/eps^2")
INTERPOLATION = ("slerp (Shoemake) of the latents as drawn, not scaled to unit length; a "
                 "model's condition noise (AttnGAN's conditioning augmentation) held at z1's")
FILTERING = (f"pairs with d below the {LOW_PERCENTILE}st percentile (numpy method 'lower') or "
             f"above the {HIGH_PERCENTILE}th ('higher') discarded, as StyleGAN")


def slerp(a: np.ndarray, b: np.ndarray, t) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985) from rows of `a` (t = 0) to rows of `b` (t = 1):
    sin((1-t)w)/sin(w) a + sin(tw)/sin(w) b, w the angle between them; rows (nearly) parallel
    or zero take the straight line.  float64 (N, D)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.broadcast_to(np.asarray(t, np.float64), (len(a),))[:, None]
    lengths = np.linalg.norm(a, axis=1, keepdims=True) * np.linalg.norm(b, axis=1, keepdims=True)
    cosine = np.clip(np.sum(a * b, axis=1, keepdims=True) / np.where(lengths > 0, lengths, 1.0),
                     -1.0, 1.0)
    angle = np.arccos(cosine)
    sine = np.sin(angle)
    straight = (sine < _PARALLEL) | (lengths == 0)
    safe = np.where(straight, 1.0, sine)
    weight_a = np.where(straight, 1.0 - t, np.sin((1.0 - t) * angle) / safe)
    weight_b = np.where(straight, t, np.sin(t * angle) / safe)
    return weight_a * a + weight_b * b


def filtered(distances: np.ndarray) -> np.ndarray:
    """`distances` without those outside StyleGAN's percentile band."""
    distances = np.asarray(distances, np.float64)
    low = np.percentile(distances, LOW_PERCENTILE, method="lower")
    high = np.percentile(distances, HIGH_PERCENTILE, method="higher")
    return distances[(distances >= low) & (distances <= high)]


def path_length(distances: np.ndarray) -> dict:
    """A card entry from the pairs' distances d: the filtered mean of d / EPSILON^2, its
    standard error (the spread of the estimate, from the pairs kept) and how many were kept."""
    kept = filtered(np.asarray(distances, np.float64) / EPSILON ** 2)
    return {"value": float(np.mean(kept)),
            "standard_error": float(np.std(kept, ddof=1) / np.sqrt(kept.size)) if kept.size > 1 else None,
            "pairs_kept": int(kept.size)}


def walk_conditions(generator, pairs: int, seed: int, captions: Sequence[str] | None = None
                    ) -> tuple[np.ndarray, list | None, str | None]:
    """t per pair and the condition of each pair (None for an unconditional model), both from
    PCG64(seed), and how the conditions were chosen (for the protocol).  A caption model walks
    with `captions` (held-out ones): pair i gets one of them, drawn uniformly."""
    rng = np.random.default_rng(seed)
    t = rng.random(pairs)
    if generator.conditioning == "none":
        return t, None, None
    if generator.conditioning == "class":
        labels = rng.integers(0, len(generator.classes), pairs)
        return t, [int(label) for label in labels], "a class label drawn uniformly per pair (PCG64(seed))"
    if generator.conditioning == "caption":
        if not captions:
            raise UserError(f"perceptual path length of caption model {generator.name!r} walks "
                            "with held-out captions: evaluate it with --data a captioned folder, "
                            "e.g. data/shapes")
        chosen = rng.integers(0, len(captions), pairs)
        return t, [captions[k] for k in chosen], (
            f"a caption drawn uniformly per pair (PCG64(seed)) from the {len(captions)} captions "
            "of the held-out images, the same for both images of the pair")
    raise UserError(f"perceptual path length is measured for class, caption and unconditional "
                    f"models; {generator.name!r} is conditioned on {generator.conditioning}")


def pair_distances(generator, distances: Mapping[str, Callable], *, pairs: int, seed: int,
                   batch_size: int = 100, captions: Sequence[str] | None = None,
                   say: Callable[[str], None] = print) -> tuple[dict[str, np.ndarray], str | None]:
    """Walk `pairs` pairs (module docstring) and measure each with every pair distance, batch by
    batch, so every image is drawn once: name -> (pairs,) d, and how the conditions were chosen.
    `captions`: the held-out captions a caption model walks with."""
    if pairs < 2:
        raise UserError(f"perceptual path length needs at least 2 pairs, got {pairs}")
    t, conditions, condition_rule = walk_conditions(generator, pairs, seed, captions)
    if seed + 2 * pairs - 1 > SEED_MAX:
        raise UserError(f"--seed {seed} with {pairs} pairs needs seeds up to {seed + 2 * pairs - 1}, "
                        f"beyond {SEED_MAX}: use a smaller seed")
    moving = generator.noise_dim - generator.condition_noise_dim
    found = {name: np.empty(pairs, np.float64) for name in distances}
    # the distance networks by name, so the output says which network judged
    judged_by = "; ".join(getattr(distance, "name", name) for name, distance in distances.items())
    say(f"perceptual path length: {pairs} pairs from {generator.name} (seeds {seed}.."
        f"{seed + 2 * pairs - 1}), eps {EPSILON}, distance in: {judged_by}")
    for start in range(0, pairs, batch_size):
        stop = min(pairs, start + batch_size)
        first = generator.noise_for_seeds(range(seed + 2 * start, seed + 2 * stop, 2))
        second = generator.noise_for_seeds(range(seed + 2 * start + 1, seed + 2 * stop, 2))
        images = generator.generate_from_noise(
            np.concatenate([_walked(first, second, t[start:stop], moving),
                            _walked(first, second, t[start:stop] + EPSILON, moving)]),
            None if conditions is None else conditions[start:stop] * 2)
        count = stop - start
        for name, distance in distances.items():
            found[name][start:stop] = distance(images[:count], images[count:])
    return found, condition_rule


def _walked(first: np.ndarray, second: np.ndarray, t: np.ndarray, moving: int) -> np.ndarray:
    """The noise at t along the walk: its first `moving` numbers slerped, the rest z1's."""
    noise = np.array(first, np.float64)
    noise[:, :moving] = slerp(first[:, :moving], second[:, :moving], t)
    return noise.astype(np.float32)


def walk_protocol(pairs: int, condition_rule: str | None, **record) -> dict:
    """What a path length's protocol records about the walk (`record`: what else the caller's
    walk depended on, such as the data its captions came from)."""
    return {"pairs": pairs, "epsilon": EPSILON, "sampling": SAMPLING, "interpolation": INTERPOLATION,
            "conditions": condition_rule, "filtering": FILTERING, **record}


def distances_for(needs, *, classifier=None, attribute_classifier=None,
                  lpips_weights: str | None = None, lpips_linear: str | None = None) -> dict:
    """need -> the pair distance of each path length in `needs` (`feature_distance.py`):
    "classifier_maps" in the feature maps of the reference classifier `classifier` when there is
    one, else in those of the Shapes attribute classifier in the folder `attribute_classifier`
    (left out when neither is given: the caller says why); "lpips" on VGG16 (`lpips.py`)."""
    distances = {}
    if "classifier_maps" in needs and classifier is not None:
        from condgan.metrics.feature_distance import classifier_distance

        distances["classifier_maps"] = classifier_distance(classifier)
    elif "classifier_maps" in needs and attribute_classifier is not None:
        from condgan.metrics.feature_distance import attribute_classifier_distance

        distances["classifier_maps"] = attribute_classifier_distance(attribute_classifier)
    if "lpips" in needs:
        from condgan.metrics.lpips import lpips_vgg16

        distances["lpips"] = lpips_vgg16(lpips_weights, lpips_linear)
    return distances


def walk_distances(generator, distances: Mapping[str, Callable], *, pairs: int, seed: int,
                   batch_size: int, say: Callable[[str], None],
                   captions: Sequence[str] | None = None, **record) -> tuple[dict, dict | None]:
    """One walk measured with every distance of `distances_for`: need -> the pairs' (pairs,)
    distances, for the registry's `Judge.of_distance`, and the walk's protocol record
    (`walk_protocol`, with `record`); ({}, None) without distances."""
    if not distances:
        return {}, None
    found, condition_rule = pair_distances(generator, distances, pairs=pairs, seed=seed,
                                           batch_size=batch_size, captions=captions, say=say)
    return found, walk_protocol(pairs, condition_rule, **record)
