"""Exported AttnGAN models: `models/<name>/` with the generator, the text encoder, the vocabulary.

Layout (card `kind: "attngan"`):
* `generator.keras`: the EMA generator, inputs [noise (Z,), ca_noise (C,), sentence (D,),
  words (D, T), lengths ()] -> [image per stage in [-1, 1], mu, logvar, word attention maps
  per attentional stage] (`condgan.models.attngan_generator`); the last stage's image is the
  output, the rest feed `AttnGANModel.attention` (the notebook's attention maps);
* `text_encoder.keras`: the frozen DAMSM text encoder as a functional model
  [tokens (T,) int32, lengths () int32] -> [words (D, T), sentence (D,)];
* `vocabulary.json`: the DAMSM vocabulary (`condgan.text.Vocabulary`);
* `card.json`: the foundation's card fields plus z_dim, condition_dim, max_len, stages.

`load_attngan(path)` loads both models in Keras safe mode and returns an `AttnGANModel` with the
generator contract of every loaded model (`generate(captions=[...], seed=...)` and
`generate_for_seeds(seeds, captions)` -> uint8 images) and its own extras: `unknown_words`,
`check_caption`, `attention`.
Image i depends only on (caption i, seed i): its noise comes from numpy's PCG64 seeded with the
seed (backend-independent), and both networks always run on fixed chunks of `CHUNK` rows.
Words missing from the vocabulary are dropped from the encoded caption (as AttnGAN does) and
*reported*; a caption with no known word is refused with a `UserError`.
"""
from __future__ import annotations

import datetime as _dt
import os
import warnings
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from condgan.data.arrays import write_json_atomic
from condgan.errors import UserError
from condgan.export import (CARD_FILE, CHUNK, KERAS_FILE, SEED_MAX, arrays_fingerprint,
                            card_path, card_safe, carried_metrics, check_export_target,
                            check_model_name, library_versions, new_staging_directory, read_card,
                            swap_in_directory, to_uint8)

TEXT_ENCODER_FILE = "text_encoder.keras"
VOCABULARY_FILE = "vocabulary.json"


def noise_for_seeds(seeds: Sequence[int], z_dim: int, condition_dim: int):
    """(z (N, Z), eps (N, C)) float32: one standard-normal draw of Z + C numbers per seed."""
    both = np.stack([np.random.default_rng(int(s)).standard_normal(z_dim + condition_dim)
                     for s in seeds]).astype(np.float32)
    return both[:, :z_dim], both[:, z_dim:]


def text_encoder_model(text_encoder, max_len: int):
    """The DAMSM encoder (a subclassed model with two call arguments) as a functional model,
    which saves and loads in safe mode like any other."""
    import keras
    tokens = keras.Input((max_len,), dtype="int32", name="tokens")
    lengths = keras.Input((), dtype="int32", name="lengths")
    words, sentence = text_encoder(tokens, lengths, training=False)
    return keras.Model([tokens, lengths], [words, sentence], name="text_encoder")


def export_attngan(generator, text_encoder, vocabulary, out_dir: str | os.PathLike, *,
                   stages: int, z_dim: int, condition_dim: int, max_len: int,
                   training: Mapping | None = None, dataset: Mapping | None = None,
                   images_seen: int | None = None, wall_time_s: float | None = None,
                   metrics: Mapping | None = None, warmup_caption: str | None = None,
                   extra: Mapping | None = None) -> Path:
    """Write the model folder; assembled beside the old one and swapped in by rename.  `extra`:
    more card fields (export_run's record of which run, step and weights it came from)."""
    out_dir = Path(out_dir)
    staging = new_staging_directory(out_dir)
    generator.save(staging / KERAS_FILE)
    text_encoder_model(text_encoder, max_len).save(staging / TEXT_ENCODER_FILE)
    vocabulary.save(staging / VOCABULARY_FILE)
    card = {
        "name": out_dir.name, "kind": "attngan", "classes": None,
        "latent_dim": int(z_dim + condition_dim), "z_dim": int(z_dim),
        "condition_dim": int(condition_dim), "max_len": int(max_len), "stages": int(stages),
        "image_size": int(generator.outputs[stages - 1].shape[1]), "channels": 3, "value_range": [-1.0, 1.0],
        "vocabulary_size": len(vocabulary),
        "files": {"keras": KERAS_FILE, "text_encoder": TEXT_ENCODER_FILE,
                  "vocabulary": VOCABULARY_FILE},
        "training": dict(training or {}), "dataset": dict(dataset or {}),
        "images_seen": images_seen, "wall_time_s": wall_time_s, "metrics": dict(metrics or {}),
        "versions": library_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if warmup_caption:
        card["warmup_caption"] = warmup_caption
    card.update(extra or {})
    write_json_atomic(staging / CARD_FILE, card)
    return swap_in_directory(staging, out_dir)


class AttnGANModel:
    """An exported AttnGAN: captions and seeds in, uint8 images and unknown words out."""

    def __init__(self, generator, text_encoder, vocabulary, card: Mapping, path: Path):
        self.model, self.text_encoder, self.vocabulary = generator, text_encoder, vocabulary
        self.card, self.path = dict(card), path
        self.name = card.get("name", path.name)
        self.kind = "attngan"
        self.z_dim, self.condition_dim = int(card["z_dim"]), int(card["condition_dim"])
        self.max_len, self.image_size = int(card["max_len"]), int(card["image_size"])
        self.stages = int(card["stages"])

    def unknown_words(self, caption: str) -> list[str]:
        from condgan.text import tokenize
        return [w for w in tokenize(caption) if w not in self.vocabulary]

    def check_caption(self, caption: str) -> list[str]:
        """Unknown words of `caption`; UserError when none of its words is known."""
        from condgan.text import tokenize
        words = tokenize(caption) if isinstance(caption, str) else []
        unknown = [w for w in words if w not in self.vocabulary]
        if len(unknown) == len(words):
            known = ", ".join(self.vocabulary.words[1:13])
            raise UserError(f"caption {caption!r} has no word this model knows (unknown: "
                            f"{unknown or 'none given'}): use words from its vocabulary, e.g. {known}")
        return unknown

    def generate_for_seeds(self, seeds: Sequence[int], captions: Sequence[str] | None = None
                           ) -> np.ndarray:
        """uint8 (N, S, S, 3); image i uses captions[i] and seeds[i] only.  A caption with no
        word the model knows is refused (UserError); other unknown words are left out, as
        AttnGAN does, and `unknown_words(caption)` names them."""
        seeds = [int(s) for s in seeds]
        captions = list(captions or [])
        if len(captions) != len(seeds):
            raise UserError(f"{len(captions)} captions but {len(seeds)} seeds: give one caption "
                            "per image")
        if any(not 0 <= s <= SEED_MAX for s in seeds):
            raise UserError(f"seeds must lie in 0..{SEED_MAX}")
        for caption in captions:
            self.check_caption(caption)
        return to_uint8(self._forward(captions, seeds)[self.stages - 1])

    def _forward(self, captions: list[str], seeds: list[int]) -> list[np.ndarray]:
        """All generator outputs for captions and seeds, run in fixed chunks of CHUNK rows."""
        from condgan.text import encode_texts
        tokens, lengths = encode_texts(captions, self.vocabulary, self.max_len)
        z, eps = noise_for_seeds(seeds, self.z_dim, self.condition_dim)
        out = []
        for start in range(0, len(seeds), CHUNK):
            rows = [a[start:start + CHUNK] for a in (tokens, lengths, z, eps)]
            count = len(rows[0])
            if count < CHUNK:  # pad with copies of the first row; padded rows are dropped
                rows = [np.concatenate([a, np.repeat(a[:1], CHUNK - count, axis=0)]) for a in rows]
            t, n, zz, ee = rows
            words, sentence = self.text_encoder.predict_on_batch([t, n])
            outputs = self.model.predict_on_batch([zz, ee, np.asarray(sentence), np.asarray(words), n])
            out.append([np.asarray(o)[:count] for o in outputs])
        return [np.concatenate(parts) for parts in zip(*out)]

    def attention(self, caption: str, seed: int = 0) -> dict:
        """One caption's images per stage (uint8) and, per attentional stage, the attention
        map of each known word over that stage's input sub-regions (words x h x w)."""
        from condgan.text import tokenize
        self.check_caption(caption)
        outputs = self._forward([caption], [int(seed)])
        words = [w for w in tokenize(caption) if w in self.vocabulary][:self.max_len]
        maps = [o[0, :len(words)] for o in outputs[self.stages + 2:]]
        return {"images": [to_uint8(o[0]) for o in outputs[:self.stages]], "words": words,
                "maps": maps}

    def generate(self, captions: Sequence[str] | str | None = None, n: int | None = None,
                 seed: int | None = None, labels=None) -> np.ndarray:
        """uint8 images for `captions` (a list, or one caption repeated `n` times); image i uses
        seed + i (a random base when `seed` is None)."""
        if labels is not None:
            raise UserError(f"model {self.name!r} draws from captions: pass captions=[...], not labels")
        if isinstance(captions, str):
            captions = [captions] * (n or 1)
        captions = list(captions or [])
        if not captions:
            raise UserError(f"model {self.name!r} draws from captions: give at least one caption")
        base = int(np.random.default_rng().integers(0, SEED_MAX - len(captions))) if seed is None else int(seed)
        return self.generate_for_seeds(range(base, base + len(captions)), captions)


def load_attngan(path: str | os.PathLike) -> AttnGANModel:
    """Load `models/<name>/` (kind attngan) in safe mode."""
    import keras

    import condgan.models  # noqa: F401  registers the foundation's custom layers
    import condgan.models.attngan_generator  # noqa: F401  registers GLU, CA, WordAttention
    import condgan.models.damsm_text  # noqa: F401  registers DamsmTextEncoder
    from condgan.text import Vocabulary

    path = Path(path)
    card = read_card(path)
    if card["kind"] != "attngan":
        raise UserError(f"{str(path)!r} is a {card['kind']!r} model, not a caption model: load it "
                        "with condgan.export.load_generator")
    files = card.get("files", {})
    needed = [files.get("keras", KERAS_FILE), files.get("text_encoder", TEXT_ENCODER_FILE),
              files.get("vocabulary", VOCABULARY_FILE)]
    for name in needed:
        if Path(name).name != name or not (path / name).is_file():
            raise UserError(f"{str(path)!r} lacks {name!r}: re-export the model with "
                            "`python -m condgan export-attngan`")
    generator = keras.saving.load_model(path / needed[0], safe_mode=True, compile=False)
    with warnings.catch_warnings():
        # The nested subclassed DAMSM encoder cannot build from its build config; the functional
        # wrapper builds it by calling it, and its weights load after that (round trip tested).
        warnings.filterwarnings("ignore", message=".*cannot be built automatically.*")
        text_encoder = keras.saving.load_model(path / needed[1], safe_mode=True, compile=False)
    return AttnGANModel(generator, text_encoder, Vocabulary.load(path / needed[2]), card, path)


def export_run(run_dir: str | os.PathLike, name: str, models_dir: str | os.PathLike = "models",
               checkpoint: str | os.PathLike | None = None, *, replace: bool = False,
               say: Callable[[str], None] = print) -> Path:
    """Export a `train-attngan` run's EMA generator (newest checkpoint, or `checkpoint`) to
    models_dir/name.  An existing model folder is replaced only with `replace=True`, and keeps
    its card's metrics only if the new export is the very same weights."""
    import json

    import keras

    from condgan.train.attngan_run import AttnGANConfig, build_models
    from condgan.train.checkpoint import load_run_checkpoint
    from condgan.train.damsm_trainer import load_damsm

    check_model_name(name)
    out = check_export_target(Path(models_dir) / name, replace)
    run_dir = Path(run_dir)
    config_file = run_dir / "config.json"
    resolved = json.loads(config_file.read_text()) if config_file.is_file() else {}
    if resolved.get("kind") != "attngan":
        raise UserError(f"{str(run_dir)!r} is not a train-attngan run (no config.json with kind "
                        "attngan): pass the folder `python -m condgan train-attngan` wrote")
    cfg = AttnGANConfig.from_json(resolved["config"])
    restored = load_run_checkpoint(run_dir, checkpoint)
    text_encoder, image_encoder, vocabulary, damsm_cfg = load_damsm(resolved["damsm"])
    keras.utils.set_random_seed(cfg.seed)
    trainer = build_models(cfg, damsm_cfg, text_encoder, image_encoder)
    state = restored[1]
    keys = sorted(k for k in state if k.startswith("ema/"))
    for key, variable in zip(keys, trainer.generator.variables):
        variable.assign(state[key])
    step, images_seen = (int(v) for v in state["progress"])
    identity = {"run_dir": card_path(run_dir), "step": step, "weights": "ema",
                "generator_fingerprint": arrays_fingerprint(state, "ema")}
    # A card's metrics come from `evaluate` (with their number of images); the run's own
    # end-of-training R-precision stays in its summary.json.
    metrics = carried_metrics(out, identity, say) if replace else {}
    return export_attngan(trainer.generator, text_encoder, vocabulary, out,
                          stages=cfg.stages, z_dim=cfg.z_dim, condition_dim=cfg.condition_dim,
                          max_len=damsm_cfg.max_len, training=card_safe(cfg.to_json()),
                          dataset={"data": card_path(resolved.get("data")),
                                   "data_fingerprint": _captions_fingerprint(resolved.get("data")),
                                   "damsm": card_path(resolved.get("damsm"))},
                          images_seen=images_seen, wall_time_s=float(state["wall_time_s"]),
                          metrics=card_safe(metrics), warmup_caption=_warmup_caption(vocabulary),
                          extra=identity)


def _captions_fingerprint(data) -> str | None:
    """A content hash of the data's caption list (captions.jsonl), when it has one: with the
    data's name, it says which captioned set the model was trained on."""
    from condgan.data.captioned import CAPTIONS_FILE
    from condgan.metrics.protocol import sha256_file

    file = Path(data) / CAPTIONS_FILE if data else None
    return sha256_file(file)[:23] if file is not None and file.is_file() else None


def _warmup_caption(vocabulary) -> str:
    return " ".join(vocabulary.words[1:4])
