"""Does the generator keep using its noise?  The GAN family's DCGAN G and spectrally normalised
D (widths 32) trained with the hinge loss in a plain TensorFlow loop on one-object Shapes, once
per instance-noise level; every 100 steps it prints D's loss and how much G's images differ
between 64 fixed noise rows (the per-pixel standard deviation across them, in [-1, 1] units:
about 0.4 for a fresh G, near 0 when it draws one image for every noise).

    python bench/instance_noise_probe.py [--steps 700] [--noise 0 0.3] [--data data/shapes_one.npz]

The data: `python -m condgan make-shapes -o data/shapes_one.npz --size 32`.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def probe(x, noise_std: float, steps: int, seed: int = 0) -> list[tuple[int, float, float]]:
    import keras
    import numpy as np
    import tensorflow as tf

    from condgan.models import build_discriminator, build_generator

    keras.utils.set_random_seed(seed)
    g, d = build_generator(32, 64, 32), build_discriminator(32, 32, spectral_norm=True)
    g_opt = keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
    d_opt = keras.optimizers.Adam(4e-4, beta_1=0.0, beta_2=0.9)

    @tf.function
    def step(real, z):
        with tf.GradientTape(persistent=True) as tape:
            fake = g(z, training=True)
            real_logits = d(real + noise_std * tf.random.normal(tf.shape(real)), training=True)
            fake_logits = d(fake + noise_std * tf.random.normal(tf.shape(fake)), training=True)
            d_loss = tf.reduce_mean(tf.nn.relu(1 - real_logits)) + tf.reduce_mean(tf.nn.relu(1 + fake_logits))
            g_loss = -tf.reduce_mean(fake_logits)
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        return d_loss

    rng = np.random.default_rng(seed)
    fixed = rng.normal(size=(64, 64)).astype("float32")
    rows = []
    for i in range(steps + 1):
        batch = x[rng.integers(0, len(x), 64)]
        d_loss = float(step(batch, rng.normal(size=(64, 64)).astype("float32")))
        if i % 100 == 0:
            spread = float(np.asarray(g(fixed, training=True)).std(axis=0).mean())
            rows.append((i, d_loss, spread))
            print(f"noise {noise_std:<4} step {i:>4}  d_loss {d_loss:6.3f}  spread across noise {spread:.3f}",
                  flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.3])
    parser.add_argument("--data", default="data/shapes_one.npz")
    args = parser.parse_args()
    from condgan.data.arrays import load_array_set

    x = load_array_set(args.data).x.astype("float32") / 127.5 - 1
    for noise_std in args.noise:
        probe(x, noise_std, args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
