"""The GAN family: how it trains (a DCGAN-style G and D on an in-memory array set, the fused
step of `trainer.GAN`), draws the epoch's sample grid, and exports and loads its model folders
(one Keras generator file, `condgan.generator.KerasGenerator`)."""
from __future__ import annotations

from pathlib import Path

from condgan.errors import UserError
from condgan.families.base import Family, Prepared, prepare_array_set
from condgan.families.gan.config import GanConfig

WEIGHTS = ("ema", "live")


class GanFamily(Family):
    kind = "gan"
    config_class = GanConfig
    card_kinds = ("gan", "cgan")
    conditioning = "class"

    def card_kind(self, config: GanConfig) -> str:
        return "cgan" if config.conditional else "gan"

    # --- training ----------------------------------------------------------------------------
    def check(self, config: GanConfig) -> None:
        """Reject an unsupported image size or conditioning before any data is read (CIFAR-10 at
        a new size is a long resize), using the model builders' own rules."""
        from condgan.models import ARCHITECTURES
        from condgan.models.dcgan import CONDITIONINGS
        from condgan.models.gan_parts import num_blocks
        from condgan.models.resnet_gan import CONDITIONINGS as RESNET_CONDITIONINGS
        from condgan.train.trainer import PRECISIONS

        num_blocks(config.image_size)
        if config.architecture not in ARCHITECTURES:
            raise UserError(f"architecture {config.architecture!r} is not known: use one of "
                            f"{list(ARCHITECTURES)}")
        if config.architecture == "resnet":
            if config.conditional and config.conditioning not in RESNET_CONDITIONINGS:
                raise UserError(f"conditioning {config.conditioning!r} is not available with "
                                f"architecture='resnet': use one of {RESNET_CONDITIONINGS}")
            if config.d_dropout or config.minibatch_std:
                raise UserError("d_dropout and minibatch_std are DCGAN discriminator options: "
                                "set d_dropout=0 and minibatch_std=False with architecture='resnet'")
        if config.precision not in PRECISIONS:
            raise UserError(f"precision {config.precision!r} is not known: use one of {PRECISIONS}")
        if config.conditional and config.conditioning not in CONDITIONINGS:
            raise UserError(f"conditioning {config.conditioning!r} is not known: use one of {CONDITIONINGS}")
        if config.aux_classifier_weight and not config.conditional:
            raise UserError(f"aux_classifier_weight={config.aux_classifier_weight} needs class labels: "
                            "set conditional=true, or aux_classifier_weight=0 for an unconditional GAN")

    def prepare(self, config: GanConfig, data, run_dir: Path, say) -> Prepared:
        """`data`: an ArraySet (tests, notebooks) or None to load `config.data`."""
        return prepare_array_set(config, data)

    def build(self, config: GanConfig, prepared: Prepared, distributed: bool):
        import keras

        from condgan.train.trainer import dtype_policy

        with dtype_policy(config.precision):
            trainer = build_gan(config, len(prepared.extras["classes"]), distributed)
            trainer.ema_generator = keras.models.clone_model(trainer.generator)
        return trainer

    def start(self, trainer, prepared: Prepared, config: GanConfig, strategy) -> None:
        if config.d_pretrain_steps:
            _pretrain_discriminator(trainer, prepared.stream, strategy, config)

    def sampler(self, trainer, prepared: Prepared, config: GanConfig, run_dir: Path):
        from condgan.train.callbacks import EmaSampler

        return EmaSampler(trainer, trainer.ema_generator, len(prepared.extras["classes"]),
                          config.samples_per_class, config.seed)

    # --- model folders -----------------------------------------------------------------------
    def export(self, run_dir: Path, config: GanConfig, out_dir: Path, *, checkpoint=None,
               weights: str = "ema", replace: bool = False, legacy_h5: bool = True, say=print) -> Path:
        """The run's EMA generator (or G's live weights, `weights="live"`, for runs too short
        for the average to have left its random start behind) at its newest checkpoint (or
        `checkpoint`), with batch-norm statistics re-estimated, as a model folder."""
        import json

        from condgan.model_folder import card_path, carried_metrics, weights_fingerprint
        from condgan.models.standing_stats import recompute_bn_statistics
        from condgan.train.checkpoint import assign_state, load_run_checkpoint
        from condgan.train.history import trained_on

        if weights not in WEIGHTS:
            raise UserError(f"weights {weights!r} is not known: use one of {WEIGHTS}")
        dataset = json.loads((run_dir / "dataset.json").read_text())
        step, state = load_run_checkpoint(run_dir, checkpoint)
        classes = dataset["classes"] if config.conditional else []
        generator = build_networks(config, len(classes), generator_only=True)
        prefix = "ema" if weights == "ema" else "g"
        assign_state(prefix, generator.variables, state)
        recompute_bn_statistics(generator, config.latent_dim, len(classes), config.seed)
        identity = {"run_dir": card_path(run_dir), "step": int(state["progress"][0]),
                    "weights": weights, "generator_fingerprint": weights_fingerprint(state, prefix)}
        metrics = carried_metrics(out_dir, identity, say) if replace else {}
        return save_generator(generator, out_dir, latent_dim=config.latent_dim,
                              classes=classes or None, training=config.to_json(), dataset=dataset,
                              images_seen=int(state["progress"][1]),
                              wall_time_s=round(float(state["wall_time_s"]), 1), metrics=metrics,
                              **trained_on(run_dir, identity["step"]),
                              legacy_h5=legacy_h5, **identity)

    def load(self, path, card):
        from condgan.generator import load_keras_generator

        return load_keras_generator(path, card)


def save_generator(generator, out_dir: Path, *, latent_dim: int, classes=None,
                   legacy_h5: bool = True, kind: str | None = None, extra_files=None,
                   **card_fields) -> Path:
    """A Keras generator taking [noise] (or [noise, label] with `classes`) as a model folder:
    `generator.keras`, `generator.h5` for Keras-2-era code, and the card (kind gan or cgan,
    unless a family whose model is such a generator names its own).  `extra_files`: role ->
    (file name, Keras model) saved beside it (a VAE's encoder)."""
    from condgan.model_folder import H5_FILE, KERAS_FILE, make_card, write_model_folder

    card = make_card(out_dir, kind=kind or ("cgan" if classes else "gan"),
                     image_size=int(generator.outputs[0].shape[1]), latent_dim=latent_dim,
                     channels=int(generator.outputs[0].shape[-1]), classes=classes,
                     inputs=[t.name for t in generator.inputs], **card_fields)

    def write_files(folder: Path) -> dict:
        generator.save(folder / KERAS_FILE)
        files = {"keras": KERAS_FILE}
        for role, (name, model) in (extra_files or {}).items():
            model.save(folder / name)
            files[role] = name
        if legacy_h5:
            generator.save(folder / H5_FILE)
            files["h5"] = H5_FILE
        return files

    return write_model_folder(out_dir, card, write_files)


def build_networks(config: GanConfig, num_classes: int, distributed: bool = False,
                   generator_only: bool = False):
    """(G, D) of the config's architecture, or G alone (`generator_only`: the export's)."""
    from condgan.models import ARCHITECTURES

    build_generator, build_discriminator = ARCHITECTURES[config.architecture]
    conditioning = config.conditioning if config.conditional else "none"
    classes = num_classes if config.conditional else 0
    generator = build_generator(config.image_size, config.latent_dim, config.g_channels, classes,
                                conditioning, synchronized_bn=distributed)
    if generator_only:
        return generator
    options = {"dropout": config.d_dropout} if config.d_dropout else {}
    if config.minibatch_std:
        options["minibatch_std"] = True
    discriminator = build_discriminator(config.image_size, config.d_channels, classes, conditioning,
                                        spectral_norm=config.spectral_norm,
                                        aux_classifier=config.aux_classifier_weight > 0, **options)
    return generator, discriminator


def build_gan(config: GanConfig, num_classes: int, distributed: bool = False):
    """Generator, discriminator, the GAN trainer and its compiled optimizers (call in scope)."""
    import keras

    from condgan.families.gan.trainer import GAN
    from condgan.train.ema import WarmupEmaAdam

    generator, discriminator = build_networks(config, num_classes, distributed)
    gan = GAN(generator, discriminator, latent_dim=config.latent_dim, conditional=config.conditional,
              seed=config.seed, n_critic=config.n_critic, diffaugment=config.diffaugment,
              aux_classifier_weight=config.aux_classifier_weight, d_input_noise=config.d_input_noise,
              d_input_noise_steps=config.d_input_noise_steps)
    ema = {"use_ema": True, "ema_momentum": config.ema_decay} if config.ema_decay else {}
    gan.compile(
        d_optimizer=keras.optimizers.Adam(config.d_lr, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=WarmupEmaAdam(config.g_lr, beta_1=config.beta1, beta_2=config.beta2, **ema),
        loss=config.loss, steps_per_execution=config.steps_per_execution)
    return gan


def _pretrain_discriminator(gan, stream, strategy, config: GanConfig) -> None:
    """D-only steps against the untrained G before the adversarial loop (the seed project's
    pre-training), on a stream of its own so the main data order is unchanged."""
    from condgan.train.callbacks import keras_verbosity

    gan.d_only = True
    gan.make_train_function(force=True)
    stream_seed, stream.seed = stream.seed, config.seed + 1_000_003
    try:
        epochs = -(-config.d_pretrain_steps // stream.steps_per_epoch)
        for epoch in range(epochs):
            steps = min(stream.steps_per_epoch, config.d_pretrain_steps - epoch * stream.steps_per_epoch)
            gan.fit(stream.distributed(strategy, epoch), steps_per_epoch=steps, epochs=1,
                    verbose=keras_verbosity(config.verbose), shuffle=False)
    finally:
        stream.seed = stream_seed
        gan.d_only = False
        gan.make_train_function(force=True)


FAMILY = GanFamily()
