"""`python -m condgan get-data`: put a public data set where the configs and notebooks look."""
from __future__ import annotations

import argparse
import sys
import time

DATASETS = ("cifar10",)


def add_get_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=DATASETS, help="which data set")
    parser.add_argument("--from", dest="source", default="cifar10",
                        help="a local copy to read instead of downloading: cifar-10-python.tar.gz, "
                             "its extracted batches folder, or a (.tar.gz of a) class-folder tree "
                             "train/<class>/*.jpg + test/<class>/*.jpg (default: download with keras)")
    parser.add_argument("-o", "--output", default="data/cifar10",
                        help="output folder: train.npz and test.npz (default: data/cifar10)")


def run_get_data(args: argparse.Namespace) -> int:
    from condgan.data.cifar10 import write_cifar10

    start = time.time()
    written = write_cifar10(args.source, args.output,
                            command="python -m condgan " + " ".join(sys.argv[1:]))
    for split, path in written.items():
        print(f"wrote {path} ({split})")
    print(f"done in {time.time() - start:.0f} s: pass --data {args.output} to train, evaluate "
          "and the notebooks")
    return 0
