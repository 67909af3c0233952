"""The GAN-INT-CLS family (Reed et al. 2016): how it trains on a captioned set against a frozen
sentence encoder (a DAMSM run or a local sentence-encoder folder, `text_source.py`), draws the
epoch's sample grid (`data.py`), and exports and loads model folders (`model.py`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.families.base import SCHEDULE_FIELDS, Family, Prepared
from condgan.families.intcls.config import IntClsConfig
from condgan.families.intcls.model import KIND

# "ema": the EMA of G's weights when the run keeps one (`ema_decay` > 0); a run without one
# (Reed et al. train none, the default) gives G's own weights for both.
WEIGHTS = ("ema", "live")


class IntClsFamily(Family):
    kind = KIND
    config_class = IntClsConfig
    card_kinds = (KIND,)
    conditioning = "caption"
    resumable = SCHEDULE_FIELDS + ("text_encoder",)

    # --- training ----------------------------------------------------------------------------
    def check(self, config: IntClsConfig) -> None:
        from condgan.families.intcls.losses import get_losses
        from condgan.models.gan_parts import num_blocks

        num_blocks(config.image_size)
        get_losses(config.loss)
        if not 0.0 <= config.ema_decay < 1.0:
            raise UserError(f"ema_decay={config.ema_decay} must lie in [0, 1): 0 keeps no EMA of "
                            "G, 0.999 is the GAN family's")
        if not 0.0 <= config.interpolation_beta <= 1.0:
            raise UserError(f"interpolation_beta={config.interpolation_beta} must lie in [0, 1] "
                            "(the paper's 0.5 mixes two captions equally)")
        if config.interpolation_weight < 0:
            raise UserError(f"interpolation_weight={config.interpolation_weight} must be >= 0")
        if config.d_input_noise < 0 or config.d_input_noise_steps < 0:
            raise UserError(f"d_input_noise={config.d_input_noise} and d_input_noise_steps="
                            f"{config.d_input_noise_steps} must be >= 0 (0.3 and a third of the "
                            "run's steps keep D from winning at once on Shapes)")
        for field in ("latent_dim", "projected_dim", "g_channels", "d_channels"):
            if getattr(config, field) < 1:
                raise UserError(f"{field}={getattr(config, field)} must be at least 1")
        if not str(config.text_encoder).strip():
            raise UserError("a GAN-INT-CLS run needs a sentence encoder: set text_encoder="
                            "runs/damsm_NAME (a DAMSM run) or a sentence-encoder folder")

    def prepare(self, config: IntClsConfig, data, run_dir: Path, say) -> Prepared:
        """`data`: None (the config's `data`) or a captioned folder.  Every training caption is
        embedded once with the frozen encoder."""
        from condgan.data.caption_sets import load_caption_split
        from condgan.data.captioned import captions_fingerprint
        from condgan.families.intcls.data import IntClsStream, check_classes, embed_captions
        from condgan.families.intcls.text_source import run_sentence_encoder

        data_path = Path(data if data is not None else config.data)
        encoder, kept = run_sentence_encoder(run_dir, config.text_encoder)
        train = load_caption_split(data_path, "train", config.image_size)
        if config.max_train_images:
            train = train.subset(np.arange(min(config.max_train_images, len(train))))
        test = load_caption_split(data_path, "test", config.image_size)
        check_classes(train.class_ids, str(data_path))
        captions = sum(len(c) for c in train.captions)
        say(f"GAN-INT-CLS: embedding {captions:,} captions of {len(train):,} training images "
            f"with {encoder.description} ({encoder.dim} numbers each)")
        stream = IntClsStream(embed_captions(train, encoder), config.batch_size, config.seed)
        record = {"data": str(data_path), "fingerprint": captions_fingerprint(data_path),
                  "num_images": len(train), "num_test_images": len(test),
                  "num_classes": int(len(np.unique(train.class_ids))),
                  "text_encoder": str(config.text_encoder), "text_dim": encoder.dim,
                  "vocabulary_size": len(encoder.vocabulary)}
        return Prepared(stream, record, {"encoder": encoder, "encoder_kept": kept, "test": test})

    def build(self, config: IntClsConfig, prepared: Prepared, distributed: bool):
        from condgan.families.intcls.data import standing_sentences

        text_dim = prepared.extras["encoder"].dim
        trainer = build_trainer(config, text_dim, distributed)
        if config.ema_decay:   # built after G and D, which start as a run without EMA does
            trainer.ema_generator = build_generator(config, text_dim)
            trainer.standing_sentences = standing_sentences(prepared.stream.data.embeddings,
                                                            config.seed)
        return trainer

    def sampler(self, trainer, prepared: Prepared, config: IntClsConfig, run_dir: Path):
        from condgan.families.intcls.data import CaptionGridSampler
        from condgan.families.intcls.text_source import keep_sentence_encoder

        e = prepared.extras
        if not e["encoder_kept"]:   # the run directory exists from here on
            keep_sentence_encoder(run_dir, e["encoder"])
        return CaptionGridSampler(trainer, e["test"], e["encoder"], config.sample_captions,
                                  config.samples_per_caption, run_dir)

    # --- model folders -----------------------------------------------------------------------
    def export(self, run_dir: Path, config: IntClsConfig, out_dir: Path, *, checkpoint=None,
               weights: str = "ema", replace: bool = False, legacy_h5: bool = True, say=print) -> Path:
        """G at the run's newest checkpoint (or `checkpoint`), with the sentence encoder it was
        trained with, as a model folder: the EMA of its weights (with standing batch-norm
        statistics) when the run keeps one and `weights="ema"`, else G's own."""
        import json

        from condgan.data.captioned import captions_fingerprint, first_known_caption
        from condgan.families.intcls.data import standing_statistics
        from condgan.families.intcls.text_source import is_damsm_run, run_sentence_encoder
        from condgan.families.intcls.trainer import STANDING
        from condgan.model_folder import card_path, carried_metrics, weights_fingerprint
        from condgan.train.checkpoint import assign_state, load_run_checkpoint
        from condgan.train.history import trained_on

        if weights not in WEIGHTS:
            raise UserError(f"weights {weights!r} is not known: use one of {WEIGHTS}")
        _, state = load_run_checkpoint(run_dir, checkpoint)
        encoder, _ = run_sentence_encoder(run_dir, config.text_encoder)
        generator = build_generator(config, encoder.dim)
        # Without an EMA the checkpoint's "ema" arrays are G's own weights: the card says "live"
        # and fingerprints the "g" arrays whichever was asked, the same weights either way.
        prefix = "ema" if weights == "ema" and config.ema_decay else "g"
        assign_state(prefix, generator.variables, state)
        if prefix == "ema":
            standing_statistics(generator, state[f"{STANDING}/0000"], config.latent_dim,
                                config.seed)
        step, images_seen = (int(v) for v in state["progress"])
        identity = {"run_dir": card_path(run_dir), "step": step,
                    "weights": "ema" if prefix == "ema" else "live",
                    "generator_fingerprint": weights_fingerprint(state, prefix)}
        metrics = carried_metrics(out_dir, identity, say) if replace else {}
        dataset_file = run_dir / "dataset.json"
        record = json.loads(dataset_file.read_text()) if dataset_file.is_file() else {}
        dataset = {"data": card_path(config.data),
                   "data_fingerprint": record.get("fingerprint") or
                   captions_fingerprint(Path(config.data)),
                   "text_encoder": card_path(config.text_encoder)}
        if is_damsm_run(config.text_encoder):
            dataset["damsm"] = card_path(config.text_encoder)   # caption evaluation's judge
        return save_intcls(generator, encoder, out_dir, training=config.to_json(), dataset=dataset,
                           images_seen=images_seen, wall_time_s=float(state["wall_time_s"]),
                           metrics=metrics, **trained_on(run_dir, step),
                           example_caption=first_known_caption(Path(config.data), encoder.vocabulary),
                           **identity)

    def load(self, path, card):
        from condgan.families.intcls.model import load_intcls

        return load_intcls(path, card)


def save_intcls(generator, encoder, out_dir: Path, **card_fields) -> Path:
    """A sentence-conditioned generator with its sentence encoder as a model folder (layout:
    `condgan.families.intcls.model`)."""
    from condgan.model_folder import KERAS_FILE, make_card, write_model_folder

    vocabulary = encoder.vocabulary
    card_fields.setdefault("warmup_caption", " ".join(vocabulary.words[1:4]))
    card = make_card(out_dir, kind=KIND, image_size=int(generator.outputs[0].shape[1]),
                     latent_dim=int(generator.inputs[0].shape[1]), text_dim=encoder.dim,
                     max_len=encoder.max_len, vocabulary_size=len(vocabulary), **card_fields)

    def write_files(folder: Path) -> dict:
        generator.save(folder / KERAS_FILE)
        return {"keras": KERAS_FILE, **encoder.save(folder)}

    return write_model_folder(out_dir, card, write_files)


def build_generator(config: IntClsConfig, text_dim: int, distributed: bool = False):
    """The config's G (`distributed`: synchronized batch norms, global-batch statistics)."""
    from condgan.models.text_dcgan import build_text_generator

    return build_text_generator(config.image_size, config.latent_dim, text_dim,
                                config.projected_dim, config.g_channels,
                                synchronized_bn=distributed)


def build_trainer(config: IntClsConfig, text_dim: int, distributed: bool = False):
    """G, D and the compiled trainer (call inside the strategy scope); `distributed` gives
    synchronized batch norms (global-batch statistics)."""
    import keras

    from condgan.families.intcls.trainer import IntClsTrainer
    from condgan.models.text_dcgan import build_text_discriminator
    from condgan.train.ema import WarmupEmaAdam

    generator = build_generator(config, text_dim, distributed)
    discriminator = build_text_discriminator(config.image_size, text_dim, config.projected_dim,
                                             config.d_channels, synchronized_bn=distributed,
                                             spectral_norm=config.spectral_norm,
                                             minibatch_std=config.minibatch_std)
    trainer = IntClsTrainer(generator, discriminator, latent_dim=config.latent_dim,
                            matching_aware=config.cls,
                            interpolation=config.interpolation,
                            interpolation_beta=config.interpolation_beta,
                            interpolation_weight=config.interpolation_weight,
                            d_input_noise=config.d_input_noise,
                            d_input_noise_steps=config.d_input_noise_steps, loss=config.loss,
                            seed=config.seed)
    adam = {"beta_1": config.beta1, "beta_2": config.beta2}
    d_optimizer = keras.optimizers.Adam(config.d_lr, **adam)
    # With an EMA, G's optimizer keeps the average (the GAN family's); without one, plain Adam,
    # so a run without EMA has the optimizer and checkpoint it always had.
    g_optimizer = (WarmupEmaAdam(config.g_lr, use_ema=True, ema_momentum=config.ema_decay, **adam)
                   if config.ema_decay else keras.optimizers.Adam(config.g_lr, **adam))
    trainer.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
    return trainer


FAMILY = IntClsFamily()
