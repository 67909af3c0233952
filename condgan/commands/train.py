"""`python -m condgan train`: parse arguments, call `condgan.train.loop.train`."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from condgan.config import TrainConfig, load_config


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (configs/*.py); defaults apply without one")
    parser.add_argument("--data", help="'cifar10', a CIFAR-10 copy, an .npz array set or class folders "
                        "(overrides the config's data)")
    parser.add_argument("--name", help="run name (default: the config's name); the run goes to runs/NAME")
    parser.add_argument("--run-dir", help="explicit run directory (default: runs/NAME)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run from its newest checkpoint, with its saved config; "
                        "--set may change only its schedule (epochs, max_minutes, ...)")
    parser.add_argument("--strategy", choices=["default", "mirrored", "multiworker"],
                        help="tf.distribute strategy (overrides the config)")
    parser.add_argument("--verbose", action="store_true",
                        help="show Keras' own progress output and TensorFlow's log messages too")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set epochs=5 (repeatable)")


def run_train(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    overrides = list(args.overrides)
    if args.verbose:  # (condgan.cli has already let TensorFlow's own log through)
        overrides.append("verbose=2")
    for key in ("data", "name", "strategy"):
        if getattr(args, key):
            overrides.append(f"{key}={getattr(args, key)}")
    from condgan.config import apply_overrides
    from condgan.train.loop import saved_run_config, train

    config = load_config(args.config, overrides, expect=TrainConfig)
    if not args.run_dir:  # the name becomes runs/NAME: no "../" or "/" may steer it elsewhere
        from condgan.export import check_model_name

        check_model_name(config.name, "run name")
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / config.name
    if args.resume:  # the run's own config; only schedule keys may be overridden
        config = apply_overrides(saved_run_config(run_dir), overrides)

    summary = train(config, run_dir, resume=args.resume)
    print(f"done: {summary['images_seen']} images in {summary['wall_time_s']:.0f}s -> {run_dir}")
    return 0
