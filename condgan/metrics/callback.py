"""A Keras callback that measures classifier FID and per-class accuracy during GAN training.

Losses of a GAN say little about image quality, so every `every_epochs` epochs this draws
`n` images through `sample_fn`, scores them with the reference classifier, and writes the
numbers (a) as one `{"event": "metrics", ...}` line in the run's `history.jsonl`, (b) into
the TensorBoard log under `metrics/`, and (c) into the epoch's `logs` dict, so callbacks
that run after it (CSVLogger, keras.callbacks.TensorBoard) see them too.

It knows nothing of the trainer: `sample_fn(labels, seed)` takes an int array of class
indices (all zeros for an unconditional model, where only its length counts) and a seed, and
returns uint8 images (len(labels), H, W, C).  Use the same seed every time so that epochs are
compared on the same noise.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from condgan.data.arrays import ArraySet
from condgan.metrics.accuracy import accuracy_report
from condgan.metrics.features import balanced_labels, extract, generated_batches
from condgan.metrics.fid import frechet_distance
from condgan.metrics.stats_cache import reference_features


class ClassifierMetrics(keras.callbacks.Callback):
    def __init__(self, sample_fn: Callable[[np.ndarray, int], np.ndarray], classifier_dir,
                 reference: ArraySet, run_dir, *, conditional: bool = True, every_epochs: int = 5,
                 n: int = 1000, seed: int = 0, batch_size: int = 100, cache_dir=None,
                 tensorboard_dir=None, say: Callable[[str], None] = print):
        super().__init__()
        from condgan.metrics.reference import ReferenceClassifier

        self.sample_fn, self.reference, self.conditional = sample_fn, reference, conditional
        self.classifier = ReferenceClassifier(classifier_dir)
        if list(self.classifier.classes) != list(reference.classes):
            from condgan.errors import UserError

            raise UserError(f"reference classifier {str(classifier_dir)!r} knows classes "
                            f"{self.classifier.classes}, the data set {reference.classes}: "
                            "train a classifier on the same data set")
        self.run_dir = Path(run_dir)
        self.every_epochs, self.n, self.seed, self.batch_size = every_epochs, n, seed, batch_size
        self.cache_dir, self.say = cache_dir, say
        self.tensorboard_dir = Path(tensorboard_dir) if tensorboard_dir else self.run_dir / "tensorboard"
        self._reference_stats = None
        self._writer = None

    def measure(self) -> dict[str, float]:
        if self._reference_stats is None:
            self._reference_stats = reference_features(self.classifier, self.reference,
                                                       self.cache_dir, self.batch_size, self.say)
        k = len(self.reference.classes)
        labels = balanced_labels(self.n, k) if self.conditional else np.zeros(self.n, np.int64)
        batches = generated_batches(lambda lab, seeds: self.sample_fn(np.asarray(lab), seeds[0]),
                                    self.n, self.batch_size, self.seed, labels)
        gen = extract(self.classifier, batches, total=self.n)
        ref = self._reference_stats
        values = {"classifier_fid": frechet_distance(gen.mean, gen.covariance, ref.mean, ref.covariance)}
        if self.conditional:
            report = accuracy_report(gen.probs.argmax(axis=1), labels, self.reference.classes)
            values["classifier_accuracy"] = report["value"]
            values.update({f"classifier_accuracy/{c}": v for c, v in report["per_class"].items()})
        return values

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs:
            return
        values = self.measure()
        record = {"epoch": epoch + 1, "event": "metrics", "num_generated": self.n,
                  "seed": self.seed, "feature_network": self.classifier.name, **values}
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "history.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        self._tensorboard(epoch + 1, values)
        if logs is not None:
            logs.update({k: v for k, v in values.items() if "/" not in k})
        summary = " ".join(f"{k}={v:.4f}" for k, v in values.items() if "/" not in k)
        self.say(f"epoch {epoch + 1}: {summary} ({self.n} images)")

    def _tensorboard(self, step: int, values: dict[str, float]) -> None:
        try:
            import tensorflow as tf
        except ImportError:  # another backend without TensorFlow: history.jsonl still has it
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir / "metrics"))
        with self._writer.as_default():
            for key, value in values.items():
                tf.summary.scalar(f"metrics/{key}", value, step=step)
        self._writer.flush()
