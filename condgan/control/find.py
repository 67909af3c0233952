"""Finding attribute directions in a generator's noise space, and measuring how well they edit.

Finding (InterFaceGAN, Shen et al. 2020): draw `n` images from seeds, read their attributes
(`reader`), and for every attribute value fit a logistic-regression boundary in the noise space
(the generator's `latent_space`; a StyleGAN's `w_space()` view fits in W), value vs the rest
(L2-regularised, on 80 % of the images; the other 20 % say how linear the
attribute is there: a value whose boundary does not beat MIN_BOUNDARY_ACCURACY is left out).
The boundary's unit normal is the value's direction.  With
`conditional=True` each direction is then made orthogonal to the directions of every *other*
attribute (InterFaceGAN's conditional manipulation), so moving along it changes the projections
that decide the other attributes by nothing.  InterFaceGAN conditions on one or two attributes;
here that means projecting out the span of every other attribute's values (14 directions for a
colour), which also removes much of the direction itself: on a generator whose attributes are
known functions of its noise (tests/test_controllable.py) the plain normals point where the
attributes live, so they are the default.

Measuring (`measure_edits`): on fresh seeds whose images do not show the value, edit toward it
at each strength and read the images again: `success` is how often the edited attribute now
shows the value, `kept` how often every other attribute the reader offers for editing stays as
it was (colour, size, position, background for Shapes, whether or not the model has directions
for them), `kept_each` per attribute (shape too).  Images where the reader sees no object are left out of both.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from condgan.control.directions import LatentDirections
from condgan.errors import UserError

PROBE_SEED_BASE = 1_000_000   # measuring uses seeds the fit never saw
MIN_EXAMPLES = 30             # a value needs this many images with and without it
# A boundary that separates held-out images no better than this is no direction: the attribute
# is not laid out along a line in the noise space, and moving along the normal would mostly
# change other things.  Such values are reported (`not_linear`), not offered as edits.
MIN_BOUNDARY_ACCURACY = 0.7


def sample_and_read(generator, reader, seeds: Sequence[int], offset: np.ndarray | None = None,
                    space: str = "z", batch: int = 256) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(noise (N, D), the reader's attributes of the images drawn from it, moved by `offset`
    in the latent space `space` when given)."""
    seeds = list(seeds)
    noise = generator.noise_for_seeds(seeds)
    parts = []
    for start in range(0, len(seeds), batch):
        if offset is None:
            pixels = generator.generate_from_noise(noise[start:start + batch])
        else:
            pixels = generator.generate_moved(seeds[start:start + batch], None, offset, space)
        parts.append(reader(np.rint(pixels).astype(np.uint8)))
    return noise, {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def latent_view(generator, space: str = "auto"):
    """(the generator seen from the latent space to find directions in, that space's name):
    "auto" is W for a model that has one (a StyleGAN's `w_space()`), else z, its noise."""
    spaces = generator.edit_spaces()
    if space == "auto":
        space = "w" if "w" in spaces else "z"
    if space not in spaces:
        raise UserError(f"model {generator.name!r} has no {space} space to find directions in "
                        f"(it has {', '.join(spaces)})")
    return (generator.w_space() if space == "w" else generator), space


def fit_boundary(noise: np.ndarray, positive: np.ndarray, l2: float = 1e-2,
                 held_out: float = 0.2, seed: int = 0) -> tuple[np.ndarray, float]:
    """Unit normal of a logistic-regression boundary (positive side), and its balanced accuracy
    (the mean of the hit rates on images with and without the value) on the held-out rows."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(noise))
    cut = int(len(noise) * (1 - held_out))
    train, test = order[:cut], order[cut:]
    x = noise.astype(np.float64)
    y = positive.astype(np.float64)
    weight = np.where(y[train] > 0, 0.5 / max(y[train].mean(), 1e-9),
                      0.5 / max(1 - y[train].mean(), 1e-9))  # balance rare values

    def loss(params):
        w, b = params[:-1], params[-1]
        logits = x[train] @ w + b
        signs = 2 * y[train] - 1
        margin = signs * logits
        losses = np.logaddexp(0.0, -margin)
        grad_logits = -signs / (1 + np.exp(margin)) * weight
        value = np.mean(weight * losses) + l2 * w @ w
        grad = np.concatenate([x[train].T @ grad_logits / len(train) + 2 * l2 * w,
                               [grad_logits.mean()]])
        return value, grad

    result = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B")
    w, b = result.x[:-1], result.x[-1]
    said = (x[test] @ w + b) > 0
    truth = y[test] > 0
    if truth.all() or not truth.any():
        return (w / np.linalg.norm(w)).astype(np.float32), float("nan")
    # Balanced: a value one image in nine shows would score 0.89 by always saying "no".
    accuracy = 0.5 * (float(np.mean(said[truth])) + float(np.mean(~said[~truth])))
    return (w / np.linalg.norm(w)).astype(np.float32), accuracy


def find_directions(generator, reader, n: int = 4000, seed: int = 0, conditional: bool = False,
                    attributes: Sequence[str] | None = None,
                    say: Callable[[str], None] = print) -> LatentDirections:
    """Directions for every value of `attributes` (default: all the reader knows) that at
    least MIN_EXAMPLES images show and MIN_EXAMPLES do not."""
    attributes = list(attributes or reader.edit_attributes)
    unknown = [a for a in attributes if a not in reader.values]
    if unknown:
        raise UserError(f"attributes {unknown} are not read by the {reader.name} reader: choose "
                        f"from {', '.join(reader.values)}")
    noise, read = sample_and_read(generator, reader, range(seed, seed + n))
    keep = read["object"]
    noise = noise[keep]
    say(f"read {n} images: {int(keep.sum())} show an object; fitting boundaries")
    names, units, linear, skipped, not_linear = [], [], {}, [], []
    for attribute in attributes:
        for index, value in enumerate(reader.values[attribute]):
            positive = read[attribute][keep] == index
            if min(positive.sum(), (~positive).sum()) < MIN_EXAMPLES:
                skipped.append(f"{attribute}={value} ({int(positive.sum())} images)")
                continue
            unit, accuracy = fit_boundary(noise, positive, seed=seed)
            linear[f"{attribute}={value}"] = round(accuracy, 4)
            if not accuracy >= MIN_BOUNDARY_ACCURACY:
                not_linear.append(f"{attribute}={value}")
                continue
            names.append(f"{attribute}={value}")
            units.append(unit)
    if not units:
        raise UserError(f"no attribute value is laid out along a line in this model's noise "
                        f"(held-out balanced boundary accuracy under {MIN_BOUNDARY_ACCURACY} for "
                        f"all of {', '.join(linear)}): nothing to edit along")
    units = np.stack(units)
    if conditional:
        units = _orthogonal_to_other_attributes(names, units)
    scales = []
    for name, unit in zip(names, units):
        attribute, value = name.split("=", 1)
        positive = read[attribute][keep] == reader.values[attribute].index(value)
        projection = noise @ unit
        scales.append(float(projection[positive].mean() - projection[~positive].mean()))
    info = {"space": generator.latent_space, "reader": reader.name,
            "classifier": getattr(reader, "classifier_dir", None),
            "fitted_on": {"images": n, "with_object": int(keep.sum()), "seeds": [seed, seed + n - 1]},
            "conditional": conditional, "held_out_boundary_accuracy": linear,
            "too_rare": skipped, "not_linear": not_linear}
    return LatentDirections(names, units, np.asarray(scales, np.float32), info)


def _orthogonal_to_other_attributes(names: list[str], units: np.ndarray) -> np.ndarray:
    attribute_of = [name.split("=", 1)[0] for name in names]
    out = []
    for k, unit in enumerate(units):
        others = units[[j for j, a in enumerate(attribute_of) if a != attribute_of[k]]]
        if len(others):
            basis, _ = np.linalg.qr(others.T.astype(np.float64))
            unit = unit - basis @ (basis.T @ unit)
        out.append(unit / np.linalg.norm(unit))
    return np.stack(out).astype(np.float32)


def measure_edits(generator, reader, directions: LatentDirections,
                  strengths: Sequence[float] = (1.0, 2.0), n: int = 200,
                  seed: int = PROBE_SEED_BASE, names: Sequence[str] | None = None) -> dict:
    """{name: {strength: {success, kept, kept_each, images}}} and a "mean" over the names."""
    names = list(names or directions.names)
    # Kept means every attribute an edit could be asked for stays, whether or not this model
    # has a direction for it (moving a shape may also recolour it).
    checked = list(getattr(reader, "edit_attributes", reader.values))
    read_only = [a for a in reader.values if a not in checked]
    seeds = list(range(seed, seed + n))
    _, before = sample_and_read(generator, reader, seeds)
    report: dict = {}
    for name in names:
        attribute, value = name.split("=", 1)
        target = reader.values[attribute].index(value)
        chosen = before["object"] & (before[attribute] != target)
        if not chosen.any():
            continue
        picked = [s for s, c in zip(seeds, chosen) if c]
        report[name] = {}
        for strength in strengths:
            offset = directions.offset({name: float(strength)})
            _, after = sample_and_read(generator, reader, picked, offset, directions.space)
            seen = after["object"]
            others = [a for a in checked if a != attribute]
            kept_each = {a: float(np.mean(after[a][seen] == before[a][chosen][seen]))
                         for a in others + read_only}
            all_kept = np.all([after[a][seen] == before[a][chosen][seen] for a in others], axis=0)
            report[name][f"{strength:g}"] = {
                "success": float(np.mean(after[attribute][seen] == target)),
                "kept": float(np.mean(all_kept)), "kept_each": kept_each,
                "images": int(seen.sum()), "object_lost": float(1 - seen.mean())}
    report["mean"] = {
        f"{s:g}": {key: round(float(np.mean([report[m][f"{s:g}"][key] for m in report])), 4)
                   for key in ("success", "kept", "object_lost")} for s in strengths}
    return report
