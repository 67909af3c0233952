"""`python -m condgan train-shapes-attributes`: the Shapes attribute classifier that reads a
caption's attributes off an image (caption accuracy of text-to-image models)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from condgan.errors import UserError

# Where `train-shapes-attributes` writes, and `evaluate` looks, by default; shipped.
DEFAULT_SHAPES_CLASSIFIER = "models/classifiers/shapes_attributes"


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
        train = train.subset(keep)
        attributes = train.meta["attributes"]
    path = train_classifier(train.images, attributes, args.out, epochs=args.epochs)
    test = load_caption_split(args.data, "test", args.image_size)
    result = caption_accuracy(load_classifier(path), test.images, test.meta["attributes"])
    from condgan.metrics.attngan_caption_accuracy import save_json
    save_json(Path(args.out) / "real_test_accuracy.json", result)
    print(json.dumps({"classifier": str(path), "real_test_accuracy": result}))
    return 0
