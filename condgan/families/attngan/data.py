"""What the AttnGAN family trains on and draws while it trains: the deterministic caption
stream of an epoch, and the epoch's sample grid (held-out captions x fixed seeds).

Data order: epoch e permutes the training images with `default_rng([seed, e])` and draws one
caption per image (with AttnGAN's random word selection for long captions) from
`default_rng([seed, e, 1])`, so a resumed run rebuilds the same batches and skips the ones done.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from condgan.basics import to_uint8
from condgan.train.epochs import epoch_order, steps_per_epoch
from condgan.families.attngan.config import AttnGANConfig
from condgan.families.attngan.model import noise_for_seeds
from condgan.families.damsm.data import caption_batch


class CaptionStream:
    """Deterministic (images, tokens, lengths, class ids[, swapped tokens, swap mask][, cells])
    batches of one epoch; the swap pair when `swap` (a `WordSwap`) is given, drawn from its own
    rng; the images' per-cell object labels last when `cells` (N, cells, attributes) is given."""

    def __init__(self, split, batch_size: int, max_len: int, seed: int, swap=None,
                 swap_from_epoch: int = 0, cells=None):
        self.split, self.global_batch, self.max_len, self.seed = split, batch_size, max_len, seed
        self.swap, self.swap_from_epoch, self.cells = swap, swap_from_epoch, cells
        self.num_examples = len(split.images)
        self.steps_per_epoch = steps_per_epoch(self.num_examples, batch_size)

    def arrays(self, epoch: int):
        order = epoch_order(self.num_examples, self.seed, epoch)
        order = order[:self.steps_per_epoch * self.global_batch]
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
        if self.cells is not None:
            arrays += (self.cells[order],)
        return arrays

    def batches(self, epoch: int, skip: int = 0):
        """The epoch's batches from step `skip` on as numpy arrays, images in [-1, 1]."""
        arrays = self.arrays(epoch)
        b = self.global_batch
        for k in range(skip, self.steps_per_epoch):
            images, *rest = (a[k * b:(k + 1) * b] for a in arrays)
            yield (images.astype(np.float32) / 127.5 - 1.0, *rest)

    def distributed(self, strategy, epoch: int, skip: int = 0):
        """The epoch's batches from step `skip` on: numpy batches (JAX), or a tf.data pipeline
        that Keras splits across replicas."""
        import keras

        if keras.backend.backend() != "tensorflow":
            return self.batches(epoch, skip)
        import tensorflow as tf
        ds = tf.data.Dataset.from_tensor_slices(self.arrays(epoch))
        ds = ds.batch(self.global_batch, drop_remainder=True).skip(skip)
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
    """EMA generator on fixed held-out captions (rows) x fixed seeds (columns); the captions
    go into samples/captions.txt."""

    def __init__(self, trainer, split, vocabulary, cfg: AttnGANConfig, max_len: int, run_dir: Path):
        self.trainer, self.cfg = trainer, cfg
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

    def load_ema(self):
        """The trainer's EMA generator, holding the current average of G's weights."""
        from condgan.train.state import ema_weights
        t = self.trainer
        for variable, value in zip(t.ema_generator.variables, ema_weights(t.generator, t.g_optimizer)):
            variable.assign(value)
        return t.ema_generator

    def __call__(self) -> np.ndarray:
        t = self.trainer
        return generate_with(self.load_ema(), t.text_encoder, self.tokens, self.lengths,
                             self.seeds, t.z_dim, t.condition_dim, t.stages)
