"""The StyleGAN family (StyleGAN2-lite, kind `stylegan`): how it trains (the networks of
`condgan.models.stylegan` on an in-memory array set, the step of `trainer.StyleGAN`), draws the
epoch's sample grid from the EMA generator, and exports and loads its model folders
(`model.py`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.families.base import Family, Prepared, prepare_array_set
from condgan.families.stylegan.config import StyleganConfig
from condgan.families.stylegan.model import FILES, KIND, check_truncation

WEIGHTS = ("ema", "live")


class StyleganFamily(Family):
    kind = KIND
    config_class = StyleganConfig
    card_kinds = (KIND,)
    conditioning = "class"   # when the config says conditional=True; else none

    # --- training ----------------------------------------------------------------------------
    def check(self, config: StyleganConfig) -> None:
        """Refuse a config that cannot train, before any data is read, naming the setting."""
        from condgan.models.stylegan import check_channels

        check_channels(config.channels, config.image_size)   # also checks image_size
        for field in ("latent_dim", "w_dim", "mapping_layers", "r1_interval", "batch_size"):
            if getattr(config, field) < 1:
                raise UserError(f"{field}={getattr(config, field)} must be at least 1")
        if not 0 < config.mapping_lr_multiplier <= 1:
            raise UserError(f"mapping_lr_multiplier={config.mapping_lr_multiplier} must lie in "
                            "(0, 1] (StyleGAN's 0.01: the mapping network learns 100x slower)")
        for field in ("style_mixing", "w_avg_beta"):
            if not 0 <= getattr(config, field) <= 1:
                raise UserError(f"{field}={getattr(config, field)} must lie in [0, 1] "
                                f"(StyleGAN2's: style_mixing=0.9, w_avg_beta=0.995)")
        check_truncation(config.truncation, "the config's truncation")
        for field in ("r1_gamma", "d_input_noise", "d_input_noise_steps", "ema_decay"):
            if getattr(config, field) < 0:
                raise UserError(f"{field}={getattr(config, field)} must be >= 0")
        if config.ema_decay >= 1:
            raise UserError(f"ema_decay={config.ema_decay} must be below 1 (0 disables the EMA)")
        if config.strategy in ("mirrored", "multiworker") and config.minibatch_std:
            # A tf.distribute replica's D sees its own share of the batch, so the batch spread
            # it measures (and R1 through it) would not be one device's.
            raise UserError(f"strategy={config.strategy!r} with minibatch_std=true: the "
                            "minibatch channel would see each replica's share, not the global "
                            "batch; set minibatch_std=false, or train on one device or under "
                            "JAX's data_parallel")

    def prepare(self, config: StyleganConfig, data, run_dir: Path, say) -> Prepared:
        """`data`: an ArraySet (tests, notebooks) or None to load `config.data`."""
        return prepare_array_set(config, data)

    def build(self, config: StyleganConfig, prepared: Prepared, distributed: bool):
        trainer = build_stylegan(config, len(prepared.extras["classes"]))
        # The EMA generator's networks, for the sample grid (not the trainer's: not trained).
        trainer.ema_networks = build_networks(config, len(prepared.extras["classes"]),
                                              generator_only=True)
        return trainer

    def sampler(self, trainer, prepared: Prepared, config: StyleganConfig, run_dir: Path):
        return EmaGridSampler(trainer, len(prepared.extras["classes"]), config)

    # --- model folders -----------------------------------------------------------------------
    def export(self, run_dir: Path, config: StyleganConfig, out_dir: Path, *, checkpoint=None,
               weights: str = "ema", replace: bool = False, legacy_h5: bool = True, say=print) -> Path:
        """The run's EMA generator (or G's live weights, `weights="live"`), with the run's
        average w, at its newest checkpoint (or `checkpoint`), as a model folder (`model.py`
        describes it).  No legacy .h5: the networks' custom layers have no Keras 2 form."""
        import json

        from condgan.model_folder import card_path, carried_metrics, weights_fingerprint
        from condgan.models.stylegan import fixed_pixel_noise, sampling_models
        from condgan.train.checkpoint import assign_state, load_run_checkpoint
        from condgan.train.history import trained_on

        if weights not in WEIGHTS:
            raise UserError(f"weights {weights!r} is not known: use one of {WEIGHTS}")
        dataset = json.loads((run_dir / "dataset.json").read_text())
        _, state = load_run_checkpoint(run_dir, checkpoint)
        classes = dataset["classes"] if config.conditional else []
        networks = build_networks(config, len(classes), generator_only=True)
        prefix = "ema" if weights == "ema" else "g"
        assign_state(prefix, networks.generator.variables, state)
        models = sampling_models(networks, state["w_avg/0000"],
                                 fixed_pixel_noise(networks.noise_size, config.seed))
        step, images_seen = (int(v) for v in state["progress"])
        identity = {"run_dir": card_path(run_dir), "step": step, "weights": weights,
                    "generator_fingerprint": weights_fingerprint(state, prefix)}
        metrics = carried_metrics(out_dir, identity, say) if replace else {}
        return save_stylegan(models, out_dir, classes=classes or None, w_dim=networks.w_dim,
                             num_ws=networks.num_ws, mapping_layers=config.mapping_layers,
                             truncation=config.truncation, training=config.to_json(),
                             dataset=dataset, images_seen=images_seen,
                             wall_time_s=round(float(state["wall_time_s"]), 1), metrics=metrics,
                             **trained_on(run_dir, step), **identity)

    def load(self, path, card):
        from condgan.families.stylegan.model import load_stylegan

        return load_stylegan(path, card)


def save_stylegan(models, out_dir: Path, *, classes=None, **card_fields) -> Path:
    """`condgan.models.stylegan.SamplingModels` as a model folder (layout: `model.py`)."""
    from condgan.model_folder import make_card, write_model_folder

    image = models.generator.outputs[0]
    card = make_card(out_dir, kind=KIND, image_size=int(image.shape[1]),
                     latent_dim=int(models.generator.inputs[0].shape[1]),
                     channels=int(image.shape[-1]), classes=classes,
                     inputs=[t.name for t in models.generator.inputs], **card_fields)

    def write_files(folder: Path) -> dict:
        for role, name in FILES.items():
            getattr(models, "generator" if role == "keras" else role).save(folder / name)
        return dict(FILES)

    return write_model_folder(out_dir, card, write_files)


def build_networks(config: StyleganConfig, num_classes: int, generator_only: bool = False):
    """`StyleNetworks` (mapping, synthesis and G), and D unless `generator_only`."""
    from condgan.models.stylegan import build_discriminator, build_style_generator

    classes = num_classes if config.conditional else 0
    networks = build_style_generator(config.image_size, config.latent_dim, config.w_dim,
                                     config.mapping_layers, config.channels, classes,
                                     config.mapping_lr_multiplier)
    if generator_only:
        return networks
    return networks, build_discriminator(config.image_size, config.channels, classes,
                                         config.minibatch_std)


def build_stylegan(config: StyleganConfig, num_classes: int):
    """The networks, the trainer and its compiled optimizers (call inside the strategy scope)."""
    import keras

    from condgan.families.stylegan.trainer import StyleGAN
    from condgan.train.ema import WarmupEmaAdam

    if config.conditional and num_classes < 2:
        raise UserError(f"conditional=true needs at least 2 classes, the data has {num_classes}: "
                        "set conditional=false for one class")
    networks, discriminator = build_networks(config, num_classes)
    trainer = StyleGAN(networks, discriminator, latent_dim=config.latent_dim,
                       conditional=config.conditional, seed=config.seed,
                       style_mixing=config.style_mixing, w_avg_beta=config.w_avg_beta,
                       r1_gamma=config.r1_gamma, r1_interval=config.r1_interval,
                       diffaugment=config.diffaugment, d_input_noise=config.d_input_noise,
                       d_input_noise_steps=config.d_input_noise_steps)
    ema = {"use_ema": True, "ema_momentum": config.ema_decay} if config.ema_decay else {}
    trainer.compile(
        d_optimizer=keras.optimizers.Adam(config.d_lr, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=WarmupEmaAdam(config.g_lr, beta_1=config.beta1, beta_2=config.beta2, **ema),
        steps_per_execution=config.steps_per_execution)
    return trainer


class EmaGridSampler:
    """The epoch's grid from the EMA generator as the export will draw it (the run's average w,
    the config's truncation, fixed per-pixel noise): one row per class, or a square grid; the
    same z's all run long, so grids compare across epochs."""

    def __init__(self, trainer, num_classes: int, config: StyleganConfig):
        from condgan.models.stylegan import fixed_pixel_noise, sampling_models

        self.trainer = trainer
        networks = trainer.ema_networks
        self.models = sampling_models(networks, np.zeros(networks.w_dim, np.float32),
                                      fixed_pixel_noise(networks.noise_size, config.seed))
        rows = num_classes if config.conditional else config.samples_per_class
        self.columns = config.samples_per_class
        count = rows * self.columns
        self.noise = np.random.default_rng([config.seed, 7]).standard_normal(
            (count, config.latent_dim)).astype(np.float32)
        psi = np.full((count, 1), config.truncation, np.float32)
        labels = np.repeat(np.arange(rows), self.columns).astype(np.int32)
        self.inputs = [self.noise, labels, psi] if config.conditional else [self.noise, psi]

    def __call__(self) -> np.ndarray:
        from condgan.basics import to_uint8
        from condgan.train.state import ema_weights

        trainer = self.trainer
        for variable, value in zip(trainer.ema_networks.generator.variables,
                                   ema_weights(trainer.generator, trainer.g_optimizer)):
            variable.assign(value)
        self.models.truncate.w_avg.assign(np.asarray(trainer.w_avg))
        return to_uint8(np.asarray(self.models.generator(self.inputs, training=False)))


FAMILY = StyleganFamily()
