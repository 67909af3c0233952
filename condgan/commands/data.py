"""`python -m condgan get-data`: put a public data set where the configs and notebooks look."""
from __future__ import annotations

import argparse
import sys
import time

DATASETS = ("cifar10", "mnist")


def add_get_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=DATASETS, help="which data set")
    parser.add_argument("--from", dest="source", default=None,
                        help="a local copy to read instead of downloading.  cifar10: "
                             "cifar-10-python.tar.gz, its extracted batches folder, or a (.tar.gz "
                             "of a) class-folder tree train/<class>/*.jpg + test/<class>/*.jpg; "
                             "mnist: the folder of the IDX files (t10k-* at least, .gz or not).  "
                             "Default: download with keras")
    parser.add_argument("-o", "--output", default=None,
                        help="output folder: train.npz and test.npz (default: data/DATASET)")


def run_get_data(args: argparse.Namespace) -> int:
    from condgan.data.cifar10 import write_cifar10
    from condgan.data.mnist import write_mnist

    start = time.time()
    output = args.output or f"data/{args.dataset}"
    write = {"cifar10": write_cifar10, "mnist": write_mnist}[args.dataset]
    written = write(args.source or args.dataset, output,
                    command="python -m condgan " + " ".join(sys.argv[1:]))
    for split, path in written.items():
        print(f"wrote {path} ({split})")
    print(f"done in {time.time() - start:.0f} s: pass --data {output} to train, evaluate "
          "and the notebooks")
    return 0
