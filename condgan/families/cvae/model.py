"""A conditional VAE's model folder, loaded: the generator contract over its decoder (sampling
from the prior, like a GAN), and what only a VAE can do with real images: encode them,
reconstruct them, interpolate between two of them, and score them by the ELBO."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from condgan.errors import UserError
from condgan.generator import KerasGenerator

ENCODER_ROLE = "encoder"


class CvaeModel(KerasGenerator):
    def __init__(self, decoder, encoder, card: Mapping[str, Any], path: str | os.PathLike):
        super().__init__(decoder, card, path)
        self.encoder = encoder
        self.decoder_sigma = float(self.card.get("decoder_sigma", 1.0))

    def _images(self, images) -> np.ndarray:
        """uint8 (N, H, W, 3) images of this model's size -> floats in [-1, 1]."""
        pixels = np.asarray(images)
        expected = (self.image_size, self.image_size, 3)
        if pixels.ndim != 4 or pixels.shape[1:] != expected or pixels.dtype != np.uint8:
            raise UserError(f"images must be uint8 of shape (N, {self.image_size}, {self.image_size}, 3), "
                            f"got {pixels.dtype} {pixels.shape}: resize them to the model's "
                            f"{self.image_size}px first")
        return pixels.astype(np.float32) / 127.5 - 1.0

    def _labels(self, labels, count: int):
        if not self.conditional:
            if labels is not None:
                raise UserError(f"model {self.name!r} is unconditional: pass no labels")
            return None
        if labels is None:
            raise UserError(f"model {self.name!r} needs the images' labels, from {self.classes}")
        labels = [labels] * count if isinstance(labels, (str, int, np.integer)) else list(labels)
        if len(labels) != count:
            raise UserError(f"give one label per image: {count} images, {len(labels)} labels")
        return self.label_indices(labels)

    def encode(self, images, labels=None) -> tuple[np.ndarray, np.ndarray]:
        """The posterior of each image: (mean, log_variance), each (N, latent_dim)."""
        from condgan.models.cvae_encoder import safe_log_variance

        x = self._images(images)
        y = self._labels(labels, len(x))
        mean, log_variance = self.encoder.predict_on_batch(x if y is None else [x, y])
        return np.asarray(mean), np.asarray(safe_log_variance(log_variance))

    def decode(self, latents: np.ndarray, labels=None) -> np.ndarray:
        """uint8 images decoded from latent vectors (N, latent_dim)."""
        z = np.asarray(latents, dtype=np.float32)
        y = self._labels(labels, len(z))
        return self.to_uint8(np.asarray(self.model.predict_on_batch(self.model_inputs(z, y))))

    def reconstruct(self, images, labels=None) -> np.ndarray:
        """Each image through the encoder's mean and back through the decoder."""
        mean, _ = self.encode(images, labels)
        return self.decode(mean, labels)

    def interpolate(self, first, second, label=None, steps: int = 8) -> np.ndarray:
        """`steps` images along the straight line between two images' posterior means (both
        decoded with `label`: the first image's class by default, if given per image)."""
        if steps < 2:
            raise UserError(f"steps must be at least 2, got {steps}")
        pair = np.stack([np.asarray(first), np.asarray(second)])
        mean, _ = self.encode(pair, None if label is None else [label, label])
        weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        path = (1 - weights) * mean[0] + weights * mean[1]
        return self.decode(path, None if label is None else [label] * steps)

    def negative_elbo(self, images, labels=None, seed: int = 0) -> np.ndarray:
        """(N,) -ELBO in nats per image (one posterior sample each; objective.py)."""
        from condgan.families.cvae.objective import kl_to_prior, reconstruction_nll

        x = self._images(images)
        y = self._labels(labels, len(x))
        mean, log_variance = self.encode(images, labels)
        eps = np.random.default_rng([seed, 31]).standard_normal(mean.shape).astype(np.float32)
        z = mean + np.exp(0.5 * log_variance) * eps
        decoded = np.asarray(self.model.predict_on_batch(self.model_inputs(z, y)))
        log_sigma = np.float32(np.log(self.decoder_sigma))
        return np.asarray(reconstruction_nll(x, decoded, log_sigma)
                          + kl_to_prior(mean, log_variance))


def load_cvae(path: str | os.PathLike, card: Mapping[str, Any]) -> CvaeModel:
    """Decoder and encoder of a cvae model folder, in safe mode."""
    import keras

    from condgan.generator import load_keras_generator

    path = Path(path)
    decoder = load_keras_generator(path, card).model
    name = card.get("files", {}).get(ENCODER_ROLE)
    if not name or Path(name).name != name or not (path / name).is_file():
        raise UserError(f"{str(path)!r} is a cvae model without its encoder file: re-export it")
    encoder = keras.saving.load_model(path / name, safe_mode=True, compile=False)
    return CvaeModel(decoder, encoder, card, path)
