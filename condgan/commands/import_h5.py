"""`python -m condgan import`: a Keras-2-era generator `.h5` as a model folder (docs/importing.md)."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    # `--value-range -1,1`: argparse takes only plain negative numbers for values, so "-1,1"
    # would read as an unknown option; a value that starts with a number is a value here.
    parser._negative_number_matcher = re.compile(r"^-\.?\d")
    parser.add_argument("h5", help="the generator file a Keras 2 model.save(...) wrote, e.g. generator.h5")
    parser.add_argument("--name", required=True, help="model name: the folder under --models-dir")
    parser.add_argument("--models-dir", default="models", help="where models live (default: models)")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--classes", help="class names, label 0 first, comma-separated "
                                           "(class-conditional models; asked for when missing)")
    classes.add_argument("--classes-from", metavar="SOURCE",
                         help="class names from: cifar10, a model folder, or a labelled array set "
                              "(NAME.json)")
    parser.add_argument("--latent-dim", type=int, default=None,
                        help="noise size, only for a model whose noise input does not say it")
    parser.add_argument("--value-range", default=None, metavar="LOW,HIGH",
                        help="the output's range, e.g. -1,1 or 0,1 (default: from the last "
                             "activation: tanh -1,1, sigmoid 0,1)")
    parser.add_argument("--no-cross-check", action="store_true",
                        help="skip the comparison with Keras 2's (tf_keras) output")
    parser.add_argument("--replace", action="store_true",
                        help="replace an existing models_dir/NAME (its card's metrics are kept only "
                             "when it was imported from the very same file)")


def ask_classes_on_terminal(count: int) -> list[str] | None:
    """Class names typed by the user (None when standard input is not a terminal)."""
    from condgan.families.gan.import_h5 import parse_classes

    if not sys.stdin.isatty():
        return None
    print(f"The model takes a class label with {count} classes; the file does not name them.")
    while True:
        try:
            text = input(f"{count} class names, comma-separated, label 0 first "
                         "(or 'cifar10'): ").strip()
        except EOFError:
            return None
        if text == "cifar10":
            from condgan.data.cifar10 import CIFAR10_CLASSES

            names = list(CIFAR10_CLASSES)
        else:
            from condgan.errors import UserError

            try:
                names = parse_classes(text)
            except UserError as error:
                print(error)
                continue
        if len(names) == count:
            return names
        print(f"that is {len(names)} names; the model has {count} classes")


def run_import(args: argparse.Namespace) -> int:
    from condgan.families.gan.import_h5 import classes_from, import_h5, parse_classes

    classes = (parse_classes(args.classes) if args.classes
               else classes_from(args.classes_from) if args.classes_from else None)
    import_h5(args.h5, Path(args.models_dir) / args.name, classes=classes,
              latent_dim=args.latent_dim, value_range=args.value_range, replace=args.replace,
              ask_classes=ask_classes_on_terminal, cross_check=not args.no_cross_check)
    return 0
