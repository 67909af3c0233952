"""StyleGAN model folders, loaded: the generator contract plus truncation and the W space.

Layout (card `kind: "stylegan"`), three files sharing the trained layers
(`condgan.models.stylegan.sampling_models`):
* `generator.keras`: [noise (latent_dim,), (label,) truncation (1,)] -> image in [-1, 1];
* `mapping.keras`: [noise, (label,) truncation] -> w (w_dim,), truncated towards the run's
  average w (its `truncation_w` layer holds that average);
* `synthesis.keras`: ws (num_ws, w_dim) -> image, one w per modulated layer;
* `card.json`: the common fields plus `w_dim`, `num_ws`, `mapping_layers` and `truncation`,
  the psi the model samples with unless asked otherwise.
Per-pixel noise is one fixed draw stored in the files, so an image depends only on its seed
(and class); all three load in Keras safe mode.

`StyleGenerator` takes the sampling option `truncation` (`with_options(truncation=0.7)`; the
CLI's `sample --truncation`) and exposes W: `w_for_noise`, `generate_from_w`, `w_avg`, and
`w_space()`, a view of an unconditional model whose noise rows are w vectors (for code that
works in a generator's noise space, such as finding attribute directions).  Attribute
directions stored beside the model may live in W (`directions.json`'s `"space": "w"`): edits
then move each image's w, after truncation, instead of its noise.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from condgan.errors import UserError
from condgan.generator import Generator
from condgan.model_folder import model_files, read_card

KIND = "stylegan"
FILES = {"keras": "generator.keras", "mapping": "mapping.keras", "synthesis": "synthesis.keras"}
TRUNCATION_RANGE = (0.0, 1.0)


def check_truncation(psi, where: str = "truncation") -> float:
    """psi as a float in TRUNCATION_RANGE, else a UserError saying what it means."""
    low, high = TRUNCATION_RANGE
    if isinstance(psi, bool) or not isinstance(psi, (int, float, np.floating)) \
            or not low <= float(psi) <= high:
        raise UserError(f"{where} (psi) must be a number from {low:g} to {high:g}, got {psi!r}: "
                        "1 draws from the whole learnt distribution, lower values draw more "
                        "typical images (0: the average image), 0.7 is StyleGAN's usual")
    return float(psi)


class StyleGenerator(Generator):
    """An exported StyleGAN: seeds (and labels) in, uint8 images out, drawn with its truncation."""

    options = {"truncation": "psi from 0 to 1: how far each image's w stays from the average w "
                             "(1: none, the whole learnt distribution; 0: the average image)"}

    def __init__(self, model, card: Mapping, path: Path):
        super().__init__(card, path)
        self.model = model
        self.noise_dim = self.latent_dim = int(card["latent_dim"])
        self.conditioning = "class" if self.classes else "none"
        self.num_ws, self.w_dim = int(card["num_ws"]), int(card["w_dim"])
        self.truncation = check_truncation(card.get("truncation", 1.0), f"{path}/card.json's truncation")
        self._networks: dict = {}

    # --- the generator contract ----------------------------------------------------------------
    def _prepare(self, conditions: Sequence) -> list:
        from condgan.data.arrays import class_index

        return [class_index(self.classes, label) for label in conditions]

    def _inputs(self, noise: np.ndarray, labels) -> list:
        psi = np.full((len(noise), 1), self.truncation, np.float32)
        if labels is None:
            return [noise, psi]
        return [noise, np.asarray(labels, np.int32), psi]

    def _forward_noise(self, noise, labels):
        # predict_on_batch runs a compiled function: several times faster than an eager call.
        return [self.model.predict_on_batch(self._inputs(noise, labels))]

    def _with_options(self, values: dict) -> "StyleGenerator":
        drawn = copy.copy(self)
        drawn.truncation = check_truncation(values["truncation"])
        return drawn

    def edit_spaces(self) -> dict[str, int]:
        return {"z": self.noise_dim, "w": self.w_dim}

    def generate_moved(self, seeds, conditions, offset, space):
        if space != "w":
            return super().generate_moved(seeds, conditions, offset, space)
        return self.generate_from_w(self.w_for_noise(self.noise_for_seeds(seeds), conditions) + offset)

    # --- W ---------------------------------------------------------------------------------------
    def network(self, role: str):
        """The folder's `mapping` or `synthesis` model (loaded once, in safe mode)."""
        if role not in self._networks:
            import keras

            import condgan.models.stylegan  # noqa: F401  registers the custom layers

            file = model_files(self.path, self.card, {role: FILES[role]})[0]
            self._networks[role] = keras.saving.load_model(file, safe_mode=True, compile=False)
        return self._networks[role]

    @property
    def w_avg(self) -> np.ndarray:
        """float32 (w_dim,): the training run's average w, the truncation's centre."""
        return np.asarray(self.network("mapping").get_layer("truncation_w").w_avg, np.float32)

    def w_for_noise(self, noise: np.ndarray, conditions: Sequence | None = None) -> np.ndarray:
        """float32 (N, w_dim): the w of each noise row (and condition), truncated with this
        model's psi: what `generate_from_noise` draws those rows with."""
        noise = np.asarray(noise, np.float32)
        prepared = self._check_conditions(len(noise), conditions)
        mapping = self.network("mapping")
        return self._chunked(noise, prepared,
                             lambda rows, labels: [mapping.predict_on_batch(self._inputs(rows, labels))])[0]

    def generate_from_w(self, w: np.ndarray) -> np.ndarray:
        """float32 (N, H, W, 3) pixel values in [0, 255], unrounded, for w rows (N, w_dim), one
        w for every layer, or ws (N, num_ws, w_dim), a w per layer (style mixing)."""
        w = np.asarray(w, np.float32)
        if w.ndim == 2 and w.shape[1] == self.w_dim:
            w = np.repeat(w[:, None, :], self.num_ws, axis=1)
        if w.ndim != 3 or w.shape[1:] != (self.num_ws, self.w_dim):
            raise UserError(f"model {self.name!r} takes w of shape (N, {self.w_dim}) or ws of shape "
                            f"(N, {self.num_ws}, {self.w_dim}), got {w.shape}")
        synthesis = self.network("synthesis")
        return self.to_pixels(self._chunked(w, None, lambda rows, _: [synthesis.predict_on_batch(rows)])[0])

    def w_space(self) -> "WSpaceView":
        """This (unconditional) model with w as its noise: `noise_for_seeds` gives each seed's
        w, `generate_from_noise` draws from w rows."""
        if self.conditioning != "none":
            raise UserError(f"model {self.name!r} is class-conditional: its w depends on the class, "
                            "so use w_for_noise(noise, labels) and generate_from_w(w)")
        return WSpaceView(self)


class WSpaceView(Generator):
    """An unconditional StyleGAN seen through W: its noise rows are w vectors (w_dim numbers),
    a seed's being the w of that seed's z.  Same pixels as the model for the same seeds."""

    conditioning = "none"
    latent_space = "w"

    def __init__(self, model: StyleGenerator):
        super().__init__(model.card, model.path)
        self.source = model
        self.noise_dim = model.w_dim
        self._directions = None   # this view is where directions are found, not stored

    def noise_for_seeds(self, seeds: Sequence[int]) -> np.ndarray:
        return self.source.w_for_noise(self.source.noise_for_seeds(seeds))

    def edit_spaces(self) -> dict[str, int]:
        return self.source.edit_spaces()

    def generate_moved(self, seeds, conditions, offset, space):
        return self.source.generate_moved(seeds, conditions, offset, space)

    def _forward_noise(self, noise, conditions):
        ws = np.repeat(np.asarray(noise, np.float32)[:, None, :], self.source.num_ws, axis=1)
        return [self.source.network("synthesis").predict_on_batch(ws)]


def load_stylegan(path: str | os.PathLike, card: Mapping | None = None) -> StyleGenerator:
    """Load `models/<name>/` (kind stylegan) in safe mode."""
    import keras

    import condgan.models.stylegan  # noqa: F401  registers the custom layers

    path = Path(path)
    card = card or read_card(path)
    if card["kind"] != KIND:
        raise UserError(f"{str(path)!r} is a {card['kind']!r} model, not a {KIND} model: load it "
                        "with condgan.load_generator")
    file = model_files(path, card, {"keras": FILES["keras"]})[0]
    return StyleGenerator(keras.saving.load_model(file, safe_mode=True, compile=False), card, path)
