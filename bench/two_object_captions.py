"""How a caption model draws two-object captions on Shapes: every held-out two-object image's
caption (caption i % 10 of held-out image i, seed 10000 + i, as `evaluate` chooses them), drawn
and read back by the attribute classifier, object by object; the real images with the same
captions as the ceiling.  Reported for all of them and split by whether the caption fits the
model's text encoder (its `max_len` words; longer ones it reads truncated).  Then, for the
shapes, which shape each named one is read as (objects found in their cell only): where the
shape errors go.  Needs no DAMSM (`evaluate` also reports R-precision, for which it does).

    python bench/two_object_captions.py [--model models/attngan_shapes] [--data data/shapes]
        [--classifier models/classifiers/shapes_attributes] [--json out.json]
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/attngan_shapes")
    parser.add_argument("--data", default="data/shapes")
    parser.add_argument("--classifier", default="models/classifiers/shapes_attributes")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import condgan
    from condgan.data.caption_sets import load_caption_split
    from condgan.families.attngan.family import RP_SEED
    from condgan.metrics.attngan_caption_accuracy import (attribute_confusion, load_classifier,
                                                           two_object_accuracy)
    from condgan.text import tokenize

    model = condgan.load_generator(args.model)
    test = load_caption_split(args.data, "test", model.image_size)
    attributes = test.meta["attributes"]
    pairs = [i for i, attrs in enumerate(attributes) if len(attrs["objects"]) == 2]
    captions = [test.captions[i][i % len(test.captions[i])] for i in pairs]
    # As `evaluate` counts: the words the text encoder knows, against its max_len.
    max_len = model.max_len
    fits = np.array([len([w for w in tokenize(c) if w in model.vocabulary]) <= max_len
                     for c in captions])
    generated = model.generate_for_seeds([RP_SEED + i for i in pairs], captions)
    classifier = load_classifier(args.classifier)
    chosen = [attributes[i] for i in pairs]
    results = {}
    for name, keep in (("all", np.ones(len(pairs), bool)), (f"<= {max_len} words", fits),
                       (f"> {max_len} words", ~fits)):
        if keep.any():
            subset = [a for a, k in zip(chosen, keep) if k]
            results[name] = {"generated": two_object_accuracy(classifier, generated[keep], subset),
                             "real": two_object_accuracy(classifier, test.images[pairs][keep], subset)}
    keys = ("colour", "shape", "size", "position", "both_objects_right", "background",
            "dropped_object", "extra_object")
    print(f"{args.model}: {len(pairs)} two-object held-out captions, {int(fits.sum())} of at most "
          f"{max_len} words")
    print("captions".ljust(16) + "images  " + "".join(k[:12].rjust(13) for k in keys))
    for name, sides in results.items():
        for side, value in sides.items():
            print(f"{name} {side}"[:15].ljust(16) + str(value["images"]).rjust(6) + "  "
                  + "".join(f"{value[k]:13.3f}" for k in keys))
    confusion = {"generated": attribute_confusion(classifier, generated, chosen, "shape"),
                 "real": attribute_confusion(classifier, test.images[pairs], chosen, "shape")}
    for side, found in confusion.items():
        values, matrix = found["values"], np.array(found["matrix"])
        print(f"shape named (rows) and read (columns), {side}: right {np.trace(matrix) / max(matrix.sum(), 1):.3f}"
              f" of {matrix.sum()} objects found in their cell")
        print(" " * 10 + "".join(v.rjust(10) for v in values))
        for value, row in zip(values, matrix):
            print(value.rjust(10) + "".join(str(c).rjust(10) for c in row))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"model": args.model, "max_len": max_len, "results": results,
                       "shape_confusion": confusion}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
