"""Class-to-class interpolation of a projection cGAN, measured: for each pair of classes, the
same noise drawn at class weights walking from one class to the other, and what a classifier
reads at every step (the share labelled as the first class, the second, or anything else).  A
walk that works hands over from one class to the other with few images read as a third class
on the way; the midpoint says where the model's classes meet.

    python bench/class_interpolation.py models/cgan_cifar10 [--classifier models/classifiers/cifar10] \\
        [--pair automobile:truck --pair cat:dog ...] [--n 200] [--steps 9] [--out runs/class_interpolation]

Prints one table per pair and writes OUT/results.json and OUT/PAIR.png (8 seeds per pair).  The
model folder is only read.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DEFAULT_PAIRS = ("automobile:truck", "cat:dog", "airplane:ship", "deer:horse", "automobile:horse")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--classifier", default="models/classifiers/cifar10")
    parser.add_argument("--pair", action="append", help="FROM:TO (repeatable)")
    parser.add_argument("--n", type=int, default=200, help="seeds (walks) per pair")
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--out", default="runs/class_interpolation")
    args = parser.parse_args(argv)

    from condgan.api import load_generator
    from condgan.control.class_blend import measure_interpolation
    from condgan.metrics.reference import ReferenceClassifier
    from condgan.viz import save_grid

    generator = load_generator(args.model)
    classifier = ReferenceClassifier(args.classifier)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"model": args.model, "classifier": args.classifier, "n": args.n,
               "steps": args.steps, "pairs": {}}
    for pair in args.pair or DEFAULT_PAIRS:
        start, _, end = pair.partition(":")
        began = time.perf_counter()
        row = measure_interpolation(generator, classifier, start, end, args.n, args.steps)
        row["seconds"] = round(time.perf_counter() - began, 1)
        results["pairs"][pair] = row
        print(f"\n{start} -> {end} ({args.n} walks, {row['seconds']} s; median hand-over at "
              f"t = {row['median_handover_t']:.2f})")
        print("t      " + " ".join(f"{t:5.2f}" for t in row["t"]))
        for key, name in (("start", start), ("end", end), ("other", "other")):
            print(f"{name[:6]:6} " + " ".join(f"{v:5.2f}" for v in row[key]))
        save_grid(generator.class_interpolation(start, end, args.steps, range(8)),
                  out / f"{start}_{end}.png", columns=args.steps)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\nwrote {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
