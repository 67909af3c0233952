"""`train(config, run_dir, resume)`: the whole training run in one function.

The run directory holds the resolved config (`config.json`), `history.jsonl`, checkpoints,
sample grids and the loss plot.  A run resumes from its newest checkpoint, which may be
mid-epoch: the data stream is rebuilt from (seed, epoch) and fast-forwarded to the saved step,
and the random stream is keyed by the optimizer step, so the resumed run computes the same
updates as one that was never stopped.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from condgan.config import TrainConfig, config_from_json
from condgan.data.arrays import write_json_atomic
from condgan.errors import UserError

# What a resumed run may change: its schedule and where the (same) data lives, not the recipe.
RESUMABLE_FIELDS = ("epochs", "max_minutes", "checkpoint_every_steps", "sample_every_epochs",
                    "verbose", "tensorboard", "data", "strategy")


def saved_run_config(run_dir: Path) -> TrainConfig:
    config_file = Path(run_dir) / "config.json"
    if not config_file.is_file():
        raise UserError(f"cannot resume: {str(run_dir)!r} has no config.json; start it without --resume")
    return config_from_json(json.loads(config_file.read_text()))


def resolve_run_config(run_dir: Path, config: TrainConfig | None, resume: bool) -> TrainConfig:
    """The config to train with: for --resume the run's own, with only RESUMABLE_FIELDS taken
    from `config`; else `config` for a new run dir.  Only checks, writes nothing: a start that
    fails on bad input leaves no half-made run behind."""
    if resume:
        saved = saved_run_config(run_dir)
        if config is None:
            return saved
        changed = sorted(k for k, v in config.to_json().items()
                         if v != getattr(saved, k) and k not in RESUMABLE_FIELDS)
        if changed:
            raise UserError(f"--resume cannot change {changed}: the run was trained with "
                            f"{ {k: getattr(saved, k) for k in changed} }; only {list(RESUMABLE_FIELDS)} "
                            "may change when resuming (start a new run to change the recipe)")
        return config
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"run directory {str(run_dir)!r} already exists: pass --resume to continue "
                        "it, or choose another --name / --run-dir")
    return config


def check_model_config(config: TrainConfig) -> None:
    """Reject an unsupported image size or conditioning before any data is read (CIFAR-10 at
    a new size is a long resize), using the model builders' own rules."""
    from condgan.models.dcgan import CONDITIONINGS, _num_blocks

    _num_blocks(config.image_size)
    if config.conditional and config.conditioning not in CONDITIONINGS:
        raise UserError(f"conditioning {config.conditioning!r} is not known: use one of {CONDITIONINGS}")
    if config.aux_classifier_weight and not config.conditional:
        raise UserError(f"aux_classifier_weight={config.aux_classifier_weight} needs class labels: "
                        "set conditional=true, or aux_classifier_weight=0 for an unconditional GAN")


def build_gan(config: TrainConfig, num_classes: int, distributed: bool = False):
    """Generator, discriminator, the GAN model and its compiled optimizers (call in scope)."""
    import keras

    from condgan.models import build_discriminator, build_generator
    from condgan.train.ema import WarmupEmaAdam
    from condgan.train.tf_gan import GAN

    conditioning = config.conditioning if config.conditional else "none"
    classes = num_classes if config.conditional else 0
    generator = build_generator(config.image_size, config.latent_dim, config.g_channels, classes,
                                conditioning, synchronized_bn=distributed)
    discriminator = build_discriminator(config.image_size, config.d_channels, classes, conditioning,
                                        spectral_norm=config.spectral_norm, dropout=config.d_dropout,
                                        aux_classifier=config.aux_classifier_weight > 0)
    gan = GAN(generator, discriminator, latent_dim=config.latent_dim, conditional=config.conditional,
              seed=config.seed, n_critic=config.n_critic, diffaugment=config.diffaugment,
              aux_classifier_weight=config.aux_classifier_weight)
    ema = {"use_ema": True, "ema_momentum": config.ema_decay} if config.ema_decay else {}
    gan.compile(
        d_optimizer=keras.optimizers.Adam(config.d_lr, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=WarmupEmaAdam(config.g_lr, beta_1=config.beta1, beta_2=config.beta2, **ema),
        loss=config.loss)
    return gan


def train(config: TrainConfig | None, run_dir: str | os.PathLike, resume: bool | str = False,
          data=None, extra_callbacks=(), say=print) -> dict:
    """Train (or resume) a run; returns the final history record.  `data` may pass an
    ArraySet directly (tests, notebooks) instead of loading `config.data`.  `resume="auto"`
    resumes a run directory that holds a run and starts one otherwise.  `say` gets one line
    per epoch and the run's start and end."""
    run_dir = Path(run_dir)
    if resume == "auto":
        resume = (run_dir / "config.json").is_file()
    # Every check on user input comes before the first write (run dir, config.json), and the
    # run-dir checks before TensorFlow is imported, so a wrong --resume fails in a blink.
    config = resolve_run_config(run_dir, config, resume)

    import keras

    from condgan.data.sources import load_training_set
    from condgan.train.callbacks import (EmaSampler, EpochEnd, ProgressReport, RunProgress,
                                         StepCheckpoint)
    from condgan.train.checkpoint import load_latest_checkpoint
    from condgan.train.history import trim_history
    from condgan.train.state import restore_training_state
    from condgan.train.tf_data import ArrayStream
    from condgan.train.tf_distribute import make_strategy

    check_model_config(config)  # before the data: a long CIFAR-10 read must not end in this error
    if data is None:
        data = load_training_set(config.data, config.image_size, config.classes)
    if data.image_size != config.image_size:
        raise UserError(f"images are {data.image_size}px but the config says image_size="
                        f"{config.image_size}: set image_size={data.image_size} or resize the data")
    meta = {"classes": data.classes, "fingerprint": data.fingerprint(), "num_images": len(data),
            "source": data.meta.get("source", str(config.data))}
    if resume and (run_dir / "dataset.json").is_file():
        trained_on = json.loads((run_dir / "dataset.json").read_text())
        if trained_on.get("fingerprint") != meta["fingerprint"]:
            raise UserError(f"--resume got different data ({meta['fingerprint']}) from what "
                            f"{str(run_dir)!r} was trained on ({trained_on.get('fingerprint')}): "
                            "pass the same data set")
    if not resume:
        resolve_run_config(run_dir, config, resume)  # still free after the data load?
        run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / "config.json", config.to_json())
    write_json_atomic(run_dir / "dataset.json", meta)

    strategy = make_strategy(config.strategy)
    stream = ArrayStream(data, config.batch_size, config.seed, config.cache)
    # Same seed, same initial weights: on every replica, worker and restart.
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        gan = build_gan(config, len(data.classes), strategy.num_replicas_in_sync > 1)
        ema_generator = keras.models.clone_model(gan.generator)
    step, images_seen, wall = 0, 0, 0.0
    restored = load_latest_checkpoint(run_dir) if resume else None
    if restored is not None:
        step, images_seen, wall = restore_training_state(gan, restored[1])
        trim_history(run_dir, step)
        say(f"resumed {run_dir} at step {step:,} ({images_seen:,} images seen, "
            f"{wall / 60:.1f} min trained)")
    elif config.d_pretrain_steps:
        _pretrain_discriminator(gan, stream, strategy, config)

    progress = RunProgress(run_dir, config.batch_size, stream.steps_per_epoch, step, images_seen,
                           wall, config.max_minutes)
    sampler = EmaSampler(gan, ema_generator, len(data.classes), config.samples_per_class, config.seed)
    callbacks = [progress, StepCheckpoint(progress, config.checkpoint_every_steps),
                 EpochEnd(progress, sampler, config.sample_every_epochs), *extra_callbacks]
    if config.verbose:
        callbacks.append(ProgressReport(progress, config.epochs, say))
    if config.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), update_freq="epoch"))
    start_epoch, offset = divmod(step, stream.steps_per_epoch)
    if progress.budget_spent():
        say(f"nothing to train: {run_dir} has used its {config.max_minutes:g}-minute budget "
            "(raise max_minutes to train on)")
    elif start_epoch < config.epochs and config.verbose:
        say(f"training {run_dir}: {len(data):,} images, {stream.steps_per_epoch:,} steps of "
            f"{config.batch_size} per epoch, up to epoch {config.epochs}"
            + (f" or {config.max_minutes:g} min" if config.max_minutes else ""))
    for epoch in range(start_epoch, config.epochs if not progress.budget_spent() else 0):
        skip = offset if epoch == start_epoch else 0
        dataset = stream.distributed(strategy, epoch, skip)
        # An explicit step count: a distributed iterator of unknown length would otherwise
        # run one extra, empty step at its end, and Adam moves weights even on zero gradients.
        gan.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, steps_per_epoch=stream.steps_per_epoch - skip,
                callbacks=callbacks, verbose=keras_verbosity(config.verbose), shuffle=False)
        if gan.stop_training:
            say(f"stopping: the {config.max_minutes:g}-minute budget is spent")
            break
    summary = {"step": progress.step, "images_seen": progress.images_seen,
               "wall_time_s": round(progress.wall_time_s, 2)}
    write_json_atomic(run_dir / "summary.json", summary)
    return summary


def keras_verbosity(verbose: int) -> int:
    """Keras' own fit() output only at verbose >= 2: ProgressReport prints the run's lines."""
    return 2 if verbose >= 2 else 0


def _pretrain_discriminator(gan, stream, strategy, config: TrainConfig) -> None:
    """D-only steps against the untrained G before the adversarial loop (the seed project's
    pre-training), on a stream of its own so the main data order is unchanged."""
    gan.d_only = True
    gan.make_train_function(force=True)
    stream_seed, stream.seed = stream.seed, config.seed + 1_000_003
    try:
        epochs = -(-config.d_pretrain_steps // stream.steps_per_epoch)
        for epoch in range(epochs):
            steps = min(stream.steps_per_epoch, config.d_pretrain_steps - epoch * stream.steps_per_epoch)
            gan.fit(stream.distributed(strategy, epoch), steps_per_epoch=steps, epochs=1,
                    verbose=keras_verbosity(config.verbose))
    finally:
        stream.seed = stream_seed
        gan.d_only = False
        gan.make_train_function(force=True)
