"""Class blends: a class-conditional generator drawing from a weighted mix of its classes.

A projection cGAN reads its label only through conditional batch norm (a gain and a bias per
class at every layer), so a blend of classes is the same blend of those gains and biases
(`condgan.models.layers.ConditionalBatchNorm` takes class weights as well as indices).  Walking
the weights from one class to another with the noise held fixed is the class-to-class
interpolation of BigGAN (Brock et al. 2019, fig. 8) and SNGAN's projection paper (Miyato &
Koyama 2018, fig. 11).  One-hot weights draw exactly the class itself.

`blend_model` re-wires a loaded generator onto a class-weights input, sharing its layers (no
weights are copied); generators that take their label another way (an embedding concatenated
to the noise) have no such blend and say so.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from condgan.errors import UserError


def blend_model(model, input_roles: Sequence[str], num_classes: int, name: str):
    """`model` ([noise, label] in `input_roles` order) re-wired to take [noise, class weights
    (B, num_classes)] in that order; its layers and weights are shared, not copied."""
    import keras

    readers = label_readers(model, input_roles)
    if not blendable(model, input_roles):
        kinds = sorted({type(layer).__name__ for layer in readers}) or ["nothing"]
        raise UserError(f"model {name!r} reads its label through {', '.join(kinds)}, not through "
                        "conditional batch norm only, so it has no blend of classes: class "
                        "blends need a projection cGAN (conditioning='projection')")
    inputs = [keras.Input((num_classes,), name="class_weights") if role == "label"
              else keras.Input(tensor.shape[1:], name=role)
              for role, tensor in zip(input_roles, model.inputs)]
    return keras.models.clone_model(model, input_tensors=inputs, clone_function=lambda layer: layer)


def label_readers(model, input_roles: Sequence[str]) -> list:
    """The layers of `model` that take its label input."""
    import keras

    if "label" not in input_roles or len(model.inputs) != len(input_roles):
        return []
    label_input = model.inputs[list(input_roles).index("label")]
    return [layer for layer in model.layers
            if any(label_input is tensor for node in layer._inbound_nodes
                   for tensor in keras.tree.flatten(node.input_tensors))]


def blendable(model, input_roles: Sequence[str]) -> bool:
    """Whether `model` reads its label through conditional batch norm only (a blend exists)."""
    from condgan.models.layers import ConditionalBatchNorm

    readers = label_readers(model, input_roles)
    return bool(readers) and all(isinstance(layer, ConditionalBatchNorm) for layer in readers)


def blend_weights(classes: Sequence[str], blend: Mapping[str, float] | Sequence[float],
                  what: str = "blend") -> np.ndarray:
    """float32 (num_classes,) weights summing to 1 from {class name or index: weight} (or a
    full row of weights); a clear error for unknown classes, negative or all-zero weights."""
    from condgan.data.arrays import class_index

    weights = np.zeros(len(classes), dtype=np.float64)
    if isinstance(blend, Mapping):
        if not blend:
            raise UserError(f"{what} is empty: give class weights, e.g. {{{classes[0]!r}: 0.5, "
                            f"{classes[1]!r}: 0.5}}")
        for label, weight in blend.items():
            weights[class_index(classes, label)] += _weight(weight, label, what)
    else:
        row = np.asarray(blend, dtype=np.float64)
        if row.shape != (len(classes),):
            raise UserError(f"{what} has {row.size} weights, the model {len(classes)} classes")
        weights = np.array([_weight(w, i, what) for i, w in enumerate(row)])
    if weights.sum() <= 0:
        raise UserError(f"{what}: the weights add up to 0; give at least one class a positive weight")
    return (weights / weights.sum()).astype(np.float32)


def interpolation_weights(classes: Sequence[str], start, end, steps: int) -> np.ndarray:
    """float32 (steps, num_classes): from class `start` (one-hot) to class `end` in equal steps."""
    if int(steps) < 2:
        raise UserError(f"an interpolation needs at least 2 steps (its two ends), got {steps}")
    first, last = blend_weights(classes, {start: 1.0}), blend_weights(classes, {end: 1.0})
    t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
    return (1.0 - t) * first + t * last


def _weight(value, label, what: str) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{what}: the weight of {label!r} must be a number, got {value!r}") from None
    if not np.isfinite(weight) or weight < 0:
        raise UserError(f"{what}: the weight of {label!r} must be a number >= 0, got {value!r}")
    return weight


def measure_interpolation(generator, classifier, start: str, end: str, n: int = 200,
                          steps: int = 9) -> dict:
    """How a class-to-class walk reads: `n` walks (seeds 0..n-1) of `steps` images from class
    `start` to `end`, labelled by `classifier` (anything with `predict_labels(uint8 images)`,
    e.g. `condgan.metrics.reference.ReferenceClassifier`); per step t the share of images
    labelled `start`, `end` or another class, and the median t at which a walk is first read
    as `end`."""
    from condgan.data.arrays import class_index

    images = generator.class_interpolation(start, end, steps, range(n))   # a row per seed
    labels = classifier.predict_labels(images).reshape(n, steps)
    first, last = (class_index(generator.classes, c) for c in (start, end))
    t = np.linspace(0.0, 1.0, steps)
    return {"t": t.round(3).tolist(),
            "start": (labels == first).mean(axis=0).round(4).tolist(),
            "end": (labels == last).mean(axis=0).round(4).tolist(),
            "other": ((labels != first) & (labels != last)).mean(axis=0).round(4).tolist(),
            # where each walk is first read as `end` (one never read so counts as t = 1)
            "median_handover_t": float(np.median(t[np.argmax(
                np.column_stack([labels == last, np.ones(n, bool)]), axis=1).clip(max=steps - 1)]))}
