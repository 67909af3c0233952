"""Training callbacks: progress bookkeeping, checkpoints, sample grids, the loss plot.

Backend-neutral (keras callbacks, numpy, matplotlib).  `RunProgress` is the single source of
truth for the step counter and images seen; the others read it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

from condgan.basics import to_uint8
from condgan.models.standing_stats import recompute_bn_statistics
from condgan.train.checkpoint import save_checkpoint
from condgan.train.history import read_history
from condgan.train.state import ema_weights, training_state
from condgan.viz import save_grid, save_loss_plot


def keras_verbosity(verbose: int) -> int:
    """Keras' own fit() output only at verbose >= 2: ProgressReport prints the run's lines."""
    return 2 if verbose >= 2 else 0


def sync_variables(model) -> None:
    """Make the model's variables current mid-epoch: Keras' JAX trainer carries the state
    through its steps and writes it back only at the epoch's end (a no-op elsewhere)."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


class RunProgress(keras.callbacks.Callback):
    """Counts steps and images, times them, and appends one line per epoch to history.jsonl."""

    def __init__(self, run_dir: Path, global_batch: int, steps_per_epoch: int, step: int = 0,
                 images_seen: int = 0, wall_time_s: float = 0.0, max_minutes: float = 0.0):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.global_batch = global_batch
        self.steps_per_epoch = steps_per_epoch
        self.step = step
        self.images_seen = images_seen
        self.wall_time_s = wall_time_s
        self.max_minutes = max_minutes
        self._started = None
        self._epoch_start_wall = wall_time_s
        self._epoch_images = 0
        self._epoch_losses: dict[str, list[float]] = {}
        self._last_batch = -1
        self.steps_done = 0  # by the last call: more than 1 with steps_per_execution > 1

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()
        self._epoch_start_wall = self.wall_time_s
        self._epoch_images = 0
        self._epoch_losses = {}
        self._last_batch = -1

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the index (within this fit) of the last step run: fit() calls back once
        # per `steps_per_execution` steps, and names a full execution's last index even when
        # the epoch ended before it.
        steps = (self.params or {}).get("steps")
        batch = min(batch, steps - 1) if steps else batch
        now = time.perf_counter()
        self.wall_time_s += now - self._started
        self._started = now
        self.steps_done = batch - self._last_batch
        self._last_batch = batch
        self.step += self.steps_done
        self.images_seen += self.global_batch * self.steps_done
        self._epoch_images += self.global_batch * self.steps_done
        for key, value in (logs or {}).items():
            self._epoch_losses.setdefault(key, []).append(float(value))
        if self.budget_spent():
            self.model.stop_training = True

    def budget_spent(self) -> bool:
        return bool(self.max_minutes) and self.wall_time_s >= self.max_minutes * 60

    def epoch_summary(self, epoch: int) -> dict:
        """The history line of the epoch that is ending."""
        epoch_seconds = self.wall_time_s - self._epoch_start_wall
        record = {"epoch": epoch + 1, "step": self.step, "images_seen": self.images_seen,
                  "kimg": round(self.images_seen / 1000, 3), "wall_time_s": round(self.wall_time_s, 2),
                  "images_per_s": round(self._epoch_images / max(epoch_seconds, 1e-9), 2)}
        record.update({k: float(np.mean(v)) for k, v in self._epoch_losses.items()})
        return record


class EpochEnd(keras.callbacks.Callback):
    """At each epoch end: history line (with the family's validation numbers, if any),
    checkpoint, sample grid, loss plot (in that order, so a kill while plotting never costs the
    checkpoint)."""

    def __init__(self, progress: RunProgress, sampler=None, sample_every_epochs: int = 1,
                 validation=None):
        super().__init__()
        self.progress = progress
        self.sampler = sampler
        self.sample_every_epochs = sample_every_epochs
        self.validation = validation

    def on_epoch_end(self, epoch, logs=None):
        run_dir = self.progress.run_dir
        record = self.progress.epoch_summary(epoch)
        if self.validation is not None:
            record.update(self.validation())
        with open(run_dir / "history.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        save_checkpoint(run_dir, self.progress.step, training_state(
            self.model, self.progress.step, self.progress.images_seen, self.progress.wall_time_s))
        if self.sampler is not None and (epoch + 1) % self.sample_every_epochs == 0:
            save_grid(self.sampler(), run_dir / "samples" / f"epoch_{epoch + 1:04d}.png",
                      columns=self.sampler.columns)
        save_loss_plot(read_history(run_dir), run_dir / "losses.png")


class ProgressReport(keras.callbacks.Callback):
    """What a person watching a run sees: a line per epoch (images, images/s, losses, time
    against the budget), at most one every `every_s` seconds so a run of many short epochs does
    not scroll by (the last epoch always gets its line), and, in a terminal, one progress bar
    over the current epoch.  Keras' own per-epoch output stays off; `verbose=2` asks for it."""

    def __init__(self, progress: RunProgress, epochs: int, write=None, bar: bool | None = None,
                 every_s: float = 20.0):
        super().__init__()
        self.progress = progress
        self.epochs = epochs
        self.write = write or (lambda line: print(line, flush=True))
        self.bar_enabled = sys.stderr.isatty() if bar is None else bar
        self.every_s = every_s
        self._bar = None
        self._last_line = -float("inf")
        self._pending: str | None = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.bar_enabled:
            from tqdm import tqdm

            done = self.progress.step % self.progress.steps_per_epoch
            self._bar = tqdm(total=self.progress.steps_per_epoch, initial=done, leave=False,
                             desc=f"epoch {epoch + 1}/{self.epochs}", unit="step", file=sys.stderr)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(self.progress.steps_done)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        p = self.progress
        record = p.epoch_summary(epoch)
        losses = "  ".join(f"{k} {v:.3f}" for k, v in record.items()
                           if k.endswith("loss") or k in ("g_adv", "kl"))
        budget = f"/{p.max_minutes:g}" if p.max_minutes else ""
        self._pending = (f"epoch {epoch + 1}/{self.epochs}  {p.images_seen:,} images  "
                         f"{record['images_per_s']:.0f} img/s  {losses}  "
                         f"{p.wall_time_s / 60:.1f}{budget} min")
        now = time.monotonic()
        if now - self._last_line >= self.every_s or epoch + 1 == self.epochs or p.budget_spent():
            self._flush(now)

    def on_train_end(self, logs=None):
        # fit() runs one epoch at a time: a held-back line is written once the run stops.
        if self.model.stop_training or self.progress.step >= self.epochs * self.progress.steps_per_epoch:
            self._flush(time.monotonic())

    def _flush(self, now: float) -> None:
        if self._pending:
            self.write(self._pending)
            self._pending, self._last_line = None, now


class StepCheckpoint(keras.callbacks.Callback):
    """A full checkpoint every `every_steps` steps (besides the one at each epoch end); with
    steps_per_execution > 1, at the first step reached past each multiple."""

    def __init__(self, progress: RunProgress, every_steps: int):
        super().__init__()
        self.progress = progress
        self.every_steps = every_steps

    def on_train_batch_end(self, batch, logs=None):
        p = self.progress
        passed_a_multiple = self.every_steps and (p.step // self.every_steps
                                                  > (p.step - p.steps_done) // self.every_steps)
        if passed_a_multiple and p.step % p.steps_per_epoch:
            sync_variables(self.model)
            save_checkpoint(p.run_dir, p.step, training_state(self.model, p.step, p.images_seen,
                                                              p.wall_time_s))


class EmaSampler:
    """Draws the fixed-noise grid from the EMA generator: one row per class (conditional) or a
    square grid (unconditional).  The noise is fixed for the whole run so grids are comparable
    across epochs."""

    def __init__(self, gan, ema_generator, num_classes: int, per_class: int, seed: int):
        self.gan = gan
        self.ema_generator = ema_generator
        self.num_classes = num_classes if gan.conditional else 0
        self.seed = seed
        rows = num_classes if gan.conditional else per_class
        self.columns = per_class
        count = rows * per_class
        self.noise = np.random.default_rng([seed, 7]).standard_normal(
            (count, gan.latent_dim)).astype(np.float32)
        self.labels = np.repeat(np.arange(rows), per_class).astype(np.int32)

    def __call__(self) -> np.ndarray:
        for variable, value in zip(self.ema_generator.variables,
                                   ema_weights(self.gan.generator, self.gan.g_optimizer)):
            variable.assign(value)
        recompute_bn_statistics(self.ema_generator, self.gan.latent_dim, self.num_classes, self.seed)
        inputs = [self.noise, self.labels] if self.gan.conditional else self.noise
        return to_uint8(np.asarray(self.ema_generator(inputs, training=False)))
