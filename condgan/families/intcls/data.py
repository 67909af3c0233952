"""What the GAN-INT-CLS family trains on and draws while it trains: every training caption's
sentence embedding (computed once: the encoder is frozen, as Reed et al.'s pretrained one), the
deterministic batches of an epoch with their mismatched captions, and the epoch's sample grid.

Data order: epoch e permutes the training images with `default_rng([seed, e])`, draws one
caption per image from `default_rng([seed, e, 1])` and the mismatched captions from
`default_rng([seed, e, 2])`, so a resumed run rebuilds the same batches and skips the ones done.

An EMA run's grid (and export) draws with the EMA of G's weights, whose batch-norm statistics
are re-estimated first (BigGAN's standing statistics, as the GAN family does): G's own running
statistics belong to its live weights.  G then runs on `STANDING_CAPTIONS` training captions,
fixed for the run's seed (`default_rng([seed, 2024, 1])`), whose embeddings the trainer keeps in
its checkpoints.

A **mismatched** caption is one of another image whose class (the data's `class` key: Shapes
gives every set of attributes its own) differs from the image's own: an image of the same
attributes has interchangeable captions, and calling them "wrong" would teach D a false negative
(DAMSM and AttnGAN mask such pairs for the same reason).  It is taken from another image of the
batch when the batch holds one, else from any training image of another class.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from condgan.basics import seed_noise, to_uint8
from condgan.errors import UserError
from condgan.train.epochs import epoch_order, steps_per_epoch

ENCODE_BATCH = 256
STANDING_CAPTIONS = 256   # one batch of the standing statistics' passes through G


@dataclasses.dataclass
class EmbeddedCaptions:
    images: np.ndarray        # uint8 (N, H, W, 3)
    embeddings: np.ndarray    # float32 (M, D): every caption of every image
    first: np.ndarray         # int64 (N + 1,): image i's captions are rows first[i]:first[i + 1]
    class_ids: np.ndarray     # int64 (N,): same id = interchangeable captions

    def __len__(self) -> int:
        return int(self.images.shape[0])


def embed_captions(split, encoder) -> EmbeddedCaptions:
    """A `CaptionedSet`'s captions through the frozen sentence encoder, in fixed-size chunks."""
    flat = [caption for captions in split.captions for caption in captions]
    first = np.concatenate([[0], np.cumsum([len(c) for c in split.captions])]).astype(np.int64)
    parts = [encoder.encode(flat[start:start + ENCODE_BATCH])
             for start in range(0, len(flat), ENCODE_BATCH)]
    return EmbeddedCaptions(split.images, np.concatenate(parts).astype(np.float32), first,
                            np.asarray(split.class_ids, dtype=np.int64))


def check_classes(class_ids: np.ndarray, where: str) -> None:
    """Mismatched captions (D's wrong pairs, G's interpolation partners) need images of at
    least two classes."""
    if len(np.unique(class_ids)) < 2:
        raise UserError(f"{where}: every training image has the same class (attributes), so no "
                        "caption is mismatched: train on images of varied attributes")


def mismatched_images(batch: np.ndarray, class_ids: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """For each image of `batch` (indices into the split), another image of a different class:
    one of the batch when it holds one, else one of the whole split."""
    own = class_ids[batch]
    out = np.empty_like(batch)
    for row, image_class in enumerate(own):
        candidates = batch[own != image_class]
        if len(candidates) == 0:
            candidates = np.flatnonzero(class_ids != image_class)
        out[row] = candidates[rng.integers(len(candidates))]
    return out


def pick_captions(first: np.ndarray, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One caption row per image: a uniformly drawn one of its captions."""
    counts = first[images + 1] - first[images]
    return first[images] + (rng.random(len(images)) * counts).astype(np.int64)


class IntClsStream:
    """Deterministic (images in [-1, 1], right embeddings, wrong embeddings) batches of one epoch."""

    def __init__(self, data: EmbeddedCaptions, batch_size: int, seed: int):
        self.data, self.global_batch, self.seed = data, batch_size, seed
        self.num_examples = len(data)
        self.steps_per_epoch = steps_per_epoch(self.num_examples, batch_size)

    def plan(self, epoch: int) -> dict[str, np.ndarray]:
        """The epoch's images, their caption rows, the mismatched images and their caption rows."""
        b = self.global_batch
        order = epoch_order(self.num_examples, self.seed, epoch)[:self.steps_per_epoch * b]
        right = pick_captions(self.data.first, order, np.random.default_rng([self.seed, epoch, 1]))
        rng = np.random.default_rng([self.seed, epoch, 2])
        wrong_images = np.concatenate([
            mismatched_images(order[k * b:(k + 1) * b], self.data.class_ids, rng)
            for k in range(self.steps_per_epoch)])
        wrong = pick_captions(self.data.first, wrong_images, rng)
        return {"images": order, "right": right, "wrong_images": wrong_images, "wrong": wrong}

    def arrays(self, epoch: int):
        plan = self.plan(epoch)
        e = self.data.embeddings
        return self.data.images[plan["images"]], e[plan["right"]], e[plan["wrong"]]

    def batches(self, epoch: int, skip: int = 0):
        """The epoch's batches from step `skip` on as numpy arrays."""
        arrays = self.arrays(epoch)
        b = self.global_batch
        for k in range(skip, self.steps_per_epoch):
            images, right, wrong = (a[k * b:(k + 1) * b] for a in arrays)
            yield images.astype(np.float32) / 127.5 - 1.0, right, wrong

    def distributed(self, strategy, epoch: int, skip: int = 0):
        """Numpy batches (JAX), or a tf.data pipeline that Keras splits across replicas."""
        import keras

        if keras.backend.backend() != "tensorflow":
            return self.batches(epoch, skip)
        import tensorflow as tf
        ds = tf.data.Dataset.from_tensor_slices(self.arrays(epoch))
        ds = ds.batch(self.global_batch, drop_remainder=True).skip(skip)
        return ds.map(lambda x, *rest: (tf.cast(x, tf.float32) / 127.5 - 1.0, *rest)).prefetch(2)


def standing_sentences(embeddings: np.ndarray, seed: int) -> np.ndarray:
    """The embeddings of `STANDING_CAPTIONS` training captions (each caption at most once when
    there are that many) that an EMA generator's batch-norm statistics are estimated on."""
    rng = np.random.default_rng([seed, 2024, 1])   # a stream of its own: the data order stays
    count = len(embeddings)
    rows = rng.choice(count, STANDING_CAPTIONS, replace=count < STANDING_CAPTIONS)
    return np.asarray(embeddings[np.sort(rows)], dtype=np.float32)


def standing_statistics(generator, sentences: np.ndarray, latent_dim: int, seed: int) -> None:
    """Set G's batch-norm statistics to those of the weights it holds (an EMA's): G in training
    mode on `sentences` with fresh noise (`condgan.models.standing_stats`)."""
    from condgan.models.standing_stats import recompute_bn_statistics
    from condgan.models.text_dcgan import FixedSentences

    recompute_bn_statistics(FixedSentences(generator, sentences), latent_dim, seed=seed,
                            batch_size=len(sentences))


def load_ema_generator(trainer):
    """The trainer's EMA generator holding the current average of G's weights, with standing
    batch-norm statistics."""
    from condgan.train.state import ema_weights

    ema = trainer.ema_generator
    for variable, value in zip(ema.variables, ema_weights(trainer.generator, trainer.g_optimizer)):
        variable.assign(value)
    standing_statistics(ema, trainer.standing_sentences, trainer.latent_dim, trainer.seed)
    return ema


class CaptionGridSampler:
    """G on fixed held-out captions (rows) x fixed seeds (columns), with the noise a model
    folder draws for those seeds; the captions go into samples/captions.txt.  An EMA run draws
    with its EMA generator (what the export gives by default)."""

    def __init__(self, trainer, split, encoder, rows: int, columns: int, run_dir: Path):
        self.trainer, self.columns = trainer, columns
        rows = min(rows, len(split))
        captions = [split.captions[i][0] for i in range(rows)]
        self.sentences = np.repeat(encoder.encode(captions), columns, axis=0)
        self.noise = seed_noise(np.tile(np.arange(columns), rows), trainer.latent_dim)
        folder = Path(run_dir) / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "captions.txt").write_text(
            "".join(f"row {i + 1}: {c}\n" for i, c in enumerate(captions)))

    def __call__(self) -> np.ndarray:
        ema = self.trainer.ema_generator is not None
        generator = load_ema_generator(self.trainer) if ema else self.trainer.generator
        images = generator([self.noise, self.sentences], training=False)
        return to_uint8(np.asarray(images))
