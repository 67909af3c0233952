"""Train a tiny GAN in a fresh process (tests need fresh processes for logical devices,
multi-worker clusters, SIGKILL and the Keras backend).  Usage:
    python tests/scripts/train_tiny.py RUN_DIR [--backend tensorflow|jax] [--logical-cpus N]
        [--strategy S] [--resume] [--kill-at-step K] [--set key=value ...]
Writes RUN_DIR/final_state.npz (every variable) when training finishes.
"""
import argparse
import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

parser = argparse.ArgumentParser()
parser.add_argument("run_dir")
parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "jax"])
parser.add_argument("--logical-cpus", type=int, default=0)
parser.add_argument("--strategy", default="default")
parser.add_argument("--resume", action="store_true")
parser.add_argument("--kill-at-step", type=int, default=0)
parser.add_argument("--images", type=int, default=96)
parser.add_argument("--set", dest="overrides", action="append", default=[])
args = parser.parse_args()

os.environ["KERAS_BACKEND"] = args.backend
if args.logical_cpus and args.backend == "jax":  # read when JAX starts
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.logical_cpus}"

import numpy as np  # noqa: E402

if args.logical_cpus and args.backend == "tensorflow":
    import tensorflow as tf  # noqa: E402

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.logical_cpus)])

import keras  # noqa: E402
keras.config.disable_traceback_filtering()

from condgan.config import apply_overrides  # noqa: E402
from condgan.families.gan import GanConfig  # noqa: E402
from condgan.data.arrays import ArraySet  # noqa: E402
from condgan.runs import train_run as train  # noqa: E402
from condgan.train.state import training_state  # noqa: E402


def tiny_data(n: int) -> ArraySet:
    """Two classes of 16x16 images: dark blobs and bright stripes (learnable in a few steps)."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = rng.integers(0, 60, (n, 16, 16, 3)).astype(np.uint8)
    x[y == 1, :, ::2] = 230
    return ArraySet(x, y.astype(np.int64), ["dark", "stripes"], {"source": "tiny test data"})


class KillAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.count = 0
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class SaveFinal(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        np.savez(os.path.join(args.run_dir, "final_state.npz"),
                 **training_state(self.model, 0, 0, 0.0))


config = GanConfig(name="tiny", image_size=16, latent_dim=16, g_channels=16, d_channels=16,
                     batch_size=16, epochs=2, checkpoint_every_steps=2, tensorboard=False,
                     samples_per_class=4, verbose=0, strategy=args.strategy)
config = apply_overrides(config, args.overrides)
callbacks = [SaveFinal()] + ([KillAt(args.kill_at_step)] if args.kill_at_step else [])
train(config, args.run_dir, resume=args.resume, data=tiny_data(args.images), extra_callbacks=callbacks)
