"""The AttnGAN family (Xu et al. 2018): how it trains against a pretrained DAMSM run (the
trainer in `trainer.py`, the caption stream and sampler in `data.py`), what its run reports at
the end (R-precision of generated held-out images), and how it exports and loads model folders
(`model.py`).  With `word_attention=False` and `damsm_lambda=0` it is the StackGAN baseline
(configs/stackgan_shapes.py), trained, exported and served the same way."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.data.captioned import captions_fingerprint, first_known_caption
from condgan.errors import UserError
from condgan.families.attngan.config import AttnGANConfig
from condgan.families.base import SCHEDULE_FIELDS, Family, Prepared

# Held-out caption i is generated with seed RP_SEED + i when a run or an evaluation scores it.
RP_SEED = 10_000


class AttnGANFamily(Family):
    kind = "attngan"
    config_class = AttnGANConfig
    card_kinds = ("attngan",)
    conditioning = "caption"
    resumable = SCHEDULE_FIELDS + ("rp_images", "damsm")

    # --- training ----------------------------------------------------------------------------
    def check(self, config: AttnGANConfig) -> None:
        from condgan.models.attngan_discriminator import CONDITIONS

        if config.d_condition not in CONDITIONS:
            raise UserError(f"d_condition {config.d_condition!r} is not known: use one of "
                            + ", ".join(CONDITIONS))
        if config.d_condition == "phrases" and config.d_max_phrases < 1:
            raise UserError(f"d_max_phrases={config.d_max_phrases}: a caption has at least one phrase")
        if config.d_object_weight < 0:
            raise UserError(f"d_object_weight={config.d_object_weight}: use 0 (off) or a positive weight")
        if not config.damsm:
            raise UserError("an AttnGAN run needs its pretrained DAMSM run: set damsm=runs/damsm_NAME "
                            "(python -m condgan train --config configs/damsm_shapes.py ...)")

    def prepare(self, config: AttnGANConfig, data, run_dir: Path, say) -> Prepared:
        """`data`: None (the config's `data`) or a captioned folder."""
        from condgan.data.caption_sets import load_caption_split
        from condgan.families.attngan.data import CaptionStream
        from condgan.families.damsm.data import encode_split
        from condgan.families.damsm.family import load_damsm

        data_path = Path(data if data is not None else config.data)
        text_encoder, image_encoder, vocabulary, damsm_cfg = load_damsm(config.damsm)
        if config.image_size != damsm_cfg.image_size:
            say(f"generator {config.image_size} px, DAMSM {damsm_cfg.image_size} px: fakes are "
                "resized for the DAMSM loss")
        train = load_caption_split(data_path, "train", config.image_size)
        if config.max_train_images:
            train = train.subset(np.arange(min(config.max_train_images, len(train))))
        cells, object_classes = None, ()
        if config.d_object_weight:
            cells, object_classes = object_labels(config, train, str(data_path))
            say(f"object-wise discriminator: {len(object_classes)} attributes in "
                f"{cells.shape[1]} cells, weight {config.d_object_weight:g}")
        test = load_caption_split(data_path, "test", config.image_size)
        train, test = encode_split(train, vocabulary), encode_split(test, vocabulary)
        from condgan.text.word_swap import word_swap_for
        swap = word_swap_for(config.swap_negatives, config.swap_exchange, vocabulary)
        stream = CaptionStream(train, config.batch_size, damsm_cfg.max_len, config.seed, swap,
                               config.swap_from_epoch, cells)
        record = {"data": str(data_path), "fingerprint": captions_fingerprint(data_path),
                  "num_images": len(train.images), "num_test_images": len(test.images),
                  "damsm": str(config.damsm), "vocabulary_size": len(vocabulary)}
        return Prepared(stream, record, {"text_encoder": text_encoder, "image_encoder": image_encoder,
                                         "vocabulary": vocabulary, "damsm_config": damsm_cfg,
                                         "test": test, "object_classes": object_classes})

    def build(self, config: AttnGANConfig, prepared: Prepared, distributed: bool):
        import keras

        e = prepared.extras
        trainer = build_models(config, e["damsm_config"], e["text_encoder"], e["image_encoder"],
                               distributed, vocabulary=e["vocabulary"],
                               object_classes=e["object_classes"])
        trainer.ema_generator = keras.models.clone_model(trainer.generator)
        return trainer

    def sampler(self, trainer, prepared: Prepared, config: AttnGANConfig, run_dir: Path):
        from condgan.families.attngan.data import CaptionSampler

        e = prepared.extras
        e["vocabulary"].save(run_dir / "vocabulary.json")
        return CaptionSampler(trainer, e["test"], e["vocabulary"], config,
                              e["damsm_config"].max_len, run_dir)

    def finish(self, trainer, prepared: Prepared, config: AttnGANConfig, sampler) -> dict:
        """R-precision of the EMA generator on `rp_images` held-out captions (and of the real
        images with the same captions, the ceiling)."""
        if not config.rp_images:
            return {}
        e = prepared.extras
        return {"evaluation": evaluate_generator(sampler.load_ema(), e["text_encoder"],
                                                 e["image_encoder"], e["test"], e["damsm_config"],
                                                 config, config.rp_images)}

    # --- model folders -----------------------------------------------------------------------
    def export(self, run_dir: Path, config: AttnGANConfig, out_dir: Path, *, checkpoint=None,
               weights: str = "ema", replace: bool = False, legacy_h5: bool = True, say=print) -> Path:
        """The run's EMA generator at its newest checkpoint (or `checkpoint`), with the frozen
        DAMSM text encoder and the vocabulary, as a model folder."""
        import json

        import keras

        from condgan.families.damsm.family import load_damsm
        from condgan.model_folder import card_path, carried_metrics, weights_fingerprint
        from condgan.train.checkpoint import assign_state, load_run_checkpoint
        from condgan.train.history import trained_on

        if weights != "ema":
            raise UserError("AttnGAN runs export the EMA generator only: drop --weights live")
        _, state = load_run_checkpoint(run_dir, checkpoint)
        text_encoder, image_encoder, vocabulary, damsm_cfg = load_damsm(config.damsm)
        keras.utils.set_random_seed(config.seed)
        # only the generator is exported: no object-wise heads, so no data set is needed
        trainer = build_models(config, damsm_cfg, text_encoder, image_encoder, vocabulary=vocabulary,
                               object_classes=())
        assign_state("ema", trainer.generator.variables, state)
        step, images_seen = (int(v) for v in state["progress"])
        identity = {"run_dir": card_path(run_dir), "step": step, "weights": "ema",
                    "generator_fingerprint": weights_fingerprint(state, "ema")}
        # A card's metrics come from `evaluate` (with their number of images); the run's own
        # end-of-training R-precision stays in its summary.json.
        metrics = carried_metrics(out_dir, identity, say) if replace else {}
        dataset_file = run_dir / "dataset.json"
        dataset = json.loads(dataset_file.read_text()) if dataset_file.is_file() else {}
        return save_attngan(trainer.generator, text_encoder, vocabulary, out_dir,
                            stages=config.stages, z_dim=config.z_dim,
                            condition_dim=config.condition_dim, max_len=damsm_cfg.max_len,
                            training=config.to_json(),
                            dataset={"data": card_path(config.data),
                                     "data_fingerprint": dataset.get("fingerprint") or
                                     captions_fingerprint(Path(config.data)),
                                     "damsm": card_path(config.damsm)},
                            images_seen=images_seen, wall_time_s=float(state["wall_time_s"]),
                            metrics=metrics, **trained_on(run_dir, step),
                            example_caption=first_known_caption(Path(config.data), vocabulary),
                            **identity)

    def load(self, path, card):
        from condgan.families.attngan.model import load_attngan

        return load_attngan(path, card)


def save_attngan(generator, text_encoder, vocabulary, out_dir: Path, *, stages: int, z_dim: int,
                 condition_dim: int, max_len: int, **card_fields) -> Path:
    """An AttnGAN generator with its frozen DAMSM text encoder and vocabulary as a model folder
    (layout: `condgan.families.attngan.model`)."""
    from condgan.families.attngan.model import (TEXT_ENCODER_FILE, VOCABULARY_FILE,
                                                text_encoder_model)
    from condgan.model_folder import KERAS_FILE, make_card, write_model_folder

    card_fields.setdefault("warmup_caption", " ".join(vocabulary.words[1:4]))
    card = make_card(out_dir, kind="attngan", image_size=int(generator.outputs[stages - 1].shape[1]),
                     latent_dim=z_dim + condition_dim, z_dim=z_dim, condition_dim=condition_dim,
                     max_len=max_len, stages=stages, vocabulary_size=len(vocabulary), **card_fields)

    def write_files(folder: Path) -> dict:
        generator.save(folder / KERAS_FILE)
        text_encoder_model(text_encoder, max_len).save(folder / TEXT_ENCODER_FILE)
        vocabulary.save(folder / VOCABULARY_FILE)
        return {"keras": KERAS_FILE, "text_encoder": TEXT_ENCODER_FILE,
                "vocabulary": VOCABULARY_FILE}

    return write_model_folder(out_dir, card, write_files)


def phrase_separator_ids(cfg: AttnGANConfig, vocabulary) -> list[int]:
    """The vocabulary ids of the config's phrase separators (the phrase-level head's); [] for
    the other heads."""
    if cfg.d_condition != "phrases":
        return []
    if vocabulary is None:
        raise UserError("a phrase-level discriminator head needs the DAMSM's vocabulary")
    words = [w.strip() for w in cfg.d_phrase_separators.split(",") if w.strip()]
    missing = [w for w in words if vocabulary.index(w) is None]
    if not words or missing:
        raise UserError(f"d_phrase_separators={cfg.d_phrase_separators!r}: "
                        + (f"{', '.join(missing)} not in the DAMSM's vocabulary" if missing else "no words")
                        + "; name words its captions use between objects, e.g. 'and'")
    return [vocabulary.index(w) for w in words]


def _object_values(cfg: AttnGANConfig, dataset: dict | None, source: str):
    """(attribute names, {name: values} with the positions) the object-wise heads read."""
    from condgan.data.object_cells import attribute_values, parse_object_attributes

    names = parse_object_attributes(cfg.d_object_attributes)
    return names, attribute_values(dataset, names, source)


def object_labels(cfg: AttnGANConfig, split, source: str):
    """(per-cell labels (N, cells, attributes), values per attribute) of a loaded captioned split
    for the object-wise discriminator (`condgan.data.object_cells`)."""
    from condgan.data.object_cells import object_cell_labels

    names, values = _object_values(cfg, split.meta.get("dataset"), source)
    records = split.meta.get("attributes") or []
    if len(records) != len(split):
        raise UserError(f"{source}: the object-wise discriminator needs every image's objects "
                        "(captions.jsonl \"attributes\"), which this data set does not have; "
                        "set d_object_weight=0")
    labels = object_cell_labels(records, values, names, source)
    return labels, tuple(len(values[n]) for n in names)


def object_classes_of(cfg: AttnGANConfig) -> tuple:
    """Values per attribute of the object-wise heads, from the config's data set (what a run's
    checkpoint was built with), or () when the run has none."""
    import json

    if not cfg.d_object_weight:
        return ()
    side = Path(cfg.data) / "dataset.json"
    dataset = json.loads(side.read_text()) if side.is_file() else None
    names, values = _object_values(cfg, dataset, str(cfg.data))
    return tuple(len(values[n]) for n in names)


def build_models(cfg: AttnGANConfig, damsm_cfg, text_encoder, image_encoder,
                 distributed: bool = False, vocabulary=None, object_classes=None):
    """Generator, discriminators and the compiled trainer (call inside the strategy scope);
    `distributed` gives synchronized batch norms (global-batch statistics); `vocabulary` (the
    DAMSM's) is needed by the phrase-level discriminator head only; `object_classes` by the
    object-wise heads (None: read from the config's data set)."""
    import keras

    from condgan.families.attngan.trainer import AttnGANTrainer
    from condgan.models.attngan_discriminator import build_attngan_discriminators
    from condgan.models.attngan_generator import build_attngan_generator, stage_sizes

    sizes = stage_sizes(cfg.image_size, cfg.stages)
    generator = build_attngan_generator(cfg.image_size, cfg.stages, text_dim=damsm_cfg.dim,
                                        max_len=damsm_cfg.max_len, z_dim=cfg.z_dim,
                                        condition_dim=cfg.condition_dim, gf=cfg.gf,
                                        residual_blocks=cfg.residual_blocks,
                                        synchronized_bn=distributed,
                                        word_attention=cfg.word_attention,
                                        initial_word_attention=cfg.initial_word_attention)
    discriminator = build_attngan_discriminators(sizes, cfg.df, damsm_cfg.dim, distributed,
                                                 cfg.d_condition, damsm_cfg.max_len,
                                                 phrase_separator_ids(cfg, vocabulary),
                                                 cfg.d_max_phrases,
                                                 object_classes if object_classes is not None
                                                 else object_classes_of(cfg))
    trainer = AttnGANTrainer(generator, discriminator, text_encoder, image_encoder,
                             stages=cfg.stages, sizes=sizes, z_dim=cfg.z_dim,
                             condition_dim=cfg.condition_dim, damsm_lambda=cfg.damsm_lambda,
                             kl_weight=cfg.kl_weight, class_masking=damsm_cfg.class_masking,
                             gammas=(damsm_cfg.gamma1, damsm_cfg.gamma2, damsm_cfg.gamma3),
                             damsm_image_size=damsm_cfg.image_size,
                             object_weight=cfg.d_object_weight, seed=cfg.seed)
    ema = {"use_ema": True, "ema_momentum": cfg.ema_decay} if cfg.ema_decay else {}
    trainer.compile(
        d_optimizer=keras.optimizers.Adam(cfg.d_lr, beta_1=cfg.beta1, beta_2=cfg.beta2),
        g_optimizer=keras.optimizers.Adam(cfg.g_lr, beta_1=cfg.beta1, beta_2=cfg.beta2, **ema))
    return trainer


def evaluate_generator(generator, text_encoder, image_encoder, test, damsm_cfg,
                       cfg: AttnGANConfig, n: int) -> dict:
    """R-precision (AttnGAN protocol, part 1's metric) of images generated from held-out captions,
    with real held-out images scored the same way for reference."""
    from condgan.families.attngan.data import generate_with
    from condgan.families.damsm.data import caption_batch, class_filter
    from condgan.metrics.r_precision import r_precision_of_images, resize_uint8

    n = min(n, len(test.images))
    index = np.arange(n)
    tokens, lengths = caption_batch(test, index, damsm_cfg.max_len, None)
    fakes = generate_with(generator, text_encoder, tokens, lengths, RP_SEED + index, cfg.z_dim,
                          cfg.condition_dim, cfg.stages)
    fakes = resize_uint8(fakes, damsm_cfg.image_size)
    ids = class_filter(test.class_ids[index]) if n >= 100 else None
    out = {"queries": n, "protocol": "1 true + 99 mismatched captions (other attribute sets), "
           f"top-1 by cosine of DAMSM global image and sentence features; seeds {RP_SEED}+i"}
    if n >= 100:
        out["r_precision_generated"] = r_precision_of_images(
            image_encoder, text_encoder, fakes, tokens, lengths, seed=cfg.seed, class_ids=ids)["r_precision"]
        real = resize_uint8(test.images[index], damsm_cfg.image_size)
        out["r_precision_real"] = r_precision_of_images(
            image_encoder, text_encoder, real, tokens, lengths, seed=cfg.seed, class_ids=ids)["r_precision"]
    return out


FAMILY = AttnGANFamily()
