"""`train-classifier` and `evaluate`: thin argument parsing around condgan.metrics."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from condgan.errors import UserError

DATA_HELP = ("labelled images: 'cifar10' (keras download), the CIFAR-10 python batches folder "
             "or tarball, a class-folder tree ROOT/{train,test}/<class>/, or an .npz array set")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_train_classifier_arguments(parser: argparse.ArgumentParser) -> None:
    from condgan.metrics.classifier import ClassifierConfig

    d = ClassifierConfig()
    parser.add_argument("--data", required=True, help=DATA_HELP)
    parser.add_argument("--test-data", help="test set (.npz array set or the same kinds as --data); "
                        "default: the test split of --data, or a held-out part of an .npz")
    parser.add_argument("--holdout", type=float, default=0.1,
                        help="fraction of an .npz --data held out for testing when no --test-data")
    parser.add_argument("-o", "--out", required=True, help="output folder, e.g. models/classifiers/cifar10")
    parser.add_argument("--epochs", type=_positive_int, default=d.epochs)
    parser.add_argument("--width", type=_positive_int, default=d.width,
                        help="channels of the first conv (stages use 2x, 4x, 8x)")
    parser.add_argument("--batch-size", type=_positive_int, default=d.batch_size)
    parser.add_argument("--lr", type=float, default=d.peak_lr, help="peak one-cycle learning rate")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--limit", type=_positive_int, help="use only the first N training images (smoke tests)")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint in --out")
    parser.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="keras fit verbosity")


def run_train_classifier(args: argparse.Namespace) -> int:
    import numpy as np

    from condgan.metrics.classifier import ClassifierConfig
    from condgan.metrics.classifier_train import train_classifier
    from condgan.metrics.datasets import train_test_sets

    if not 0.0 < args.holdout < 1.0:
        raise UserError(f"--holdout {args.holdout} must lie strictly between 0 and 1, e.g. 0.1")
    train, test = train_test_sets(args.data, args.test_data, args.holdout, args.seed)
    if args.limit and args.limit < len(train):
        # A seeded random subset: stored sets are often sorted by class.
        keep = np.sort(np.random.default_rng(args.seed).choice(len(train), args.limit, replace=False))
        train = type(train)(train.x[keep], train.y[keep], train.classes, train.meta)
    cfg = ClassifierConfig(width=args.width, epochs=args.epochs, batch_size=args.batch_size,
                           peak_lr=args.lr, seed=args.seed)
    train_classifier(train, test, args.out, cfg, resume=not args.no_resume,
                     command="python -m condgan train-classifier " + " ".join(sys.argv[2:])
                     if sys.argv[1:2] == ["train-classifier"] else None,
                     verbose=args.verbose, say=lambda line: print(line, flush=True))
    return 0


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    from condgan.metrics.ppl import DEFAULT_PAIRS
    from condgan.metrics.registry import IMAGES, names_for

    labelled, caption = ",".join(names_for(IMAGES)), ",".join(names_for(["caption"]))
    class_only = ",".join(m for m in names_for(["class"]) if m not in names_for(["none"]))
    parser.add_argument("model", help="an exported model folder with card.json, e.g. models/cgan_cifar10")
    parser.add_argument("--data", required=True, help=DATA_HELP + "; a captioned folder (its test "
                        "split) for caption models")
    parser.add_argument("--split", default="test", choices=("train", "test"),
                        help="reference split of --data (an .npz is used whole)")
    parser.add_argument("-n", "--n", type=_positive_int, default=None,
                        help="number of generated images (default 10000; caption models: 1000 "
                        "held-out captions)")
    parser.add_argument("--classifier", help="reference classifier folder (default: "
                        "models/classifiers/<data name>, or skip classifier metrics; for Shapes "
                        "data without one, the Shapes attribute classifier, whose feature maps "
                        "serve classifier_ppl only); for caption models the attribute classifier "
                        "(default models/classifiers/shapes_attributes)")
    parser.add_argument("--damsm", help="caption models: the DAMSM run for R-precision (default: "
                        "the card's own; another one's numbers are stored as metric@RUN)")
    parser.add_argument("--metrics", default="auto",
                        help=f"comma-separated subset of {labelled} ({class_only}: "
                        "class-conditional models only); 'auto': classifier metrics, plus "
                        "Inception metrics when its weights are available (perceptual path "
                        "length, ppl_lpips and classifier_ppl, only when named).  Caption models: "
                        f"{caption} ('auto': every one their judges allow, path length only when "
                        "named)")
    parser.add_argument("--inception-weights", help="local InceptionV3 .h5 weights file "
                        "(default: ~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5)")
    parser.add_argument("--ppl-pairs", type=_positive_int, default=DEFAULT_PAIRS,
                        help=f"perceptual path length: pairs of latents walked (default "
                        f"{DEFAULT_PAIRS}; StyleGAN used 100,000)")
    parser.add_argument("--lpips-weights", help="ppl_lpips: local VGG16 ImageNet weights file "
                        "without the top (default: ~/.keras/models/"
                        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5; never downloaded)")
    parser.add_argument("--lpips-linear", help="ppl_lpips: LPIPS' linear layers as a local .npz "
                        "(arrays lin0..lin4); without it the unweighted LPIPS variant")
    parser.add_argument("--no-download", action="store_true",
                        help="never download InceptionV3 weights (an error instead, if they are missing)")
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "condgan" / "stats"),
                        help="folder for cached reference statistics")
    parser.add_argument("--batch-size", type=_positive_int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-card", action="store_true", help="print only; do not update card.json")
    parser.add_argument("--replace", action="store_true",
                        help="replace metrics card.json already has (without it, only metrics the "
                             "card lacks are written, and each one kept is reported)")


def run_evaluate(args: argparse.Namespace) -> int:
    from condgan.metrics.evaluate import evaluate, format_table

    if args.replace and args.no_card:
        raise UserError("--replace and --no-card contradict each other: --no-card writes nothing "
                        "to card.json; drop one of them")
    results = evaluate(
        args.model, args.data, split=args.split, n=args.n, classifier_dir=args.classifier,
        damsm_dir=args.damsm, metrics=args.metrics, inception_weights=args.inception_weights,
        cache_dir=args.cache_dir, batch_size=args.batch_size, seed=args.seed,
        ppl_pairs=args.ppl_pairs, lpips_weights=args.lpips_weights, lpips_linear=args.lpips_linear,
        write_card=not args.no_card, replace=args.replace, allow_download=not args.no_download,
        say=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(results))
    return 0
