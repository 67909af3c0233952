"""The generator contract every loaded model keeps, whatever its family.

    images = model.generate(labels=["horse"] * 4, seed=7)        # a class-conditional model
    images = model.generate(captions=["a red circle"], seed=7)   # a caption model
    images = model.generate(n=16, seed=7)                        # an unconditional one
    images = model.generate_for_seeds([7, 8, 9], conditions)     # one seed per image
    pixels = model.generate_from_noise(noise, conditions)        # explicit noise rows
    images = model.generate(n=4, seed=7, edits={"position=center": 1.0})  # steered (condgan.control)

`generate` and `generate_for_seeds` return uint8 (N, H, W, 3) images.  Image i depends only on
its own condition and seed: its noise comes from numpy's PCG64 seeded with that seed
(backend-independent, `noise_for_seeds`), and the networks always run on fixed chunks of `CHUNK`
rows (the last one padded), so the arithmetic an image goes through is the same whatever the
request size or the server's micro-batching.  `generate_from_noise` takes the noise rows
themselves (a walk through the latent space, as perceptual path length needs) and returns the
same images unrounded: float32 pixel values in [0, 255], which `generate_for_seeds` would round
to uint8.  What a family offers beyond images (the words a caption model ignored, attention
maps) is a method of its own.

`edits` move every image's noise along attribute directions stored beside the model
(`directions.npz`, made by `python -m condgan find-directions`); a model without them, or an
edit it does not know, is a UserError listing what it offers.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from condgan.basics import SEED_MAX, seed_noise, to_uint8
from condgan.errors import UserError

# Generator calls always see this many rows.
CHUNK = 16
CONDITIONINGS = ("none", "class", "caption")


class Generator:
    """A model folder, loaded: conditions and seeds in, uint8 images out.

    A family's loader subclasses it and implements `_forward_noise(noise, conditions)`: the
    model's outputs (a list of arrays, the image batch at `image_output`) for exactly CHUNK noise
    rows of `noise_dim` numbers, and, for conditional models, `_prepare(conditions)`: the user's
    conditions checked and turned into what `_forward_noise` takes.  (A loader may instead
    implement `_forward(seeds, conditions)`; it then has no `generate_from_noise`.)"""

    conditioning = "none"
    image_output = 0
    noise_dim: int = 0   # standard normals per image, drawn from its seed
    # The trailing `condition_noise_dim` of them sample the condition rather than the image
    # (AttnGAN's conditioning augmentation): a walk through the latent space holds them fixed.
    condition_noise_dim: int = 0

    def __init__(self, card: Mapping[str, Any], path: str | os.PathLike):
        self.card = dict(card)
        self.path = Path(path)
        self.name = self.card.get("name", self.path.name)
        self.kind = self.card["kind"]
        self.classes = self.card.get("classes")
        self.image_size = int(self.card["image_size"])
        low, high = self.card.get("value_range") or (-1.0, 1.0)
        self.value_range = (float(low), float(high))

    # --- the contract ---------------------------------------------------------------------
    def generate(self, labels=None, captions=None, n: int | None = None,
                 seed: int | None = None, edits: Mapping[str, float] | None = None) -> np.ndarray:
        """Images for `labels` (class models) or `captions` (caption models), a single one
        repeated `n` times, or `n` images (unconditional models); image i uses seed + i (a
        random base when `seed` is None), its noise moved by `edits` when given."""
        conditions = self._conditions_given(labels, captions, n)
        count = len(conditions) if conditions is not None else n
        if not count or count < 1:
            raise UserError(f"say how many images: {self._how_to_ask()}")
        base = int(np.random.default_rng().integers(0, SEED_MAX - count)) if seed is None else int(seed)
        return self.generate_for_seeds(range(base, base + count), conditions, edits)

    def generate_for_seeds(self, seeds: Sequence[int], conditions: Sequence | None = None,
                           edits: Mapping[str, float] | None = None) -> np.ndarray:
        """uint8 (N, H, W, 3); image i depends only on seeds[i] (and conditions[i], and the
        edits, which move every image's noise by the same offset)."""
        if edits:
            offset = self.edit_offset(edits)
            pixels = self.generate_moved(seeds, conditions, offset, self.directions.space)
            return np.rint(pixels).astype(np.uint8)
        return self.to_uint8(self._run(seeds, conditions)[self.image_output])

    # The latent space of this model's noise rows (`noise_for_seeds`, `generate_from_noise`):
    # where directions found on it live.
    latent_space = "z"

    def edit_spaces(self) -> dict[str, int]:
        """{space: size} of the latent spaces edits may move: "z", the noise, for every model."""
        return {"z": self.noise_dim}

    def generate_moved(self, seeds: Sequence[int], conditions: Sequence | None,
                       offset: np.ndarray, space: str) -> np.ndarray:
        """float32 pixels in [0, 255], unrounded: `seeds` (and conditions) drawn with `offset`
        added to their latents in `space` (one of `edit_spaces()`)."""
        return self.generate_from_noise(self.noise_for_seeds(seeds) + offset, conditions)

    # Sampling options a model takes beyond conditions, seeds and edits (a StyleGAN's
    # `truncation`): name -> what it does.  `with_options` applies them.
    options: Mapping[str, str] = {}

    def with_options(self, **values) -> "Generator":
        """This model drawing with sampling options, e.g. `model.with_options(truncation=0.7)`:
        a copy sharing the networks (this one is unchanged); options given as None are left
        as they are.  An option the model does not take is a UserError naming those it does."""
        values = {name: value for name, value in values.items() if value is not None}
        unknown = sorted(set(values) - set(self.options))
        if unknown:
            offered = ", ".join(sorted(self.options)) or "none"
            raise UserError(f"model {self.name!r} takes no sampling option {', '.join(unknown)} "
                            f"(its options: {offered})")
        return self._with_options(values) if values else self

    def _with_options(self, values: dict) -> "Generator":
        raise NotImplementedError

    @property
    def directions(self):
        """The attribute directions stored beside the model (`LatentDirections`), or None."""
        if not hasattr(self, "_directions"):
            from condgan.control.directions import load_directions

            self._directions = load_directions(self.path)
        return self._directions

    def edit_offset(self, edits: Mapping[str, float]) -> np.ndarray:
        """float32 (noise_dim,): the noise offset of `edits`, checked against the directions."""
        if self.directions is None:
            raise UserError(f"model {self.name!r} has no attribute directions to edit along: "
                            f"find them with `python -m condgan find-directions {self.path}`")
        spaces, space = self.edit_spaces(), self.directions.space
        if space not in spaces:
            raise UserError(f"the directions beside model {self.name!r} live in a {space} space, "
                            f"which this model does not have (it has {', '.join(spaces)}): find "
                            f"them again with `python -m condgan find-directions {self.path}`")
        if self.directions.noise_dim != spaces[space]:
            raise UserError(f"the directions beside model {self.name!r} have "
                            f"{self.directions.noise_dim} numbers, its {space} space "
                            f"{spaces[space]}: find them again with `python -m condgan "
                            f"find-directions {self.path}`")
        return self.directions.offset(self.directions.check(edits, f"model {self.name!r}"))

    def noise_for_seeds(self, seeds: Sequence[int]) -> np.ndarray:
        """float32 (N, noise_dim): the noise `generate_for_seeds` draws for these seeds."""
        return seed_noise(seeds, self.noise_dim)

    def generate_from_noise(self, noise: np.ndarray, conditions: Sequence | None = None
                            ) -> np.ndarray:
        """float32 (N, H, W, 3) pixel values in [0, 255], unrounded, for explicit noise rows
        (N, noise_dim): for `noise_for_seeds(seeds)` they round to `generate_for_seeds(seeds)`."""
        noise = np.asarray(noise, dtype=np.float32)
        if noise.ndim != 2 or noise.shape[1] != self.noise_dim:
            raise UserError(f"model {self.name!r} takes noise of shape (N, {self.noise_dim}), "
                            f"got {noise.shape}")
        prepared = self._check_conditions(len(noise), conditions)
        return self.to_pixels(self._chunked(noise, prepared, self._forward_noise)[self.image_output])

    def to_pixels(self, images: np.ndarray) -> np.ndarray:
        """The network's images as float32 RGB pixel values in [0, 255], unrounded: scaled from
        the card's `value_range` and clipped as `to_uint8` does, one channel repeated."""
        low, high = self.value_range
        scaled = (np.asarray(images, dtype=np.float32) - low) * np.float32(255.0 / (high - low))
        pixels = np.clip(scaled, 0.0, 255.0)
        return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels

    def to_uint8(self, images: np.ndarray) -> np.ndarray:
        """The network's images as uint8 RGB: scaled from the card's `value_range` ([-1, 1]
        unless it says otherwise, e.g. [0, 1] for a sigmoid output), one channel repeated."""
        low, high = self.value_range
        if (low, high) == (-1.0, 1.0):
            pixels = to_uint8(images)
        else:
            scaled = (np.asarray(images) - low) * (255.0 / (high - low))
            pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
        return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels

    # --- for subclasses -------------------------------------------------------------------
    def _prepare(self, conditions: Sequence) -> list:
        raise UserError(f"model {self.name!r} is unconditional: pass n, not labels or captions")

    def _forward(self, seeds: list[int], conditions: list | None) -> list[np.ndarray]:
        return self._forward_noise(self.noise_for_seeds(seeds), conditions)

    def _forward_noise(self, noise: np.ndarray, conditions: list | None) -> list[np.ndarray]:
        raise NotImplementedError(f"model {self.name!r} ({type(self).__name__}) draws its images "
                                  "from seeds only: it has no generate_from_noise")

    def _run(self, seeds: Sequence[int], conditions: Sequence | None, forward=None) -> list[np.ndarray]:
        """Every output of the model (or of `forward(seeds, prepared conditions)`, another view
        of it) for these seeds and conditions, run in padded chunks."""
        seeds = [int(s) for s in seeds]
        if any(not 0 <= s <= SEED_MAX for s in seeds):
            raise UserError(f"seeds must lie in 0..{SEED_MAX}")
        return self._chunked(seeds, self._check_conditions(len(seeds), conditions),
                             forward or self._forward)

    def _check_conditions(self, count: int, conditions: Sequence | None) -> list | None:
        """One prepared condition per image (None for an unconditional model)."""
        if self.conditioning == "none":
            if conditions is not None and any(c is not None for c in conditions):
                raise UserError(f"model {self.name!r} is unconditional: pass n, not labels or captions")
            return None
        if conditions is None or len(conditions) != count:
            raise UserError(f"model {self.name!r} needs one {self._condition_word()} per "
                            f"image: {self._how_to_ask()}")
        return self._prepare(list(conditions))

    def _chunked(self, rows, prepared: list | None, forward) -> list[np.ndarray]:
        """`forward` over exactly CHUNK rows (a list of seeds or an array of noise rows) at a
        time; padded rows repeat the chunk's first one and are dropped."""
        outputs = []
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            count = len(chunk)
            part = None if prepared is None else _padded(prepared[start:start + CHUNK], CHUNK - count)
            outs = forward(_padded(chunk, CHUNK - count), part)
            outputs.append([np.asarray(o)[:count] for o in outs])
        return [np.concatenate(parts) for parts in zip(*outputs)]

    def _conditions_given(self, labels, captions, n):
        given = {"class": labels, "caption": captions}
        for conditioning, value in given.items():
            if value is not None and conditioning != self.conditioning:
                raise UserError(f"model {self.name!r} {self._what_it_is()}: it takes no "
                                f"{'class labels' if conditioning == 'class' else 'captions'}; "
                                f"{self._how_to_ask()}")
        value = given.get(self.conditioning)
        if self.conditioning == "none":
            return None
        if value is None:
            raise UserError(f"model {self.name!r} needs {self._condition_word()}s: {self._how_to_ask()}")
        if isinstance(value, (str, int, np.integer)):
            value = [value] * (n or 1)
        return list(value)

    def _what_it_is(self) -> str:
        return {"class": "is class-conditional", "caption": "draws from captions"}.get(
            self.conditioning, "is unconditional")

    def _condition_word(self) -> str:
        return {"class": "label", "caption": "caption"}.get(self.conditioning, "condition")

    def _how_to_ask(self) -> str:
        if self.conditioning == "class":
            return f"pass labels=[...] from {self.classes}"
        if self.conditioning == "caption":
            return "pass captions=[...]"
        return "pass n=COUNT"


def _padded(rows, pad: int):
    """`rows` (a list, or an array of rows) with its first row repeated `pad` more times."""
    if isinstance(rows, np.ndarray):
        return np.concatenate([rows, np.repeat(rows[:1], pad, axis=0)])
    return list(rows) + list(rows[:1]) * pad


class KerasGenerator(Generator):
    """A model folder whose generator is one Keras file taking [noise] or [noise, label]: the
    GAN family's models (kinds gan and cgan) and any imported generator of that shape.

    An imported generator's card may say more about its inputs: `input_roles` (their order,
    e.g. ["label", "noise"]; default noise first) and `label_shape` ([1] for a label input of
    shape (1,), as Keras 2 cGANs took it; default [], one index per row)."""

    def __init__(self, model, card: Mapping[str, Any], path: str | os.PathLike):
        super().__init__(card, path)
        self.model = model
        self.latent_dim = int(self.card["latent_dim"])
        self.noise_dim = self.latent_dim
        self.conditioning = "class" if self.classes else "none"
        self.input_roles = list(self.card.get("input_roles") or ["noise", "label"])
        self.label_shape = tuple(int(d) for d in self.card.get("label_shape") or ())
        label_input = (model.inputs[self.input_roles.index("label")]
                       if self.conditioning == "class" and len(model.inputs) > 1 else None)
        # Keras 2 cGANs declared the label input float32: hand it the type it declares.
        self.label_dtype = str(label_input.dtype) if label_input is not None else "int32"

    @property
    def conditional(self) -> bool:
        return self.conditioning == "class"

    def label_indices(self, labels: Sequence[str | int]) -> np.ndarray:
        from condgan.data.arrays import class_index

        return np.array([class_index(self.classes, lab) for lab in labels], dtype=np.int32)

    def model_inputs(self, noise: np.ndarray, labels: Sequence[int] | None):
        """What the network takes for these noise rows and label indices, in its input order."""
        if labels is None:
            return noise
        given = {"noise": noise,
                 "label": np.asarray(labels, dtype=np.int32).reshape((-1, *self.label_shape))
                 .astype(self.label_dtype, copy=False)}
        return [given[role] for role in self.input_roles]

    def _prepare(self, conditions: Sequence) -> list:
        return list(self.label_indices(conditions))

    @property
    def class_blend(self) -> bool:
        """Whether the model takes a blend of classes (`generate_blend`)."""
        from condgan.control.class_blend import blendable

        return self.conditional and blendable(self.model, self.input_roles)

    def generate_blend(self, seeds: Sequence[int], blends: Sequence) -> np.ndarray:
        """uint8 (N, H, W, 3): image i from seeds[i] and a blend of classes, blends[i] a
        {class: weight} mapping or a row of class weights (`condgan.control.class_blend`)."""
        from condgan.control.class_blend import blend_model, blend_weights

        if not self.conditional:
            raise UserError(f"model {self.name!r} is unconditional: it has no classes to blend")
        if len(blends) != len(seeds):
            raise UserError(f"give one blend per seed: {len(blends)} blends for {len(seeds)} seeds")
        weights = [blend_weights(self.classes, blend) for blend in blends]
        if not hasattr(self, "_blend_model"):
            self._blend_model = blend_model(self.model, self.input_roles, len(self.classes),
                                            self.name)

        def forward(noise, rows):
            given = {"noise": noise, "label": np.stack(rows)}
            return [self._blend_model.predict_on_batch([given[r] for r in self.input_roles])]

        noise = self.noise_for_seeds([int(s) for s in seeds])
        return self.to_uint8(self._chunked(noise, weights, forward)[0])

    def class_interpolation(self, start, end, steps: int, seeds: Sequence[int]) -> np.ndarray:
        """uint8 (len(seeds) * steps, H, W, 3): for each seed, `steps` images walking from class
        `start` to class `end` with the noise held fixed (row-major: a row per seed)."""
        from condgan.control.class_blend import interpolation_weights

        if not self.conditional:
            raise UserError(f"model {self.name!r} is unconditional: it has no classes to blend")
        path = list(interpolation_weights(self.classes, start, end, steps))
        return self.generate_blend([int(s) for s in seeds for _ in path], path * len(seeds))

    def _forward_noise(self, noise, conditions):
        inputs = self.model_inputs(noise, conditions)
        # predict_on_batch runs a compiled function: several times faster than an eager call.
        return [self.model.predict_on_batch(inputs)]


def load_keras_generator(path: str | os.PathLike, card: Mapping[str, Any] | None = None
                         ) -> KerasGenerator:
    """The card's single Keras generator file, in safe mode (no code runs from the file)."""
    import keras

    import condgan.models  # noqa: F401  registers the custom layers before deserialising
    from condgan.model_folder import KERAS_FILE, read_card

    path = Path(path)
    card = card or read_card(path)
    file = path / card.get("files", {}).get("keras", KERAS_FILE)
    if Path(card.get("files", {}).get("keras", KERAS_FILE)).name != file.name or not file.is_file():
        raise UserError(f"{str(path)!r} has a card but no {file.name}: re-export the model")
    model = keras.saving.load_model(file, safe_mode=True, compile=False)
    return KerasGenerator(model, card, path)
