"""How far apart two images are in a network's feature maps: LPIPS' form (Zhang et al. 2018).

For each of the network's chosen layers, the feature vector at every position is scaled to unit
length across its channels, the two images' vectors are subtracted and squared, the squares are
summed over the channels (each weighted by LPIPS' learned linear layer when given, else all 1:
LPIPS' unweighted variant) and averaged over the positions; the layers' values are summed.

Perceptual path length (`ppl.py`) measures the pairs of images a latent walk draws with one of
these pair distances:
* `classifier_distance`: the reference classifier's feature maps (offline, like classifier FID);
* `attribute_classifier_distance`: the Shapes attribute classifier's (offline; for Shapes data,
  which has no reference classifier of its classes): the maps of each of the nine grid cells,
  each cut at the size the classifier reads a cell, their positions pooled;
* `lpips.lpips_vgg16`: VGG16's, LPIPS proper.
All take float pixel values in [0, 255] (the generator's unrounded images) and fit their size to
the network the way the reference classifier does (bilinear, `keras.ops.image.resize`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

# LPIPS' normalisation: x / (||x|| + eps), so an all-zero feature vector stays zero.
NORMALISE_EPS = 1e-10
FORM = ("sum over layers of the mean over positions of the squared difference of the feature "
        "vectors, each scaled to unit length across channels (LPIPS' form)")


def unit_normalised(maps: np.ndarray) -> np.ndarray:
    """(N, H, W, C) feature maps with each position's channel vector scaled to unit length."""
    return maps / (np.sqrt(np.sum(maps * maps, axis=-1, keepdims=True)) + NORMALISE_EPS)


def feature_map_distance(maps_a: Sequence[np.ndarray], maps_b: Sequence[np.ndarray],
                         channel_weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """(N,) distances between images a and b from their feature maps, one (N, H, W, C) array
    per layer; `channel_weights`: one (C,) array per layer (LPIPS' linear layers), else 1."""
    total = 0.0
    for layer, (a, b) in enumerate(zip(maps_a, maps_b)):
        # float64: the steps a path length takes are small, and so are the differences
        squared = (unit_normalised(np.asarray(a, np.float64))
                   - unit_normalised(np.asarray(b, np.float64))) ** 2
        weights = 1.0 if channel_weights is None else np.asarray(channel_weights[layer], np.float64)
        total = total + np.mean(np.sum(squared * weights, axis=-1), axis=(1, 2))
    return np.asarray(total)


class FeatureMapDistance:
    """A pair distance: (images_a, images_b), float pixel values in [0, 255], -> (N,) distances.

    `maps_model` takes a batch of (preprocessed) images and returns one feature map per layer
    of `layers`.  `size`: the network's input size, to which other sizes are resized;
    `min_size`: for a network that takes any size above it, the size smaller images are
    resized to.  `name`, `weights_fingerprint`, `resize` and `form` describe it for a protocol
    (`resize` once it has seen the images, as the reference classifier does)."""

    def __init__(self, maps_model, *, name: str, layers: Sequence[str],
                 weights_fingerprint: str | None, size: int | None = None,
                 min_size: int | None = None,
                 preprocess: Callable[[np.ndarray], np.ndarray] | None = None,
                 channel_weights: Sequence[np.ndarray] | None = None, form: str = FORM):
        self.maps_model, self.name, self.layers = maps_model, name, list(layers)
        self.weights_fingerprint, self.size, self.min_size = weights_fingerprint, size, min_size
        self.preprocess, self.channel_weights, self.form = preprocess, channel_weights, form
        self.resize = "none"

    def _fit_size(self, images: np.ndarray) -> np.ndarray:
        import keras

        side = images.shape[1]
        target = self.size or max(side, self.min_size or side)
        if images.shape[1:3] != (target, target):
            self.resize = f"bilinear to {target}x{target} (keras.ops.image.resize)"
            images = np.asarray(keras.ops.image.resize(images, (target, target),
                                                       interpolation="bilinear"))
        return images

    def __call__(self, images_a: np.ndarray, images_b: np.ndarray) -> np.ndarray:
        count = len(images_a)
        # one network call for both sides of every pair
        images = self._fit_size(np.concatenate([images_a, images_b]).astype(np.float32))
        if self.preprocess is not None:
            images = self.preprocess(images)
        maps = self.maps_model.predict_on_batch(images)
        maps = [np.asarray(m) for m in (maps if isinstance(maps, (list, tuple)) else [maps])]
        return feature_map_distance([m[:count] for m in maps], [m[count:] for m in maps],
                                    self.channel_weights)


def classifier_distance(classifier) -> FeatureMapDistance:
    """The pair distance in a `reference.ReferenceClassifier`'s feature maps (its
    `classifier.FEATURE_MAP_LAYERS`), unweighted; images fitted to its size as it fits them."""
    from condgan.metrics.classifier import FEATURE_MAP_LAYERS, feature_maps_model

    return FeatureMapDistance(
        feature_maps_model(classifier.model, FEATURE_MAP_LAYERS),
        name=f"{classifier.name} feature maps {', '.join(FEATURE_MAP_LAYERS)}",
        layers=FEATURE_MAP_LAYERS, weights_fingerprint=classifier.weights_fingerprint,
        size=classifier.image_size, form=FORM + ", unweighted")


class _GridCellMaps:
    """The Shapes attribute classifier's maps of an image's nine grid cells: images of 3 x CROP
    px are cut into their cells (`cell_crops`, which also scales them as the classifier was
    trained), each cell goes through the classifier's convolutions, and each layer's maps of
    the nine cells are stacked along the rows, (N, 9 h, w, C): the distance's mean over
    positions then covers every cell of the image."""

    def __init__(self, classifier):
        from condgan.metrics.attngan_caption_accuracy import feature_maps_model

        self.model = feature_maps_model(classifier)

    def predict_on_batch(self, images: np.ndarray) -> list[np.ndarray]:
        from condgan.metrics.attngan_caption_accuracy import CROP, cell_crops

        count = len(images)
        maps = self.model.predict_on_batch(cell_crops(images).reshape(-1, CROP, CROP, 3))
        return [np.asarray(m).reshape(count, -1, *np.shape(m)[2:]) for m in maps]


def attribute_classifier_distance(folder: str | os.PathLike) -> FeatureMapDistance:
    """The pair distance in the feature maps of the Shapes attribute classifier in `folder`
    (`attngan_caption_accuracy.FEATURE_MAP_LAYERS`, of every grid cell), unweighted; images
    resized to 3 x CROP px so that each cell is the size the classifier reads."""
    from condgan.basics import sha256_file
    from condgan.metrics.attngan_caption_accuracy import (CLASSIFIER_FILE, CROP, FEATURE_MAP_LAYERS,
                                                          load_classifier)
    from condgan.model_folder import card_path

    classifier = load_classifier(folder)   # a UserError naming the fix when it is not there
    file = Path(folder) / CLASSIFIER_FILE if Path(folder).is_dir() else Path(folder)
    return FeatureMapDistance(
        _GridCellMaps(classifier),
        name=(f"Shapes attribute classifier {card_path(folder)} feature maps "
              f"{', '.join(FEATURE_MAP_LAYERS)} (after their LeakyReLUs), per grid cell"),
        layers=FEATURE_MAP_LAYERS, weights_fingerprint=sha256_file(file), size=3 * CROP,
        form=(FORM + f", unweighted; the positions are those of the nine grid cells' maps, each "
              f"cell cut at {CROP}x{CROP} px as the classifier reads it"))
