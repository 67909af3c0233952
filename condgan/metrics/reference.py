"""A trained reference classifier as a feature network: labels, probabilities, features.

Loads `classifier.keras` (safe mode) and `card.json` written by `train-classifier`.  Its
penultimate features give "classifier FID" (never called FID: the network and the feature
space differ from Inception's); its predictions give per-class accuracy of generated images.
Predictions average the image and its mirror, the protocol its reported test accuracy used.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.metrics.classifier import feature_and_logit_model
from condgan.metrics.classifier_train import CARD_FILE, CLASSIFIER_FILE
from condgan.basics import sha256_file


class ReferenceClassifier:
    """FeatureNetwork over a trained classifier: {"features", "probs", "logits"}."""

    def __init__(self, folder: str | os.PathLike):
        import keras

        folder = Path(folder)
        card_path, file = folder / CARD_FILE, folder / CLASSIFIER_FILE
        if not card_path.is_file() or not file.is_file():
            raise UserError(f"{str(folder)!r} is not a reference classifier (needs {CLASSIFIER_FILE} "
                            "and card.json): train one with `python -m condgan train-classifier "
                            f"--data DATA -o {folder}`")
        self.folder = folder
        self.card = json.loads(card_path.read_text())
        self.classes = list(self.card["classes"])
        self.image_size = int(self.card["image_size"])
        self.test_accuracy = self.card.get("test_accuracy")
        self.weights_fingerprint = sha256_file(file)
        model = keras.saving.load_model(file, safe_mode=True, compile=False)
        self.model = feature_and_logit_model(model)
        self.dim = int(self.model.outputs[0].shape[-1])
        self.name = f"reference classifier {folder} ({self.card.get('architecture', model.name)})"
        self.resize = "none"

    def _fit_size(self, images: np.ndarray) -> np.ndarray:
        import keras

        images = np.asarray(images, np.float32)
        if images.shape[1:3] != (self.image_size, self.image_size):
            self.resize = f"bilinear to {self.image_size}x{self.image_size} (keras.ops.image.resize)"
            images = np.asarray(keras.ops.image.resize(images, (self.image_size, self.image_size),
                                                       interpolation="bilinear"))
        return images

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        x = self._fit_size(images)
        n = x.shape[0]
        features, logits = self.model.predict_on_batch(np.concatenate([x, x[:, :, ::-1]]))
        features, logits = np.asarray(features), np.asarray(logits)
        mean_logits = 0.5 * (logits[:n] + logits[n:])
        shifted = np.exp(mean_logits - mean_logits.max(axis=1, keepdims=True))
        return {"features": features[:n], "logits": mean_logits,
                "probs": shifted / shifted.sum(axis=1, keepdims=True)}

    def predict_labels(self, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
        return np.concatenate([self(images[i:i + batch_size])["logits"].argmax(axis=1)
                               for i in range(0, len(images), batch_size)])
