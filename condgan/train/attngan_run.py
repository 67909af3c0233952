"""`train_attngan(cfg, data, damsm_dir, run_dir)`: one AttnGAN run, resumable, in one function.

The run folder (`runs/<name>/`) holds `config.json` (resolved config, data and DAMSM paths),
`vocabulary.json` (the DAMSM's), `history.jsonl` (one line per epoch: losses, images seen,
images/s), `checkpoints/` (every variable, optimizer slots and the EMA average: exact resume),
`samples/epoch_NNNN.png` (EMA generator, fixed held-out captions x fixed seeds, one caption per
row, the captions in `samples/captions.txt`), `losses.png`, `tensorboard/`, and `summary.json`
with R-precision of generated images at the end.

Data order: epoch e permutes the training images with `default_rng([seed, e])` and draws one
caption per image (with AttnGAN's random word selection for long captions) from
`default_rng([seed, e, 1])`, so a resumed run rebuilds the same batches and skips the ones done.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np

# Imported when the run starts, not lazily at the first epoch end: a run that lasts hours must
# not pick up a half-edited checkout of these modules in the middle of training.
from condgan.attngan_export import noise_for_seeds
from condgan.errors import UserError
from condgan.export import to_uint8

log = logging.getLogger(__name__)


@dataclasses.dataclass
class AttnGANConfig:
    name: str = "attngan"
    image_size: int = 64
    stages: int = 2            # 1 = no attention (sentence-only baseline); 3 at 256 px = paper
    z_dim: int = 100           # AttnGAN GAN.Z_DIM
    condition_dim: int = 100   # AttnGAN GAN.CONDITION_DIM
    gf: int = 32               # AttnGAN GAN.GF_DIM (birds)
    df: int = 64               # AttnGAN GAN.DF_DIM
    residual_blocks: int = 2   # AttnGAN GAN.R_NUM
    batch_size: int = 20       # AttnGAN birds
    epochs: int = 600
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    damsm_lambda: float = 5.0  # AttnGAN TRAIN.SMOOTH.LAMBDA (birds)
    kl_weight: float = 1.0
    # Hard "wrong" pairs for the conditional discriminators: the true caption with one attribute
    # word swapped ("shapes" or a word-group JSON, see condgan/text/word_swap.py); None = AttnGAN.
    swap_negatives: str | None = None
    swap_from_epoch: int = 0   # epochs before this one train without them (mask 0: AttnGAN's loss)
    # The discriminators' sentence-conditional head: "concat" (AttnGAN) or "projection"
    # (condgan/models/attngan_discriminator.py).
    d_condition: str = "concat"
    ema_decay: float = 0.999
    seed: int = 0
    checkpoint_every_steps: int = 200
    sample_captions: int = 8
    samples_per_caption: int = 4
    sample_every_epochs: int = 1
    rp_images: int = 1000      # held-out captions scored at the end (R-precision)
    max_train_images: int | None = None
    max_minutes: float = 0.0   # stop after this much training time (0 = no limit)
    strategy: str = "default"
    tensorboard: bool = True
    verbose: int = 1           # 1: a line per epoch (and a bar in a terminal); 2: Keras' own too

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "AttnGANConfig":
        from condgan.config import dataclass_from_json
        return dataclass_from_json(cls, data, "AttnGAN config")


def _resolve(run_dir: Path, cfg: AttnGANConfig, data_path, damsm_dir) -> dict:
    """Write config.json, or check that a resumed run keeps what decides the model."""
    saved = run_dir / "config.json"
    resolved = {"kind": "attngan", "config": cfg.to_json(), "data": str(Path(data_path).resolve()),
                "damsm": str(Path(damsm_dir).resolve())}
    free = {"epochs", "checkpoint_every_steps", "max_minutes", "verbose", "rp_images",
            "sample_every_epochs", "tensorboard", "strategy"}
    if saved.is_file():
        before = json.loads(saved.read_text())
        changed = sorted(k for k, v in before["config"].items()
                         if k not in free and cfg.to_json().get(k) != v)
        if changed:
            raise UserError(f"{run_dir} was started with different {changed} ({saved}): resume with "
                            "that config or choose another --run-dir")
    from condgan.data.arrays import write_json_atomic
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(saved, resolved)
    return resolved


def build_models(cfg: AttnGANConfig, damsm_cfg, text_encoder, image_encoder,
                 distributed: bool = False):
    """Generator, discriminators and the compiled trainer (call inside the strategy scope);
    `distributed` gives synchronized batch norms (global-batch statistics)."""
    import keras

    from condgan.models.attngan_discriminator import build_attngan_discriminators
    from condgan.models.attngan_generator import build_attngan_generator, stage_sizes
    from condgan.train.attngan_trainer import AttnGANTrainer

    sizes = stage_sizes(cfg.image_size, cfg.stages)
    generator = build_attngan_generator(cfg.image_size, cfg.stages, text_dim=damsm_cfg.dim,
                                        max_len=damsm_cfg.max_len, z_dim=cfg.z_dim,
                                        condition_dim=cfg.condition_dim, gf=cfg.gf,
                                        residual_blocks=cfg.residual_blocks,
                                        synchronized_bn=distributed)
    discriminator = build_attngan_discriminators(sizes, cfg.df, damsm_cfg.dim, distributed,
                                                 cfg.d_condition)
    trainer = AttnGANTrainer(generator, discriminator, text_encoder, image_encoder,
                             stages=cfg.stages, sizes=sizes, z_dim=cfg.z_dim,
                             condition_dim=cfg.condition_dim, damsm_lambda=cfg.damsm_lambda,
                             kl_weight=cfg.kl_weight, class_masking=damsm_cfg.class_masking,
                             gammas=(damsm_cfg.gamma1, damsm_cfg.gamma2, damsm_cfg.gamma3),
                             damsm_image_size=damsm_cfg.image_size, seed=cfg.seed)
    ema = {"use_ema": True, "ema_momentum": cfg.ema_decay} if cfg.ema_decay else {}
    trainer.compile(
        d_optimizer=keras.optimizers.Adam(cfg.d_lr, beta_1=cfg.beta1, beta_2=cfg.beta2),
        g_optimizer=keras.optimizers.Adam(cfg.g_lr, beta_1=cfg.beta1, beta_2=cfg.beta2, **ema))
    return trainer


class CaptionStream:
    """Deterministic (images, tokens, lengths, class ids[, swapped tokens, swap mask]) batches of
    one epoch; the last two when `swap` (a `WordSwap`) is given, drawn from their own rng."""

    def __init__(self, split, batch_size: int, max_len: int, seed: int, swap=None,
                 swap_from_epoch: int = 0):
        self.split, self.batch_size, self.max_len, self.seed = split, batch_size, max_len, seed
        self.swap, self.swap_from_epoch = swap, swap_from_epoch
        self.steps_per_epoch = len(split.images) // batch_size  # drop_last, as AttnGAN
        if self.steps_per_epoch < 1:
            raise UserError(f"{len(split.images)} training images are fewer than one batch "
                            f"({batch_size}): lower batch_size in the config")

    def arrays(self, epoch: int):
        from condgan.train.damsm_trainer import caption_batch
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.split.images))
        order = order[:self.steps_per_epoch * self.batch_size]
        tokens, lengths = caption_batch(self.split, order, self.max_len,
                                        np.random.default_rng([self.seed, epoch, 1]))
        arrays = (self.split.images[order], tokens, lengths,
                  self.split.class_ids[order].astype(np.int32))
        if self.swap is not None:
            swapped, mask = self.swap.negatives(tokens, lengths,
                                                np.random.default_rng([self.seed, epoch, 2]))
            if epoch < self.swap_from_epoch:  # same batch structure, no swap term yet
                mask = np.zeros_like(mask)
            arrays += (swapped, mask)
        return arrays

    def dataset(self, epoch: int, skip: int = 0):
        import tensorflow as tf
        arrays = self.arrays(epoch)
        ds = tf.data.Dataset.from_tensor_slices(arrays)
        ds = ds.batch(self.batch_size, drop_remainder=True).skip(skip)
        return ds.map(lambda x, *rest: (tf.cast(x, tf.float32) / 127.5 - 1.0, *rest)).prefetch(2)


def generate_with(generator, text_encoder, tokens, lengths, seeds, z_dim: int, condition_dim: int,
                  stages: int, batch_size: int = 50) -> np.ndarray:
    """uint8 final-stage images of a generator for captions and per-image seeds."""
    from condgan.models.attngan_generator import split_outputs
    out = []
    for start in range(0, len(tokens), batch_size):
        t, n = tokens[start:start + batch_size], lengths[start:start + batch_size]
        z, eps = noise_for_seeds(seeds[start:start + batch_size], z_dim, condition_dim)
        words, sentence = (np.asarray(x) for x in text_encoder(t, n, training=False))
        images = split_outputs(generator([z, eps, sentence, words, n], training=False), stages)[0]
        out.append(to_uint8(np.asarray(images[-1])))
    return np.concatenate(out)


class CaptionSampler:
    """EMA generator on fixed held-out captions (rows) x fixed seeds (columns)."""

    def __init__(self, trainer, ema_generator, split, vocabulary, cfg: AttnGANConfig, max_len: int,
                 run_dir: Path):
        from condgan.train.damsm_trainer import caption_batch
        self.trainer, self.ema_generator, self.cfg = trainer, ema_generator, cfg
        rows = min(cfg.sample_captions, len(split.images))
        self.columns = cfg.samples_per_caption
        tokens, lengths = caption_batch(split, np.arange(rows), max_len, None)
        self.tokens = np.repeat(tokens, self.columns, axis=0)
        self.lengths = np.repeat(lengths, self.columns, axis=0)
        self.seeds = np.tile(np.arange(self.columns), rows)
        folder = run_dir / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        text = [" ".join(vocabulary.decode(t)) for t in tokens]
        (folder / "captions.txt").write_text("".join(f"row {i + 1}: {c}\n" for i, c in enumerate(text)))

    def __call__(self) -> np.ndarray:
        from condgan.train.state import ema_weights
        t = self.trainer
        for variable, value in zip(self.ema_generator.variables,
                                   ema_weights(t.generator, t.g_optimizer)):
            variable.assign(value)
        return generate_with(self.ema_generator, t.text_encoder, self.tokens, self.lengths,
                             self.seeds, t.z_dim, t.condition_dim, t.stages)


def load_splits(cfg: AttnGANConfig, data_path, vocabulary, damsm_cfg):
    from condgan.data.caption_sets import load_caption_split
    from condgan.train.damsm_trainer import encode_split
    if cfg.image_size != damsm_cfg.image_size:
        log.info("generator %d px, DAMSM %d px: fakes are resized for the DAMSM loss",
                 cfg.image_size, damsm_cfg.image_size)
    train = load_caption_split(data_path, "train", cfg.image_size)
    if cfg.max_train_images:
        train = train.subset(np.arange(min(cfg.max_train_images, len(train))))
    test = load_caption_split(data_path, "test", cfg.image_size)
    return encode_split(train, vocabulary), encode_split(test, vocabulary)


def train_attngan(cfg: AttnGANConfig, data_path, damsm_dir, run_dir, log_fn=print) -> dict:
    """Train or resume `run_dir`; returns summary.json's content."""
    import keras

    import condgan.metrics.attngan_evaluate  # noqa: F401  loaded now: used at the run's end
    import condgan.metrics.r_precision  # noqa: F401
    from condgan.data.arrays import write_json_atomic
    from condgan.train.callbacks import EpochEnd, ProgressReport, RunProgress, StepCheckpoint
    from condgan.train.loop import keras_verbosity
    from condgan.train.checkpoint import load_latest_checkpoint
    from condgan.train.damsm_trainer import load_damsm
    from condgan.train.history import trim_history
    from condgan.train.state import restore_training_state
    from condgan.train.tf_distribute import make_strategy

    run_dir = Path(run_dir)
    _resolve(run_dir, cfg, data_path, damsm_dir)
    text_encoder, image_encoder, vocabulary, damsm_cfg = load_damsm(damsm_dir)
    vocabulary.save(run_dir / "vocabulary.json")
    train, test = load_splits(cfg, data_path, vocabulary, damsm_cfg)
    swap = None
    if cfg.swap_negatives:
        from condgan.text.word_swap import WordSwap, load_word_groups
        swap = WordSwap(load_word_groups(cfg.swap_negatives), vocabulary)
    stream = CaptionStream(train, cfg.batch_size, damsm_cfg.max_len, cfg.seed, swap,
                           cfg.swap_from_epoch)
    log_fn(f"AttnGAN: {len(train.images)} train / {len(test.images)} test images, "
           f"{stream.steps_per_epoch} steps/epoch, {cfg.stages} stage(s) to {cfg.image_size}px")
    strategy = make_strategy(cfg.strategy)
    keras.utils.set_random_seed(cfg.seed)
    with strategy.scope():
        trainer = build_models(cfg, damsm_cfg, text_encoder, image_encoder,
                               strategy.num_replicas_in_sync > 1)
        ema_generator = keras.models.clone_model(trainer.generator)
    step, images_seen, wall = 0, 0, 0.0
    restored = load_latest_checkpoint(run_dir)
    if restored is not None:
        step, images_seen, wall = restore_training_state(trainer, restored[1])
        log_fn(f"resumed {run_dir} at step {step} ({images_seen} images seen)")
    trim_history(run_dir, step)
    progress = RunProgress(run_dir, cfg.batch_size, stream.steps_per_epoch, step, images_seen,
                           wall, cfg.max_minutes)
    sampler = CaptionSampler(trainer, ema_generator, test, vocabulary, cfg, damsm_cfg.max_len, run_dir)
    callbacks = [progress, StepCheckpoint(progress, cfg.checkpoint_every_steps),
                 EpochEnd(progress, sampler, cfg.sample_every_epochs)]
    if cfg.verbose:
        callbacks.append(ProgressReport(progress, cfg.epochs, log_fn))
    if cfg.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), update_freq="epoch"))
    start_epoch, offset = divmod(step, stream.steps_per_epoch)
    if progress.budget_spent():
        log_fn(f"nothing to train: {run_dir} has used its {cfg.max_minutes:g}-minute budget "
               "(raise max_minutes to train on)")
    for epoch in range(start_epoch, cfg.epochs if not progress.budget_spent() else 0):
        skip = offset if epoch == start_epoch else 0
        trainer.fit(stream.dataset(epoch, skip), epochs=epoch + 1, initial_epoch=epoch,
                    steps_per_epoch=stream.steps_per_epoch - skip, callbacks=callbacks,
                    verbose=keras_verbosity(cfg.verbose), shuffle=False)
        if trainer.stop_training:
            log_fn(f"stopping: the {cfg.max_minutes}-minute budget is spent")
            break
    summary = {"kind": "attngan", "name": cfg.name, "step": progress.step,
               "images_seen": progress.images_seen, "wall_time_s": round(progress.wall_time_s, 2)}
    if cfg.rp_images:
        sampler()  # loads the EMA weights into ema_generator
        summary["evaluation"] = evaluate_generator(
            ema_generator, text_encoder, image_encoder, test, damsm_cfg, cfg, cfg.rp_images)
    write_json_atomic(run_dir / "summary.json", summary)
    return summary


def evaluate_generator(generator, text_encoder, image_encoder, test, damsm_cfg,
                       cfg: AttnGANConfig, n: int) -> dict:
    """R-precision (AttnGAN protocol, part 1's metric) of images generated from held-out captions,
    with real held-out images scored the same way for reference."""
    from condgan.metrics.attngan_evaluate import resize_uint8
    from condgan.metrics.r_precision import r_precision_of_images
    from condgan.train.damsm_trainer import _class_filter, caption_batch
    n = min(n, len(test.images))
    index = np.arange(n)
    tokens, lengths = caption_batch(test, index, damsm_cfg.max_len, None)
    fakes = generate_with(generator, text_encoder, tokens, lengths, 10_000 + index, cfg.z_dim,
                          cfg.condition_dim, cfg.stages)
    fakes = resize_uint8(fakes, damsm_cfg.image_size)
    ids = _class_filter(test.class_ids[index]) if n >= 100 else None
    out = {"queries": n, "protocol": "1 true + 99 mismatched captions (other attribute sets), "
           "top-1 by cosine of DAMSM global image and sentence features; seeds 10000+i"}
    if n >= 100:
        out["r_precision_generated"] = r_precision_of_images(
            image_encoder, text_encoder, fakes, tokens, lengths, seed=cfg.seed, class_ids=ids)["r_precision"]
        real = resize_uint8(test.images[index], damsm_cfg.image_size)
        out["r_precision_real"] = r_precision_of_images(
            image_encoder, text_encoder, real, tokens, lengths, seed=cfg.seed, class_ids=ids)["r_precision"]
    return out
