"""The conditional VAE family: trains on an in-memory array set (the GAN family's data and
stream), measures the held-out ELBO every epoch, draws the epoch's grid from the prior, and
exports the decoder as the model's generator beside its encoder (`model.py` loads both)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.errors import UserError
from condgan.families.base import Family, Prepared, prepare_array_set
from condgan.families.cvae.config import CvaeConfig

ENCODER_FILE = "encoder.keras"
DECODER_CONDITIONINGS = ("concat", "projection")


class CvaeFamily(Family):
    kind = "cvae"
    config_class = CvaeConfig
    card_kinds = ("cvae",)
    conditioning = "class"

    def check(self, config: CvaeConfig) -> None:
        from condgan.models.gan_parts import num_blocks

        num_blocks(config.image_size)
        if config.decoder_conditioning not in DECODER_CONDITIONINGS:
            raise UserError(f"decoder_conditioning {config.decoder_conditioning!r} is not known: "
                            f"use one of {DECODER_CONDITIONINGS}")
        if config.kl_weight < 0 or config.kl_warmup_steps < 0:
            raise UserError("kl_weight and kl_warmup_steps must be at least 0")

    def prepare(self, config: CvaeConfig, data, run_dir: Path, say) -> Prepared:
        """`data`: an ArraySet (tests, notebooks) or None to load `config.data`; the held-out
        split is the data's test split when it has one."""
        from condgan.data.sources import has_test_split, load_training_set

        prepared = prepare_array_set(config, data)
        held_out = None
        if data is None:
            if has_test_split(config.data):
                held_out = load_training_set(config.data, config.image_size, config.classes, "test")
            else:
                say(f"{config.data}: no test split, so no held-out ELBO in the history")
        prepared.extras["held_out"] = held_out
        return prepared

    def build(self, config: CvaeConfig, prepared: Prepared, distributed: bool):
        return build_vae(config, len(prepared.extras["classes"]), distributed)

    def sampler(self, trainer, prepared: Prepared, config: CvaeConfig, run_dir: Path):
        return PriorSampler(trainer, len(prepared.extras["classes"]), config.samples_per_class,
                            config.seed)

    def validation(self, trainer, prepared: Prepared, config: CvaeConfig):
        held_out = prepared.extras.get("held_out")
        if held_out is None or not config.held_out_images:
            return None
        count = min(config.held_out_images, len(held_out))
        images = held_out.x[:count].astype(np.float32) / 127.5 - 1.0
        labels = held_out.y[:count].astype(np.int32)

        def measure() -> dict:
            from condgan.families.cvae.objective import bits_per_dim

            neg_elbo = held_out_negative_elbo(trainer, images, labels, config.seed)
            return {"val_neg_elbo": round(neg_elbo, 2),
                    "val_bits_per_dim": round(float(bits_per_dim(neg_elbo, images[0].size)), 4)}

        return measure

    def export(self, run_dir: Path, config: CvaeConfig, out_dir: Path, *, checkpoint=None,
               weights: str = "ema", replace: bool = False, legacy_h5: bool = True, say=print) -> Path:
        """The decoder (as `generator.keras`, the generator contract's file) and the encoder at
        the run's newest checkpoint (or `checkpoint`), decoder batch norms re-estimated from the
        prior, with the decoder's sigma in the card.  A VAE keeps no EMA: `weights` is ignored."""
        import json

        from condgan.families.gan.family import save_generator
        from condgan.model_folder import card_path, carried_metrics, weights_fingerprint
        from condgan.models.standing_stats import recompute_bn_statistics
        from condgan.train.checkpoint import assign_state, load_run_checkpoint
        from condgan.train.history import trained_on

        dataset = json.loads((run_dir / "dataset.json").read_text())
        step, state = load_run_checkpoint(run_dir, checkpoint)
        classes = dataset["classes"] if config.conditional else []
        encoder, decoder = build_networks(config, len(classes))
        assign_state("encoder", encoder.variables, state)
        assign_state("decoder", decoder.variables, state)
        recompute_bn_statistics(decoder, config.latent_dim, len(classes), config.seed)
        identity = {"run_dir": card_path(run_dir), "step": int(state["progress"][0]),
                    "weights": "live", "generator_fingerprint": weights_fingerprint(state, "decoder")}
        metrics = carried_metrics(out_dir, identity, say) if replace else {}
        sigma = float(np.exp(np.asarray(state["log_sigma/0000"])))
        out = save_generator(decoder, out_dir, latent_dim=config.latent_dim, classes=classes or None,
                             legacy_h5=False, kind="cvae", training=config.to_json(),
                             dataset=dataset, images_seen=int(state["progress"][1]),
                             wall_time_s=round(float(state["wall_time_s"]), 1), metrics=metrics,
                             decoder_sigma=sigma, extra_files={"encoder": (ENCODER_FILE, encoder)},
                             **trained_on(run_dir, identity["step"]), **identity)
        return out

    def load(self, path, card):
        from condgan.families.cvae.model import load_cvae

        return load_cvae(path, card)


def build_networks(config: CvaeConfig, num_classes: int, distributed: bool = False):
    """(encoder, decoder); the decoder is the DCGAN generator."""
    from condgan.models import build_generator
    from condgan.models.cvae_encoder import build_encoder

    classes = num_classes if config.conditional else 0
    encoder = build_encoder(config.image_size, config.latent_dim, config.encoder_channels, classes)
    decoder = build_generator(config.image_size, config.latent_dim, config.decoder_channels, classes,
                              config.decoder_conditioning if classes else "none",
                              synchronized_bn=distributed, name="decoder")
    return encoder, decoder


def build_vae(config: CvaeConfig, num_classes: int, distributed: bool = False):
    """The trainer and its compiled optimizer (call inside the strategy scope)."""
    import keras

    from condgan.families.cvae.trainer import ConditionalVAE

    encoder, decoder = build_networks(config, num_classes, distributed)
    vae = ConditionalVAE(encoder, decoder, latent_dim=config.latent_dim,
                         conditional=config.conditional and num_classes > 0, seed=config.seed,
                         kl_weight=config.kl_weight, kl_warmup_steps=config.kl_warmup_steps)
    vae.compile(keras.optimizers.Adam(config.lr, beta_1=config.beta1, beta_2=config.beta2),
                steps_per_execution=config.steps_per_execution)
    return vae


def held_out_negative_elbo(trainer, images: np.ndarray, labels: np.ndarray, seed: int,
                           batch: int = 250) -> float:
    """Mean -ELBO (nats per image) of held-out images, one posterior sample each, networks in
    inference mode."""
    from keras import ops

    from condgan.families.cvae.objective import kl_to_prior, reconstruction_nll
    from condgan.models.cvae_encoder import safe_log_variance

    rng = np.random.default_rng([seed, 31])
    total = 0.0
    for start in range(0, len(images), batch):
        x, y = images[start:start + batch], labels[start:start + batch]
        inputs = [x, y] if trainer.conditional else x
        mean, log_variance = trainer.encoder(inputs, training=False)
        log_variance = safe_log_variance(log_variance)
        eps = rng.standard_normal(tuple(ops.shape(mean))).astype(np.float32)
        # numpy between the two networks: Keras refuses a list mixing JAX arrays and numpy
        z = ops.convert_to_numpy(mean + ops.exp(0.5 * log_variance) * eps)
        decoded = trainer.decoder([z, y] if trainer.conditional else z, training=False)
        per_image = (reconstruction_nll(x, decoded, trainer.log_sigma)
                     + kl_to_prior(mean, log_variance))
        total += float(ops.sum(per_image))
    return total / len(images)


class PriorSampler:
    """The epoch's grid: the decoder on fixed prior noise, one row per class (or a square grid
    for an unconditional VAE), batch norms with their running statistics."""

    def __init__(self, vae, num_classes: int, per_class: int, seed: int):
        self.vae = vae
        rows = num_classes if vae.conditional else per_class
        self.columns = per_class
        self.noise = np.random.default_rng([seed, 7]).standard_normal(
            (rows * per_class, vae.latent_dim)).astype(np.float32)
        self.labels = np.repeat(np.arange(rows), per_class).astype(np.int32)

    def __call__(self) -> np.ndarray:
        from condgan.basics import to_uint8

        inputs = [self.noise, self.labels] if self.vae.conditional else self.noise
        return to_uint8(np.asarray(self.vae.decoder(inputs, training=False)))


FAMILY = CvaeFamily()
