"""Training images/s of the cGAN step, three ways, side by side in one process:

1. **classic**: the Keras-2-era loop: `d.train_on_batch` on real, `d.train_on_batch` on fake,
   `gan.train_on_batch` through a combined model with D frozen;
2. **fused**: a bare `tf.function` step, one gradient tape for D and G, no callbacks;
3. **trainer**: condgan's trainer as users run it: `fit()`, the EMA generator, every callback
   (history, checkpoints, sample grid and loss plot at epoch end), the real `tf.data` stream.

Same architecture (the classic recipe's label-concat cGAN, BCE), same batch size, same data.
Rounds are interleaved (classic, fused, trainer, classic, ...) so machine noise hits all three
alike; the median round is reported.  Also reports training FLOPs per image (counted by
TensorFlow's profiler on the fused step's graph) against the machine's measured float32
matrix-multiply rate.

    python bench/train_throughput.py [--steps 60] [--rounds 3] [--batch 64] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

from condgan.config import TrainConfig  # noqa: E402
from condgan.data.arrays import ArraySet  # noqa: E402
from condgan.models import build_discriminator, build_generator  # noqa: E402
from condgan.train.loop import build_gan, train  # noqa: E402


def bench_config(batch: int) -> TrainConfig:
    return TrainConfig(name="bench", conditioning="concat", spectral_norm=False, d_dropout=0.4,
                       loss="bce", g_lr=2e-4, d_lr=2e-4, beta1=0.5, ema_decay=0.999,
                       batch_size=batch, g_channels=64, d_channels=32, tensorboard=True, verbose=0,
                       checkpoint_every_steps=0)


def synthetic_data(steps: int, batch: int) -> ArraySet:
    rng = np.random.default_rng(0)
    n = steps * batch
    return ArraySet(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                    (np.arange(n) % 10).astype(np.int64), [str(i) for i in range(10)], {})


def classic_runner(config: TrainConfig, data: ArraySet):
    """The Keras-2-era recipe: two D.train_on_batch calls and one combined-model call."""
    g = build_generator(32, config.latent_dim, config.g_channels, 10, "concat")
    d = build_discriminator(32, config.d_channels, 10, "concat", dropout=config.d_dropout)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    d.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), bce)
    d.trainable = False
    noise_in, label_in = keras.Input((config.latent_dim,)), keras.Input((), dtype="int32")
    combined = keras.Model([noise_in, label_in], d([g([noise_in, label_in]), label_in]))
    combined.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), bce)
    rng = np.random.default_rng(1)
    batch = config.batch_size
    ones, zeros = np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)
    x = data.x.astype(np.float32) / 127.5 - 1
    y = data.y.astype(np.int32)

    def run(steps: int) -> float:
        start = time.perf_counter()
        for i in range(steps):
            j = (i * batch) % (len(x) - batch + 1)
            real, labels = x[j:j + batch], y[j:j + batch]
            noise = rng.standard_normal((batch, config.latent_dim)).astype(np.float32)
            fake = g.predict_on_batch([noise, labels])
            d.train_on_batch([real, labels], ones)
            d.train_on_batch([fake, labels], zeros)
            combined.train_on_batch([noise, labels], ones)
        return steps * batch / (time.perf_counter() - start)

    return run


def fused_runner(config: TrainConfig, data: ArraySet):
    """The bare fused step: the trainer's own train_step in a tf.function, nothing around it."""
    gan = build_gan(config, 10)
    x = tf.constant(data.x.astype(np.float32) / 127.5 - 1)
    y = tf.constant(data.y.astype(np.int32))
    step = tf.function(gan.train_step, jit_compile=False)
    batch = config.batch_size

    def run(steps: int) -> float:
        start = time.perf_counter()
        for i in range(steps):
            j = (i * batch) % (int(x.shape[0]) - batch + 1)
            logs = step((x[j:j + batch], y[j:j + batch]))
        float(logs["d_loss"])
        return steps * batch / (time.perf_counter() - start)

    run.step_fn, run.example = step, (x[:batch], y[:batch])
    return run


class InterleavedRounds(keras.callbacks.Callback):
    """Runs inside condgan's trainer, last in the callback list: times each whole epoch
    (batches plus the epoch-end checkpoint, grid and plot) and then, outside that window,
    runs one round of each of the other runners, so all three share the machine's weather."""

    def __init__(self, others: dict, steps: int, batch: int, rates: dict):
        super().__init__()
        self.others, self.steps, self.batch, self.rates = others, steps, batch, rates
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        if epoch == 0:
            return  # the first epoch traces the step function
        self.rates["trainer"].append(self.steps * self.batch / seconds)
        for name, run in self.others.items():
            self.rates[name].append(run(self.steps))


def training_flops_per_image(fused) -> float:
    graph = fused.step_fn.get_concrete_function(fused.example).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph, options=opts)
    return profile.total_float_ops / int(fused.example[0].shape[0])


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    matmul = tf.function(lambda: tf.matmul(a, b))
    matmul().numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = matmul()
    out.numpy()
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="steps per measured round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    config = bench_config(args.batch)
    data = synthetic_data(args.steps, args.batch)
    others = {"classic": classic_runner(config, data), "fused": fused_runner(config, data)}
    for run in others.values():
        run(5)  # trace and warm up
    rates = {"classic": [], "fused": [], "trainer": []}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(**{**config.to_json(), "epochs": args.rounds + 1})
        train(cfg, Path(tmp) / "run", data=data,
              extra_callbacks=[InterleavedRounds(others, args.steps, args.batch, rates)])
    flops = training_flops_per_image(others["fused"])
    peak = matmul_gflops()
    median = {name: statistics.median(values) for name, values in rates.items()}
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg(), "batch": args.batch, "steps_per_round": args.steps,
        "rounds": rates, "median_images_per_s": median,
        "trainer_vs_classic": median["trainer"] / median["classic"],
        "fused_vs_classic": median["fused"] / median["classic"],
        "trainer_vs_fused": median["trainer"] / median["fused"],
        "train_gflop_per_image": flops / 1e9,
        "achieved_gflops_fused": median["fused"] * flops / 1e9, "matmul_gflops": peak,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
