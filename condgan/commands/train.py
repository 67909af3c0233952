"""`python -m condgan train`: any model family's config in, a run directory out
(`condgan.runs.train_run`)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from condgan.train.strategies import ALL_STRATEGIES


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True,
                        help="config file (configs/*.py): GAN, cGAN, DAMSM, AttnGAN, ...")
    parser.add_argument("--data", help="the data (overrides the config's): 'cifar10', a CIFAR-10 "
                        "copy, an .npz array set or class folders; a captioned folder for text models")
    parser.add_argument("--damsm", help="AttnGAN: the pretrained DAMSM run folder it trains against "
                        "(overrides the config's), e.g. runs/damsm_shapes")
    parser.add_argument("--name", help="run name (default: the config's name); the run goes to runs/NAME")
    parser.add_argument("--run-dir", help="explicit run directory (default: runs/NAME)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run from its newest checkpoint, with its saved config; "
                        "--set may change only its schedule (epochs, max_minutes, ...)")
    parser.add_argument("--strategy", choices=ALL_STRATEGIES,
                        help="devices (overrides the config): mirrored or multiworker on TensorFlow, "
                        "data_parallel on JAX")
    parser.add_argument("--verbose", action="store_true",
                        help="show Keras' own progress output and TensorFlow's log messages too")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set epochs=5 (repeatable)")


def run_train(args: argparse.Namespace, resume: bool | str | None = None) -> int:
    """`resume`: the aliases of earlier versions (`train-attngan`, `pretrain-damsm`) resume an
    existing run without being asked, as they always did."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from condgan.config import apply_overrides, load_config
    from condgan.model_folder import check_model_name
    from condgan.runs import saved_run_config, train_run

    overrides = list(args.overrides)
    if args.verbose:  # (condgan.cli has already let TensorFlow's own log through)
        overrides.append("verbose=2")
    for key in ("data", "damsm", "name", "strategy"):
        if getattr(args, key, None):
            overrides.append(f"{key}={getattr(args, key)}")
    config = load_config(args.config, overrides)
    if not args.run_dir:  # the name becomes runs/NAME: no "../" or "/" may steer it elsewhere
        check_model_name(config.name, "run name")
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / config.name
    resume = args.resume if resume is None else resume
    if resume == "auto":
        resume = (run_dir / "config.json").is_file()
    if resume:  # the run's own config; only schedule keys may be overridden
        config = apply_overrides(saved_run_config(run_dir)[1], overrides)

    summary = train_run(config, run_dir, resume=resume)
    print(f"done: {summary['images_seen']:,} images in {summary['wall_time_s']:.0f}s -> {run_dir}")
    return 0
