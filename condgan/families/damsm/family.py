"""The DAMSM family (AttnGAN's `pretrain_DAMSM.py`, Xu et al. 2018): pretraining the text and
image encoders on the common loop, validating each epoch (word/sentence losses and R-precision
of held-out images), and reading a run back (`load_damsm`) for AttnGAN runs, evaluation and
the notebooks.  A DAMSM run is not exported as a model folder: AttnGAN reads the run itself.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from condgan.errors import UserError
from condgan.families.base import SCHEDULE_FIELDS, Family, Prepared
from condgan.families.damsm.config import DamsmConfig
from condgan.families.damsm.data import caption_batch, class_filter, encode_split, to_float

VOCABULARY_FILE = "vocabulary.json"
R_PRECISION_PROTOCOL = ("AttnGAN: 1 true + 99 mismatched captions (other classes), top-1 by cosine "
                        "of global image / sentence features, the first {n} held-out images")


class DamsmFamily(Family):
    kind = "damsm"
    config_class = DamsmConfig
    card_kinds = ()
    exportable = False
    # The negatives are what the encoders are trained against, not their shape: a resume may
    # sharpen them (fine-tuning on harder negatives); sessions.jsonl records the change.
    resumable = SCHEDULE_FIELDS + ("val_batches", "rp_images", "swap_negatives", "swap_exchange")

    def config_from_json(self, fields):
        fields = dict(fields)
        if "checkpoint_every" in fields:  # the name earlier versions gave the field
            fields["checkpoint_every_steps"] = fields.pop("checkpoint_every")
        return super().config_from_json(fields)

    def check(self, config: DamsmConfig) -> None:
        if config.image_encoder not in ("cnn", "inception"):
            raise UserError(f"image_encoder {config.image_encoder!r} is not known: use cnn or inception")

    def prepare(self, config: DamsmConfig, data, run_dir: Path, say) -> Prepared:
        """The training captions' vocabulary (kept in the run folder: a resumed run reads it
        back), the encoded splits and the epoch stream."""
        from condgan.data.caption_sets import load_caption_split
        from condgan.families.damsm.data import DamsmStream
        from condgan.text import Vocabulary, build_vocabulary, tokenize

        data_path = Path(data if data is not None else config.data)
        train_set = load_caption_split(data_path, "train", config.image_size)
        if config.max_train_images:
            train_set = train_set.subset(np.arange(min(config.max_train_images, len(train_set))))
        test_set = load_caption_split(data_path, "test", config.image_size)
        saved = run_dir / VOCABULARY_FILE
        if saved.is_file():
            vocabulary = Vocabulary.load(saved)
        else:
            vocabulary = build_vocabulary((tokenize(c) for caps in train_set.captions for c in caps),
                                          config.min_count)
        train, test = encode_split(train_set, vocabulary), encode_split(test_set, vocabulary)
        from condgan.text.word_swap import word_swap_for
        swap = word_swap_for(config.swap_negatives, config.swap_exchange, vocabulary)
        stream = DamsmStream(train, config.batch_size, config.max_len, config.seed, config.flip, swap)
        say(f"DAMSM: {len(train.images)} train / {len(test.images)} test images, vocabulary "
            f"{len(vocabulary)} words, {stream.steps_per_epoch} steps/epoch")
        from condgan.basics import sha256_file
        from condgan.data.captioned import CAPTIONS_FILE

        captions = data_path / CAPTIONS_FILE
        record = {"data": str(data_path), "num_images": len(train.images),
                  "num_test_images": len(test.images), "vocabulary_size": len(vocabulary),
                  "fingerprint": sha256_file(captions)[:23] if captions.is_file() else None}
        return Prepared(stream, record, {"vocabulary": vocabulary, "test": test,
                                         "vocabulary_file": saved})

    def build(self, config: DamsmConfig, prepared: Prepared, distributed: bool):
        import keras

        from condgan.families.damsm.trainer import DamsmTrainer

        vocabulary = prepared.extras["vocabulary"]
        vocabulary.save(prepared.extras["vocabulary_file"])
        trainer = DamsmTrainer(config, len(vocabulary))
        trainer.compile(keras.optimizers.Adam(learning_rate=config.lr, beta_1=config.beta1,
                                              beta_2=0.999))
        return trainer

    def callbacks(self, trainer, prepared: Prepared, config: DamsmConfig) -> list:
        from condgan.families.damsm.trainer import LearningRateDecay

        return [LearningRateDecay(trainer.damsm_optimizer, config)]

    def validation(self, trainer, prepared: Prepared, config: DamsmConfig):
        test = prepared.extras["test"]
        return lambda: {"lr": float(trainer.damsm_optimizer.learning_rate.numpy()),
                        **validate(trainer, test, config)}

    def finish(self, trainer, prepared: Prepared, config: DamsmConfig, sampler) -> dict:
        n = min(config.rp_images, len(prepared.extras["test"].images))
        return {"vocabulary_size": len(prepared.extras["vocabulary"]),
                "r_precision_protocol": R_PRECISION_PROTOCOL.format(n=n)}


def validate(trainer, split, cfg: DamsmConfig) -> dict[str, float]:
    """Mean word/sentence losses over the first `val_batches` test batches (deterministic
    captions) and R-precision of the first `rp_images` test images."""
    from condgan.metrics.r_precision import encode_pairs, r_precision
    b = cfg.batch_size
    n_batches = min(cfg.val_batches, len(split.images) // b)
    w_sum = s_sum = 0.0
    for k in range(n_batches):
        index = np.arange(k * b, (k + 1) * b)
        tokens, lengths = caption_batch(split, index, cfg.max_len, None)
        w, s = trainer.eval_losses(to_float(split.images[index]), tokens, lengths,
                                   split.class_ids[index])
        w_sum, s_sum = w_sum + float(w), s_sum + float(s)
    out = {"val_w_loss": w_sum / max(n_batches, 1), "val_s_loss": s_sum / max(n_batches, 1)}
    n = min(cfg.rp_images, len(split.images))
    if n >= 100:
        index = np.arange(n)
        tokens, lengths = caption_batch(split, index, cfg.max_len, None)
        img, txt = encode_pairs(trainer.image, trainer.text, split.images[index], tokens, lengths)
        out["val_r_precision"] = r_precision(img, txt, seed=cfg.seed,
                                             class_ids=class_filter(split.class_ids[index]))["r_precision"]
    return out


def load_damsm(run_dir: str | os.PathLike):
    """(text_encoder, image_encoder, vocabulary, config) of a DAMSM run, from its newest
    checkpoint."""
    from condgan.families import read_run_config
    from condgan.families.damsm.trainer import DamsmTrainer
    from condgan.paths import project_path
    from condgan.text import Vocabulary
    from condgan.train.checkpoint import assign_state, load_latest_checkpoint

    run_dir = project_path(run_dir) if not Path(run_dir).is_dir() else Path(run_dir)
    family, cfg = read_run_config(run_dir)
    if not isinstance(cfg, DamsmConfig):
        raise UserError(f"{str(run_dir)!r} is a {family.kind} run, not a DAMSM run: pass the folder "
                        "a DAMSM config trained, e.g. runs/damsm_shapes")
    vocabulary = Vocabulary.load(run_dir / VOCABULARY_FILE)
    restored = load_latest_checkpoint(run_dir)
    if restored is None:
        raise UserError(f"{run_dir} has no checkpoint yet: train it with `python -m condgan train "
                        "--config configs/damsm_shapes.py --data data/shapes`")
    trainer = DamsmTrainer(cfg, len(vocabulary))
    assign_state("text", trainer.text.variables, restored[1])
    assign_state("image", trainer.image.variables, restored[1])
    return trainer.text, trainer.image, vocabulary, cfg


def evaluate_damsm(run_dir: str | os.PathLike, data_path: str | None = None, repeats: int = 10,
                   examples: int = 5) -> dict[str, Any]:
    """R-precision (mean and std over `repeats`) on the test split and top-5 retrieval examples;
    written to `run_dir/evaluation.json` and merged into `summary.json`."""
    from condgan.basics import write_json_atomic
    from condgan.data.caption_sets import load_caption_split
    from condgan.metrics.r_precision import encode_pairs, r_precision

    text, image, vocabulary, cfg = load_damsm(run_dir)
    run_dir = Path(run_dir)
    data_path = data_path or cfg.data
    test = encode_split(load_caption_split(data_path, "test", cfg.image_size), vocabulary)
    n = min(cfg.rp_images, len(test.images))
    index = np.arange(n)
    tokens, lengths = caption_batch(test, index, cfg.max_len, None)
    img, txt = encode_pairs(image, text, test.images[index], tokens, lengths)
    rp = r_precision(img, txt, seed=cfg.seed, class_ids=class_filter(test.class_ids[index]),
                     repeats=repeats)
    rp_plain = r_precision(img, txt, seed=cfg.seed, repeats=repeats)
    sims = (img / np.linalg.norm(img, axis=1, keepdims=True)) @ \
        (txt / np.linalg.norm(txt, axis=1, keepdims=True)).T
    shown = []
    for i in range(min(examples, n)):
        top = np.argsort(-sims[i])[:5]
        shown.append({"image": test.keys[i], "true": " ".join(vocabulary.decode(tokens[i])),
                      "retrieved": [" ".join(vocabulary.decode(tokens[j])) for j in top]})
    result = {"r_precision": rp["r_precision"], "r_precision_std": rp["std"],
              "r_precision_no_class_filter": rp_plain["r_precision"], "queries": n,
              "repeats": repeats, "examples": shown, "data": str(data_path)}
    write_json_atomic(run_dir / "evaluation.json", result)
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        summary["evaluation"] = {k: v for k, v in result.items() if k != "examples"}
        write_json_atomic(summary_path, summary)
    return result


def word_attention_maps(run_dir: str | os.PathLike, image: np.ndarray, caption: str):
    """(words, maps): for each known word of `caption`, the DAMSM's attention over the regions of
    `image` (uint8 (H, W, 3)), maps (T, h, w) summing to 1 over the regions (eqs. 7-8, gamma1)."""
    from condgan.families.damsm.losses import attention
    from condgan.text import encode_texts

    text, image_encoder, vocabulary, cfg = load_damsm(run_dir)
    tokens, lengths = encode_texts([caption], vocabulary, cfg.max_len)
    regions, _ = image_encoder(to_float(np.asarray(image)[None]), training=False)
    words, _ = text(tokens, lengths, training=False)
    _, attn = attention(words, regions, lengths, cfg.gamma1)
    h, w = int(regions.shape[2]), int(regions.shape[3])
    maps = np.asarray(attn)[0, 0, :int(lengths[0])].reshape(-1, h, w)
    return vocabulary.decode(tokens[0])[:len(maps)], maps


FAMILY = DamsmFamily()
