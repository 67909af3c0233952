"""`python -m condgan make-shapes`: write the Shapes captioned data set (condgan.data.shapes),
or, to a `.npz` path, its one-object images as an array set for an unconditional GAN."""
from __future__ import annotations

import argparse
import sys
import time


def add_make_shapes_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True,
                        help="output folder, e.g. data/shapes; a .npz path (e.g. "
                             "data/shapes_one.npz) writes one-object images without captions")
    parser.add_argument("--n", type=int, default=20000, help="number of images (default 20000)")
    parser.add_argument("--size", type=int, default=64, help="image size in px, 32..256 (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--test-fraction", type=float, default=0.1,
                        help="fraction held out as the 'test' split (default 0.1)")


def run_make_shapes(args: argparse.Namespace) -> int:
    from condgan.data.shapes import SHAPES_VERSION, write_shapes

    start = time.time()
    command = "python -m condgan " + " ".join(sys.argv[1:])
    if args.output.endswith(".npz"):
        from condgan.data.shapes import write_shapes_arrays

        path = write_shapes_arrays(args.output, args.n, args.size, args.seed, command=command)
        print(f"wrote {args.n} one-object Shapes images ({args.size} px, seed {args.seed}, "
              f"generator v{SHAPES_VERSION}) to {path} in {time.time() - start:.1f} s")
        return 0
    folder = write_shapes(args.output, args.n, args.size, args.seed, args.test_fraction,
                          command=command)
    print(f"wrote {args.n} Shapes images ({args.size} px, seed {args.seed}, generator "
          f"v{SHAPES_VERSION}) with 10 captions each to {folder}/captions.jsonl "
          f"in {time.time() - start:.1f} s")
    return 0
