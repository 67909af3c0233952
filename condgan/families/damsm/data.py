"""Captions as the DAMSM (and AttnGAN) read them: encoded splits, caption batches, and the
deterministic stream of a DAMSM epoch.

Each step k of epoch e draws with `default_rng([seed, e, k])`: one random caption per image
(with AttnGAN's random word selection for long captions) and the flips; swap negatives draw from
`default_rng([seed, e, k, 2])`.  A resumed run rebuilds the same batches and skips the ones done.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from condgan.train.epochs import epoch_order, steps_per_epoch


@dataclasses.dataclass
class EncodedSplit:
    images: np.ndarray            # uint8 (N, H, W, 3)
    captions: list[list[list[int]]]  # per image, per caption: word indices
    class_ids: np.ndarray
    keys: list[str]


def encode_split(data, vocabulary) -> EncodedSplit:
    from condgan.text import tokenize
    caps = [[vocabulary.encode(tokenize(c)) for c in per_image] for per_image in data.captions]
    return EncodedSplit(data.images, caps, np.asarray(data.class_ids), list(data.keys))


def caption_batch(split: EncodedSplit, index: np.ndarray, max_len: int,
                  rng: np.random.Generator | None):
    """Tokens (B, T) and lengths (B,): a random caption per image with random word selection
    (training, `rng` given) or caption `i % n` with truncation (evaluation)."""
    from condgan.text import pad_captions
    chosen = []
    for i in index:
        options = split.captions[int(i)]
        k = int(rng.integers(len(options))) if rng is not None else int(i) % len(options)
        chosen.append(options[k])
    return pad_captions(chosen, max_len, rng)


def to_float(images: np.ndarray, rng: np.random.Generator | None = None, flip: bool = False):
    x = images.astype(np.float32) / 127.5 - 1.0
    if flip and rng is not None:
        mirrored = rng.random(len(x)) < 0.5
        x[mirrored] = x[mirrored, :, ::-1]
    return x


def class_filter(class_ids: np.ndarray, candidates: int = 100):
    """Class ids for R-precision's mismatch filter, or None when a class is so large that
    fewer than 99 images of other classes remain (tiny or single-class sets)."""
    counts = np.unique(class_ids, return_counts=True)[1]
    return class_ids if len(class_ids) - counts.max() >= candidates - 1 else None


class DamsmStream:
    """The batches of a DAMSM epoch: (images in [-1, 1], tokens, lengths, class ids[, swapped
    tokens, swap mask]), drawn step by step as AttnGAN's pretraining does."""

    def __init__(self, split: EncodedSplit, batch_size: int, max_len: int, seed: int,
                 flip: bool = False, swap=None):
        self.split, self.global_batch, self.max_len, self.seed = split, batch_size, max_len, seed
        self.flip, self.swap = flip, swap
        self.num_examples = len(split.images)
        self.steps_per_epoch = steps_per_epoch(self.num_examples, batch_size)

    def batches(self, epoch: int, skip: int = 0):
        """The epoch's batches from step `skip` on, each computed when it is needed."""
        b = self.global_batch
        order = epoch_order(self.num_examples, self.seed, epoch)
        for k in range(skip, self.steps_per_epoch):
            rng = np.random.default_rng([self.seed, epoch, k])
            index = np.sort(order[k * b:(k + 1) * b])
            tokens, lengths = caption_batch(self.split, index, self.max_len, rng)
            # the swaps draw from their own stream: the other draws match a run without them
            extra = () if self.swap is None else self.swap.negatives(
                tokens, lengths, np.random.default_rng([self.seed, epoch, k, 2]))
            yield (to_float(self.split.images[index], rng, self.flip), tokens, lengths,
                   self.split.class_ids[index].astype(np.int32), *extra)

    def distributed(self, strategy, epoch: int, skip: int = 0):
        """The epoch's input for `fit()`: numpy batches (JAX) or a prefetching tf.data pipeline."""
        import keras

        if keras.backend.backend() != "tensorflow":
            return self.batches(epoch, skip)
        import tensorflow as tf
        first = next(self.batches(epoch, 0))
        signature = tuple(tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in first)
        ds = tf.data.Dataset.from_generator(lambda: self.batches(epoch, skip),
                                            output_signature=signature)
        return ds.prefetch(2)
