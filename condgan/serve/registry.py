"""Discover exported models under `models/*/card.json`, load each once per process, warm up.

Only directory names found here (and passing `check_model_name`) are ever served: a request's
model name is looked up in this registry, never joined onto a path.  Loading runs in a
background thread so `/healthz` answers at once and `/readyz` turns 200 only when every model
has loaded and run one warm-up batch (the first TensorFlow call builds kernels and is slow).

Every model is served through the generator contract (`condgan.generator.Generator`):
`generate_for_seeds(seeds, conditions)` -> uint8 images, and its `conditioning` ("none",
"class" or "caption") says what a request must carry.  Caption models also offer
`check_caption(caption) -> unknown words` (raising `UserError` for a caption with no known word),
which lets the server refuse such a caption before it is batched with others and report the
words it left out.  Models load through their family (`condgan.families`); a loader per kind
can stand in for it (`loaders={"attngan": fn}`, the tests' stand-in models).

A caption model also gets an `example_caption` at load time, which the page shows as its
placeholder and the API's caption errors suggest: the card's own `example_caption` if it has
one, else a caption built from words the model's vocabulary holds (`derive_example_caption`),
so that the example a user copies never consists of words the model ignores.  Its
`example_captions` add the further examples it knows every word of (two-object Shapes
captions), which the page offers to try.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from condgan.control.directions import describe_edits
from condgan.errors import UserError
from condgan.families import family_of_card
from condgan.generator import CHUNK
from condgan.serve.validation import ApiError
from condgan.model_folder import CARD_FILE, KERAS_FILE, check_model_name, model_versions, read_card

log = logging.getLogger("condgan.serve")
Loader = Callable[[Path], Any]

# Captions of the data sets condgan trains caption models on: Shapes (`condgan.data.shapes`
# writes captions of exactly this form) and CUB birds.  A model's example is the first one whose
# words it all knows, else the one with the largest share of known words, unknown ones left out.
EXAMPLE_CAPTIONS = ("a large blue circle at the top on a black background",
                    "a small red bird with black wings")
# Further examples the page offers beside the model's own when it knows every word: Shapes
# captions with two objects, where a caption model must put each attribute on its own object.
MORE_EXAMPLE_CAPTIONS = (
    "a large red circle in the upper left corner and a large blue square at the bottom on a white background",
    "a large yellow triangle on the left and a large green diamond at the right side on a black background")


@dataclass
class ServedModel:
    """One loaded model with the facts the API reports about it."""

    name: str
    kind: str
    model: Any
    card: dict
    version: str
    example_caption: str | None = None
    example_captions: tuple[str, ...] = ()   # the example first, then further ones it knows
    versions: tuple[str, ...] = ()   # a versioned model's versions, oldest first (this one among them)

    @property
    def conditioning(self) -> str:
        return getattr(self.model, "conditioning", "none")

    @property
    def classes(self) -> list[str] | None:
        return self.card.get("classes") if self.conditioning == "class" else None

    @property
    def image_size(self) -> int:
        return int(self.card.get("image_size", 0))

    @property
    def directions(self):
        """The attribute directions `edits` move along (`LatentDirections`), or None."""
        return getattr(self.model, "directions", None)

    def info(self) -> dict[str, Any]:
        metrics = {}
        for key, value in (self.card.get("metrics") or {}).items():
            metrics[key] = value.get("value") if isinstance(value, dict) else value
        return {
            "name": self.name, "kind": self.kind, "classes": self.classes,
            "conditioning": {"class": "label"}.get(self.conditioning, self.conditioning),
            "image_size": self.image_size, "channels": int(self.card.get("channels", 3)),
            "latent_dim": self.card.get("latent_dim"), "version": self.version,
            "versions": list(self.versions) or [self.version],
            "exported_at": self.card.get("exported_at"), "images_seen": self.card.get("images_seen"),
            "metrics": metrics, "example_caption": self.example_caption,
            "example_captions": list(self.example_captions),
            "edits": describe_edits(self.directions),
            "class_blend": bool(getattr(self.model, "class_blend", False)),
            "word_attention": bool(getattr(self.model, "word_attention", False)),
            "options": sorted(getattr(self.model, "options", None) or {}),
            # What each option is when a request leaves it out (a StyleGAN's card psi).
            "option_defaults": {name: getattr(self.model, name, None)
                                for name in sorted(getattr(self.model, "options", None) or {})},
        }

    def check_caption(self, caption: str) -> list[str]:
        """Unknown words of a caption; UserError if it has no known word."""
        check = getattr(self.model, "check_caption", None)
        return list(check(caption)) if check else []

    def require_known_words(self, caption: str) -> list[str]:
        """`check_caption` for a request: a caption with no known word is a 400 that shows a
        caption this model knows."""
        try:
            return self.check_caption(caption)
        except UserError as error:
            hint = (f" (a caption {self.name} knows: {json.dumps(self.example_caption)})"
                    if self.example_caption else "")
            raise ApiError(400, "no_known_words", f"{error}{hint}") from None

    @property
    def with_options(self):
        """The model's `with_options` when it names sampling options (a StyleGAN's
        truncation), else None: what a request's options are checked with."""
        return self.model.with_options if getattr(self.model, "options", None) else None

    def run(self, conditions: Sequence[Any], seeds: Sequence[int],
            edits: dict[str, float] | None = None, options: dict[str, float] | None = None
            ) -> tuple[np.ndarray, list[list[str]] | None]:
        """One generator call for many images: conditions[i] is a label index, a class blend
        ({class: weight}), a caption or None;
        `edits` (checked) move every image along the model's directions; `options` (checked)
        are the model's sampling options."""
        moved = {"edits": edits} if edits else {}
        model = self.model.with_options(**options) if options else self.model
        if self.conditioning == "caption":
            images = model.generate_for_seeds(list(seeds), list(conditions), **moved)
            return images, [self.check_caption(caption) for caption in conditions]
        if self.conditioning == "class" and isinstance(conditions[0], dict):
            if not getattr(self.model, "class_blend", False):
                raise UserError(f"model {self.name!r} ({self.kind}) has no class blend: send one "
                                "class as \"label\"")
            return model.generate_blend(list(seeds), list(conditions)), None
        labels = list(conditions) if self.conditioning == "class" else None
        return model.generate_for_seeds(list(seeds), labels, **moved), None

    def warm_up(self) -> None:
        """One full chunk through the generator so the first request pays no kernel setup."""
        if self.conditioning == "caption":
            words = self.card.get("warmup_caption") or self.example_caption or "a bird"
            try:
                self.run([words], [0])
            except UserError:
                pass  # a caption model whose vocabulary lacks the default words: skip warm-up
            return
        conditions = [0] * CHUNK if self.conditioning == "class" else [None] * CHUNK
        self.run(conditions, list(range(CHUNK)))


def derive_example_caption(served: ServedModel) -> str | None:
    """An example caption made of words `served` knows; None for models that take no caption."""
    if served.conditioning != "caption":
        return None
    if served.card.get("example_caption"):
        return str(served.card["example_caption"])
    warmup = served.card.get("warmup_caption")
    if not callable(getattr(served.model, "check_caption", None)):
        return str(warmup) if warmup else None  # nothing to check candidates against
    from condgan.text import tokenize

    best: tuple[float, list[str]] = (0.0, [])
    for candidate in EXAMPLE_CAPTIONS:
        words = tokenize(candidate)
        try:
            unknown = set(served.check_caption(candidate))
        except UserError:
            continue  # no word of it is known
        known = [w for w in words if w not in unknown]
        if len(known) == len(words):
            return candidate
        if len(known) / len(words) > best[0]:
            best = (len(known) / len(words), known)
    # The export's warm-up caption is only frequent words ("a the in"): a mostly known sentence
    # reads better as an example.
    if best[0] >= 0.5 or not warmup:
        return " ".join(best[1]) or None
    return str(warmup)


def derive_example_captions(served: ServedModel) -> tuple[str, ...]:
    """The model's example, then each of `MORE_EXAMPLE_CAPTIONS` whose every word it knows."""
    if not served.example_caption:
        return ()
    examples = [served.example_caption]
    if callable(getattr(served.model, "check_caption", None)):
        for candidate in MORE_EXAMPLE_CAPTIONS:
            try:
                if not served.check_caption(candidate) and candidate not in examples:
                    examples.append(candidate)
            except UserError:
                continue  # no word of it is known
    return tuple(examples)


def model_version(path: Path, card: dict) -> str:
    """A content version: the card's own `version` if set, else a hash of the weights file."""
    if card.get("version"):
        return str(card["version"])
    file = path / card.get("files", {}).get("keras", KERAS_FILE)
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()[:12]


class Registry:
    """The models one process serves, loaded once; thread-safe reads after `ready`."""

    def __init__(self, models_dir: str | Path, loaders: dict[str, Loader] | None = None,
                 default_caption_model: str | None = None, warm_up: bool = True) -> None:
        self.models_dir = Path(models_dir)
        if not self.models_dir.is_dir():
            raise UserError(f"models directory {str(self.models_dir)!r} does not exist: pass "
                            "--models-dir DIR (or CONDGAN_MODELS_DIR) naming a folder of exported "
                            "models, each with a card.json")
        self.loaders = dict(loaders or {})
        self.warm = warm_up
        self.models: dict[str, ServedModel] = {}
        self.failed: dict[str, str] = {}
        self.ready = threading.Event()
        self.load_seconds: float | None = None
        self._default_caption = default_caption_model
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._seen: set[str] = set()  # name or name/version: looked at once, loaded or failed
        self._versions: dict[str, dict[int, ServedModel]] = {}

    def discover(self) -> list[tuple[str, Path, int | None]]:
        """(name, folder, version) of every model folder with a safe name, sorted: a folder with
        its card at the top is one model (version None); a versioned folder (`name/<N>/`, see
        `model_folder.model_versions`) gives one entry per version."""
        found = []
        for child in sorted(self.models_dir.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue  # hidden: export staging folders, editor files
            versions = model_versions(child)
            if not versions and not (child / CARD_FILE).is_file():
                continue
            try:
                check_model_name(child.name)
            except UserError as error:
                self.failed[child.name[:64]] = str(error)
                continue
            if versions:
                found += [(child.name, child / str(v), v) for v in versions]
            else:
                found.append((child.name, child, None))
        return found

    def load_all(self) -> None:
        """Load and warm every discovered model; a model that fails is reported, not fatal."""
        start = time.perf_counter()
        try:
            self.refresh()
            if not self.models:
                log.warning("no servable model under %s", self.models_dir)
        finally:
            self.load_seconds = round(time.perf_counter() - start, 3)
            self.ready.set()

    def refresh(self, wait: bool = True) -> list[str]:
        """Load model folders and versions that appeared since the last look (a training job's
        export, maybe by another process); returns what it loaded, as `name` or `name/version`.
        `wait=False` returns at once when another thread is loading."""
        loaded = []
        if not self._lock.acquire(blocking=wait):
            return loaded
        try:
            for name, path, version in self.discover():
                key = name if version is None else f"{name}/{version}"
                if key in self._seen:
                    continue
                self._seen.add(key)
                try:
                    self._load_one(name, path, version)
                    loaded.append(key)
                except Exception as error:  # noqa: BLE001  one broken model must not stop the rest
                    log.error("model %s could not be loaded: %s", key, error)
                    self.failed[key] = f"{type(error).__name__}: {error}"
        finally:
            self._lock.release()
        return loaded

    def _load_one(self, name: str, path: Path, version: int | None) -> None:
        card = read_card(path)
        loader = self.loaders.get(card["kind"])
        model = loader(path) if loader is not None else family_of_card(card).load(path, card)
        served = ServedModel(name, card["kind"], model, dict(getattr(model, "card", card)),
                             str(version) if version is not None else model_version(path, card))
        served.example_caption = derive_example_caption(served)
        served.example_captions = derive_example_captions(served)
        if self.warm:
            served.warm_up()
        if version is None:
            self.models[name] = served
        else:  # the newest version is the model's default
            versions = self._versions.setdefault(name, {})
            versions[version] = served
            ordered = tuple(str(v) for v in sorted(versions))
            for each in versions.values():
                each.versions = ordered
            self.models[name] = versions[max(versions)]
        log.info("loaded %s (%s, %dpx, %s)", name, served.kind, served.image_size, served.version)

    def start(self, background: bool = True) -> "Registry":
        if background:
            self._thread = threading.Thread(target=self.load_all, name="model-loader", daemon=True)
            self._thread.start()
        else:
            self.load_all()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)

    def lookup(self, name: str, version: str | None = None, ready_url: str = "/readyz") -> ServedModel:
        """The served model a request names, or the API error that says why not.  A name or
        version not loaded yet is looked for on disk once (a job's new export), so it is served
        without a restart."""
        if not self.ready.is_set():
            raise ApiError(503, "not_ready", "models are still loading: retry in a few seconds "
                           f"(GET {ready_url} says when they are in)")
        # A look at the folder (a few stat calls) so a version exported since, by this process
        # or another, is served at once; never waits behind a model being loaded.
        self.refresh(wait=False)
        served = self.get(name, version)
        if served is None and self.refresh():
            served = self.get(name, version)
        if served is None:
            if version is not None and name in self.models:
                raise ApiError(404, "version_not_found", f"model {name!r} has no version "
                               f"{version!r}: its versions are {self.models[name].info()['versions']}")
            raise ApiError(404, "model_not_found", f"no model named {name!r}: choose one of "
                           f"{sorted(self.models)}")
        return served

    def get(self, name: str, version: str | None = None) -> ServedModel | None:
        """The model `name` (its newest version), or one of its versions; None if not served."""
        if not self.ready.is_set():
            return None
        if version is None:
            return self.models.get(name)
        if name in self._versions:
            return self._versions[name].get(int(version)) if str(version).isdigit() else None
        served = self.models.get(name)  # a single-version model answers to its own version
        return served if served is not None and served.version == str(version) else None

    def default_caption_model(self) -> ServedModel | None:
        if self._default_caption:
            return self.get(self._default_caption)
        captions = [m for m in self.models.values() if m.conditioning == "caption"]
        return captions[0] if captions else None
