"""A few StyleGAN training steps, and its R1 penalty, on the backend KERAS_BACKEND names, from
given weights, data and random numbers, for the cross-backend test in tests/test_stylegan.py.
Usage:
    KERAS_BACKEND=tensorflow|jax python tests/scripts/stylegan_equivalence.py WORKDIR [--write-init]
`--write-init` saves the freshly built trainer's state to WORKDIR/init.npz (the other backend
then starts from it).  Random numbers come from the fixed tables of step_equivalence.py.
Writes WORKDIR/BACKEND.npz: the R1 penalty per image of the initial D on fixed images, each
step's logged losses, and every checkpointed array after the last step.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from step_equivalence import RandomTables, nudged_zeros, recorder, tiny_images  # noqa: E402

STEPS = 3
BATCH = 8
# Every part of the step: class conditioning, style mixing, R1 on steps 0 and 2 (interval 2),
# DiffAugment and annealed instance noise on D's inputs, the EMA generator.
CONFIG = dict(name="eq", image_size=8, latent_dim=8, w_dim=8, mapping_layers=2, channels=[8, 8],
              conditional=True, style_mixing=0.5, r1_gamma=1.0, r1_interval=2,
              diffaugment="color,translation,cutout", d_input_noise=0.2, d_input_noise_steps=10,
              batch_size=BATCH, tensorboard=False, verbose=0)


def main() -> None:
    import keras

    from condgan.data.arrays import ArraySet
    from condgan.families.stylegan import StyleganConfig
    from condgan.families.stylegan.family import FAMILY
    from condgan.train.penalties import r1_penalty
    from condgan.train.state import restore_training_state, training_state
    from condgan.train.strategies import make_strategy

    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--write-init", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    x, y = tiny_images(4 * BATCH, size=8)
    data = ArraySet(x, y.astype(np.int64), ["dark", "stripes"], {"source": "tiny"})
    config = StyleganConfig(**CONFIG)
    prepared = FAMILY.prepare(config, data, None, print)
    trainer = FAMILY.build(config, prepared, False)
    init_file = args.workdir / "init.npz"
    if args.write_init:
        np.savez(init_file, **nudged_zeros(training_state(trainer, 0, 0, 0.0)))
    with np.load(init_file, allow_pickle=False) as init:
        restore_training_state(trainer, dict(init), prepared.stream.global_batch)

    images = np.random.default_rng(3).uniform(-1, 1, (BATCH, 8, 8, 3)).astype(np.float32)
    labels = (np.arange(BATCH) % 2).astype(np.int32)
    judge = trainer.judge(keras.ops.convert_to_tensor(labels))
    r1 = np.asarray(r1_penalty(trainer, judge, keras.ops.convert_to_tensor(images)))

    trainer.random_numbers = RandomTables(STEPS, prepared.stream.global_batch)
    first, losses = {}, []
    trainer.fit(prepared.stream.distributed(make_strategy("default"), 0), steps_per_epoch=STEPS,
                epochs=1, verbose=0, shuffle=False, callbacks=[recorder(first, losses)])
    names = sorted(losses[0])
    final = training_state(trainer, STEPS, 0, 0.0)
    np.savez(args.workdir / f"{keras.backend.backend()}.npz", r1=r1,
             losses=np.array([[step[k] for k in names] for step in losses]),
             loss_names=np.array(names), **{f"final:{k}": v for k, v in final.items()})


if __name__ == "__main__":
    main()
