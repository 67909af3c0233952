"""`python -m condgan train-attngan`, `export-attngan`, `sample-attngan`, `evaluate-attngan`,
`train-shapes-attributes` (AttnGAN part 2)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from condgan.commands.export import add_checkpoint_argument, add_replace_argument
from condgan.errors import UserError

# Where `train-shapes-attributes` writes, and `evaluate-attngan` looks, by default; shipped.
DEFAULT_SHAPES_CLASSIFIER = "models/classifiers/shapes_attributes"


def add_train_attngan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="config file, e.g. configs/attngan_shapes.py")
    parser.add_argument("--data", required=True,
                        help="captioned folder (captions.jsonl) or AttnGAN birds folder")
    parser.add_argument("--damsm", required=True,
                        help="pretrained DAMSM run folder (pretrain-damsm), e.g. runs/damsm_shapes")
    parser.add_argument("--run-dir", default=None, help="default runs/<config name>; re-running resumes")
    parser.add_argument("--strategy", default=None, choices=("default", "mirrored", "multiworker"),
                        help="tf.distribute strategy (default: the config's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set epochs=2 --set stages=1")


def run_train_attngan(args: argparse.Namespace) -> int:
    from condgan.config import load_config
    from condgan.train.attngan_run import AttnGANConfig, train_attngan

    sets = list(args.set) + ([f"strategy={args.strategy}"] if args.strategy else [])
    cfg = load_config(args.config, sets, expect=AttnGANConfig)
    run_dir = args.run_dir or f"runs/{cfg.name}"
    summary = train_attngan(cfg, args.data, args.damsm, run_dir, log_fn=lambda m: print(m, flush=True))
    print(json.dumps({"run_dir": run_dir, **summary}))
    return 0


def add_export_attngan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a train-attngan run, e.g. runs/attngan_shapes")
    parser.add_argument("--name", required=True, help="model name: the folder under --models-dir")
    parser.add_argument("--models-dir", default="models", help="default: models")
    add_checkpoint_argument(parser)
    add_replace_argument(parser)


def run_export_attngan(args: argparse.Namespace) -> int:
    from condgan.attngan_export import export_run
    out = export_run(args.run_dir, args.name, args.models_dir, args.checkpoint, replace=args.replace)
    print(f"exported {args.run_dir} -> {out}")
    return 0


def add_sample_attngan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported caption model, e.g. models/attngan_shapes")
    parser.add_argument("--caption", action="append", required=True,
                        help="caption (repeatable); each gets -n images, one row")
    parser.add_argument("-n", type=int, default=8, help="images per caption")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same images")
    parser.add_argument("-o", "--output", default="samples.png", help="PNG grid to write")


def run_sample_attngan(args: argparse.Namespace) -> int:
    from condgan.attngan_export import load_attngan
    from condgan.viz import save_grid

    if args.n < 1:
        raise UserError(f"-n must be at least 1, got {args.n}")
    if not str(args.output).lower().endswith(".png"):
        raise UserError(f"output {args.output!r} must end in .png")
    model = load_attngan(args.model_dir)
    captions = [c for c in args.caption for _ in range(args.n)]
    images = model.generate(captions=captions, seed=args.seed)
    for caption in args.caption:
        missing = model.check_caption(caption)
        if missing:
            print(f"unknown words ignored in {caption!r}: {missing}")
    path = save_grid(images, Path(args.output), columns=args.n)
    print(f"wrote {len(images)} images to {path}")
    return 0


def add_train_shapes_attributes_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="Shapes folder written by make-shapes")
    parser.add_argument("--out", default=DEFAULT_SHAPES_CLASSIFIER,
                        help="classifier folder")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-images", type=int, default=None, help="use the first N training images")


def run_train_shapes_attributes(args: argparse.Namespace) -> int:
    import numpy as np

    from condgan.metrics.attngan_caption_accuracy import caption_accuracy, load_classifier, train_classifier
    from condgan.data.caption_sets import load_caption_split

    train = load_caption_split(args.data, "train", args.image_size)
    attributes = train.meta.get("attributes") or [None]
    if attributes[0] is None:
        raise UserError(f"{args.data}: captions.jsonl has no attributes: use a Shapes folder "
                        "(python -m condgan make-shapes)")
    if args.max_images:
        keep = np.arange(min(args.max_images, len(train)))
        train, attributes = train.subset(keep), [attributes[i] for i in keep]
    path = train_classifier(train.images, attributes, args.out, epochs=args.epochs)
    test = load_caption_split(args.data, "test", args.image_size)
    result = caption_accuracy(load_classifier(path), test.images, test.meta["attributes"])
    from condgan.metrics.attngan_caption_accuracy import save_json
    save_json(Path(args.out) / "real_test_accuracy.json", result)
    print(json.dumps({"classifier": str(path), "real_test_accuracy": result}))
    return 0


def add_evaluate_attngan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported caption model, e.g. models/attngan_shapes")
    parser.add_argument("--data", required=True, help="the captioned folder with the test split")
    parser.add_argument("--damsm", default=None, help="DAMSM run (default: the one in the card)")
    parser.add_argument("--classifier", default=None,
                        help="Shapes attribute classifier folder (train-shapes-attributes); "
                             "default: models/classifiers/shapes_attributes when it exists")
    parser.add_argument("-n", type=int, default=1000, help="held-out captions to score")
    parser.add_argument("--replace", action="store_true",
                        help="replace metrics the card already has (never done unasked)")
    parser.add_argument("--no-card", action="store_true", help="print only; do not update card.json")


def run_evaluate_attngan(args: argparse.Namespace) -> int:
    from condgan.metrics.attngan_evaluate import evaluate_attngan
    if args.replace and args.no_card:
        raise UserError("--replace and --no-card contradict each other: drop one")
    classifier = args.classifier
    if classifier is None and Path(DEFAULT_SHAPES_CLASSIFIER).is_dir():
        classifier = DEFAULT_SHAPES_CLASSIFIER
    result = evaluate_attngan(args.model_dir, args.data, args.damsm, classifier, args.n,
                              write_card=not args.no_card, replace=args.replace,
                              say=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(result))
    return 0
