"""Training images/s of the cGAN step, three ways, side by side in one process:

1. **classic**: the Keras-2-era loop: `d.train_on_batch` on real, `d.train_on_batch` on fake,
   `gan.train_on_batch` through a combined model with D frozen;
2. **fused**: a bare `tf.function` step, one gradient tape for D and G, no callbacks (and
   **fused_two_pass**: the same without the shared backward pass through D on the fakes);
3. **trainer**: condgan's trainer as users run it: `fit()`, the EMA generator, every callback
   (history, checkpoints, sample grid and loss plot at epoch end), the real `tf.data` stream.

Same architecture (the classic recipe's label-concat cGAN, BCE), same batch size, same data.
Rounds are interleaved (classic, fused, trainer, classic, ...) so machine noise hits all three
alike; the median round is reported.  The trainer is also reported over the epoch users run
(`--epoch-steps`, CIFAR-10's 781): its in-fit step time plus one measured epoch end.

Also reports each loop's arithmetic per image (forward FLOPs of G and D from TensorFlow's
profiler, see `step_flops_per_image`), the achieved GFLOP/s against the machine's measured
float32 matrix-multiply rate, and the classic/fused FLOP ratio: the ceiling on what fusing
alone can gain on this architecture.

    python bench/train_throughput.py [--steps 60] [--rounds 3] [--batch 64] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

import keras

from condgan.families.gan import GanConfig
from condgan.data.arrays import ArraySet
from condgan.models import build_discriminator, build_generator
from condgan.families.gan.family import build_gan
from condgan.runs import train_run


def bench_config(batch: int) -> GanConfig:
    return GanConfig(name="bench", conditioning="concat", spectral_norm=False, d_dropout=0.4,
                       loss="bce", g_lr=2e-4, d_lr=2e-4, beta1=0.5, ema_decay=0.999,
                       batch_size=batch, g_channels=64, d_channels=32, tensorboard=True, verbose=0,
                       checkpoint_every_steps=0)


def synthetic_data(steps: int, batch: int) -> ArraySet:
    rng = np.random.default_rng(0)
    n = steps * batch
    return ArraySet(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                    (np.arange(n) % 10).astype(np.int64), [str(i) for i in range(10)], {})


def classic_runner(config: GanConfig, data: ArraySet):
    """The Keras-2-era recipe: two D.train_on_batch calls and one combined-model call."""
    g = build_generator(32, config.latent_dim, config.g_channels, 10, "concat")
    d = build_discriminator(32, config.d_channels, 10, "concat", dropout=config.d_dropout)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    d.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), bce)
    # Keras 2 froze `trainable` at compile(); Keras 3 reads it when the train function is
    # first traced. Trace D's train function while D is trainable, then freeze D for the
    # combined model -- otherwise d.train_on_batch silently trains nothing (and looks fast).
    warm = data.x[:config.batch_size].astype(np.float32) / 127.5 - 1
    d.train_on_batch([warm, data.y[:config.batch_size].astype(np.int32)],
                     np.ones((config.batch_size, 1), np.float32))
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

    run.generator, run.discriminator = g, d
    return run


def fused_runner(config: GanConfig, data: ArraySet, shared_fake_backward: bool = True):
    """The bare fused step: the trainer's own train_step in a tf.function, nothing around it.
    `shared_fake_backward=False` forces the two backward passes through D on the fakes."""
    gan = build_gan(config, 10)
    gan.shared_fake_backward = gan.shared_fake_backward and shared_fake_backward
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
    run.shared_fake_backward = gan.shared_fake_backward
    return run


class InterleavedRounds(keras.callbacks.Callback):
    """Runs inside condgan's trainer, last in the callback list.  At each epoch end it runs one
    round of each other runner; the trainer's round is everything between two such moments:
    fit() setup and teardown, the input pipeline, the steps, every callback's epoch-end work
    (checkpoint, sample grid, loss plot, TensorBoard).  The steps alone are timed too, so the
    epoch-end cost can be spread over a real epoch's length (`--epoch-steps`)."""

    def __init__(self, others: dict, steps: int, batch: int, rates: dict, costs: dict):
        super().__init__()
        self.others, self.steps, self.batch = others, steps, batch
        self.rates, self.costs = rates, costs
        self._cycle_start = self._first_batch = self._last_batch = None

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self._first_batch = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if self._cycle_start is not None:  # the first epoch traces the step function
            cycle = now - self._cycle_start
            steps_only = self._last_batch - self._first_batch
            self.rates["trainer"].append(self.steps * self.batch / cycle)
            self.costs["step_s"].append(steps_only / self.steps)
            self.costs["overhead_s"].append(cycle - steps_only)
        for name, run in self.others.items():
            self.rates[name].append(run(self.steps))
        self._cycle_start = time.perf_counter()


def _graph_flops(graph) -> float:
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=opts).total_float_ops


def forward_flops_per_image(model, inputs) -> float:
    """FLOPs of one forward pass, counted by TensorFlow's profiler on the traced graph."""
    graph = tf.function(lambda *x: model(list(x), training=True)).get_concrete_function(*inputs).graph
    return _graph_flops(graph) / int(inputs[0].shape[0])


def step_flops_per_image(classic, example, latent_dim: int, shared_fake_backward: bool) -> dict:
    """Arithmetic per image each loop executes, from the measured forward FLOPs of G (g) and
    D (d), with a backward pass costing one forward for the input gradients and one for the
    weight gradients.  (The profiler cannot count the steps directly: it counts every op in
    the traced graph, including gradients that are built and then pruned before running.)

    fused:   G fwd; D fwd on real and fake; D backward (weights and inputs) on both for the D
             loss; G backward (both) for the G loss; plus, unless the step shares D's backward
             pass on the fakes between the players (BCE, see condgan.train.tf_gan), a second D
             backward (inputs) on the fakes for the G loss: 3g + 6d shared, 3g + 7d not.
    classic: G fwd (predict); D fwd + backward on real, again on fake; then the combined
             model: G fwd, D fwd, D backward (inputs only, D frozen), G backward: 4g + 8d."""
    g, d = classic.generator, classic.discriminator
    real, labels = example
    noise = tf.zeros((int(real.shape[0]), latent_dim))
    g_flops = forward_flops_per_image(g, (noise, labels))
    d_flops = forward_flops_per_image(d, (real, labels))
    return {"g_forward": g_flops, "d_forward": d_flops,
            "fused": 3 * g_flops + (6 if shared_fake_backward else 7) * d_flops,
            "classic": 4 * g_flops + 8 * d_flops}


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
    parser.add_argument("--epoch-steps", type=int, default=781,
                        help="steps in the epoch users run (CIFAR-10 train split at batch 64: 781)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    config = bench_config(args.batch)
    data = synthetic_data(args.steps, args.batch)
    others = {"classic": classic_runner(config, data), "fused": fused_runner(config, data),
              "fused_two_pass": fused_runner(config, data, shared_fake_backward=False)}
    for run in others.values():
        run(5)  # trace and warm up
    rates = {"classic": [], "fused": [], "fused_two_pass": [], "trainer": []}
    costs = {"step_s": [], "overhead_s": []}
    classic_d = others["classic"].discriminator
    d_before = [w.copy() for w in classic_d.get_weights()]
    with tempfile.TemporaryDirectory() as tmp:
        # +1: the first epoch traces the step function; each later epoch is one trainer round.
        cfg = GanConfig(**{**config.to_json(), "epochs": args.rounds + 1})
        train_run(cfg, Path(tmp) / "run", data=data,
                  extra_callbacks=[InterleavedRounds(others, args.steps, args.batch, rates, costs)])
    if all(np.array_equal(a, b) for a, b in zip(d_before, classic_d.get_weights())):
        raise SystemExit("the classic loop did not train its discriminator: the comparison is void")
    flops = step_flops_per_image(others["classic"], others["fused"].example, config.latent_dim,
                                 others["fused"].shared_fake_backward)
    peak = matmul_gflops()
    median = {name: statistics.median(values) for name, values in rates.items()}
    step_s, overhead_s = statistics.median(costs["step_s"]), statistics.median(costs["overhead_s"])
    # The trainer over one real epoch: its steps plus one epoch end's work.
    median["trainer_real_epoch"] = (args.epoch_steps * args.batch
                                    / (args.epoch_steps * step_s + overhead_s))
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg(), "batch": args.batch, "steps_per_round": args.steps,
        "rounds": rates, "median_images_per_s": median,
        "trainer_vs_classic": median["trainer"] / median["classic"],
        "fused_vs_classic": median["fused"] / median["classic"],
        "fused_two_pass_vs_classic": median["fused_two_pass"] / median["classic"],
        "trainer_vs_fused": median["trainer"] / median["fused"],
        "epoch_steps": args.epoch_steps, "trainer_step_s": step_s,
        "trainer_epoch_overhead_s": overhead_s,
        "shared_fake_backward": others["fused"].shared_fake_backward,
        "trainer_real_epoch_vs_classic": median["trainer_real_epoch"] / median["classic"],
        "trainer_real_epoch_vs_fused": median["trainer_real_epoch"] / median["fused"],
        "gflop_per_image": {k: v / 1e9 for k, v in flops.items()},
        # What the fused step would gain over the classic loop if both ran at the same FLOP
        # rate: the arithmetic ceiling for fused_vs_classic on this architecture.
        "flop_ratio_classic_over_fused": flops["classic"] / flops["fused"],
        "achieved_gflops": {"fused": median["fused"] * flops["fused"] / 1e9,
                            "classic": median["classic"] * flops["classic"] / 1e9},
        "matmul_gflops": peak,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
