"""Train the reference classifier with per-epoch checkpoints, resume, and a progress log.

Writes into `out_dir`:
  * `checkpoint.keras` + `checkpoint.json` after every epoch (atomic: temp file + os.replace),
    so a killed run resumes where it stopped with the same data order and schedule;
  * `history.jsonl`: one line per epoch (loss, accuracy, lr, images/s, elapsed seconds);
  * at the end `classifier.keras` (weights only, no optimizer, loads in safe mode) and
    `card.json` with its test accuracy overall and per class, and how it was made.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from condgan.basics import write_json_atomic
from condgan.data.arrays import ArraySet
from condgan.metrics.accuracy import per_class_accuracy
from condgan.metrics.classifier import (AugmentedBatches, ClassifierConfig, build_classifier,
                                        compile_classifier, strip_optimizer)
from condgan.basics import library_versions, sha256_file

CHECKPOINT = "checkpoint.keras"
CHECKPOINT_STATE = "checkpoint.json"
CLASSIFIER_FILE = "classifier.keras"
CARD_FILE = "card.json"


class _EpochLog(keras.callbacks.Callback):
    """history.jsonl line + atomic checkpoint after each epoch; a progress line to `say`."""

    def __init__(self, out_dir: Path, cfg: ClassifierConfig, num_images: int, started: float,
                 elapsed_before: float, say: Callable[[str], None]):
        super().__init__()
        self.out_dir, self.cfg, self.num_images, self.say = out_dir, cfg, num_images, say
        self.started, self.elapsed_before = started, elapsed_before

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.time() - self.epoch_started
        elapsed = self.elapsed_before + time.time() - self.started
        lr = float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate))  # the schedule's value at the current step
        row = {"epoch": epoch + 1, "images_seen": (epoch + 1) * self.num_images,
               "images_per_s": round(self.num_images / seconds, 1), "elapsed_s": round(elapsed, 1),
               "lr": lr, **{k: float(v) for k, v in (logs or {}).items()}}
        with open(self.out_dir / "history.jsonl", "a") as handle:
            handle.write(json.dumps(row) + "\n")
        tmp = self.out_dir / ("partial-" + CHECKPOINT)
        self.model.save(tmp)
        os.replace(tmp, self.out_dir / CHECKPOINT)
        write_json_atomic(self.out_dir / CHECKPOINT_STATE,
                          {"epochs_done": epoch + 1, "elapsed_s": elapsed,
                           "config": dataclasses.asdict(self.cfg)})
        metrics = " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items())
        self.say(f"epoch {epoch + 1}/{self.cfg.epochs} {metrics} "
                 f"{row['images_per_s']:.0f} img/s elapsed {elapsed / 60:.1f} min")


def predict_logits(model: keras.Model, x: np.ndarray, batch_size: int = 500,
                   flip_tta: bool = True) -> np.ndarray:
    """Logits; with `flip_tta` the mean of the image's and its mirror's (a free ~0.5% gain)."""
    logits = model.predict(x.astype("float32"), batch_size=batch_size, verbose=0)
    if flip_tta:
        logits = 0.5 * (logits + model.predict(x[:, :, ::-1].astype("float32"),
                                               batch_size=batch_size, verbose=0))
    return logits


def save_classifier(model: keras.Model, out_dir: str | os.PathLike, card: dict) -> dict:
    """Write classifier.keras and card.json (with the weights' sha256), each atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ("partial-" + CLASSIFIER_FILE)
    model.save(tmp)
    os.replace(tmp, out / CLASSIFIER_FILE)
    card = dict(card, weights_sha256=sha256_file(out / CLASSIFIER_FILE))
    write_json_atomic(out / CARD_FILE, card)
    return card


def train_classifier(train: ArraySet, test: ArraySet, out_dir: str | os.PathLike,
                     cfg: ClassifierConfig, *, resume: bool = True, command: str | None = None,
                     verbose: int = 0, say: Callable[[str], None] = print) -> dict:
    """Train (or resume), evaluate on `test`, save `classifier.keras` + `card.json`; return the card."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    batches = AugmentedBatches(train.x, train.y, len(train.classes), cfg)
    done, elapsed_before = 0, 0.0
    if resume and (out / CHECKPOINT).exists() and (out / CHECKPOINT_STATE).exists():
        state = json.loads((out / CHECKPOINT_STATE).read_text())
        if state.get("config") == dataclasses.asdict(cfg):
            model = keras.saving.load_model(out / CHECKPOINT, safe_mode=True)
            done, elapsed_before = int(state["epochs_done"]), float(state["elapsed_s"])
            batches.set_epoch(done)
            say(f"resuming from {out / CHECKPOINT} after epoch {done}")
        else:
            say(f"checkpoint in {out} was made with another config; starting over")
    if done == 0:
        (out / "history.jsonl").unlink(missing_ok=True)
        model = build_classifier(len(train.classes), train.image_size, cfg.width, train.x.shape[3])
        compile_classifier(model, cfg, len(batches))
    started = time.time()
    if done < cfg.epochs:
        say(f"training {model.name} ({model.count_params()} parameters) on {len(train)} images, "
            f"{cfg.epochs} epochs of {len(batches)} steps")
        model.fit(batches, epochs=cfg.epochs, initial_epoch=done, verbose=verbose,
                  callbacks=[_EpochLog(out, cfg, len(train), started, elapsed_before, say)])
    wall = elapsed_before + time.time() - started
    clean = strip_optimizer(model, len(train.classes), cfg.width)
    pred = predict_logits(clean, test.x).argmax(axis=1)
    accuracy = float(np.mean(pred == test.y))
    card = {
        "kind": "classifier",
        "architecture": f"ResNet-9 (Page 2018) at width {cfg.width}",
        "parameters": int(clean.count_params()),
        "classes": list(train.classes),
        "image_size": train.image_size,
        "channels": int(train.x.shape[3]),
        "input": "pixel values 0..255, float or uint8, (N, H, W, C)",
        "test_accuracy": accuracy,
        "test_accuracy_protocol": "argmax of mean logits over the image and its mirror",
        "per_class_test_accuracy": per_class_accuracy(pred, test.y, list(train.classes)),
        "num_train": len(train), "num_test": len(test),
        "train_fingerprint": train.fingerprint(), "test_fingerprint": test.fingerprint(),
        "train_source": train.meta.get("source"), "test_source": test.meta.get("source"),
        "config": dataclasses.asdict(cfg),
        "wall_time_s": round(wall, 1),
        "command": command if command is not None else " ".join(sys.argv),
        "versions": library_versions(),
    }
    card = save_classifier(clean, out, card)
    say(f"test accuracy {accuracy:.4f} on {len(test)} images; saved {out / CLASSIFIER_FILE}")
    return card
