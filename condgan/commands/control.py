"""`python -m condgan find-directions`: attribute directions for a model's edits, measured."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

READERS = ("shapes",)


def add_find_directions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported model with noise input, e.g. models/gan_shapes")
    parser.add_argument("--reader", choices=READERS, default="shapes",
                        help="what reads the attributes off the images (default shapes: the "
                             "Shapes attribute classifier, for one-object Shapes generators)")
    parser.add_argument("--classifier", default="models/classifiers/shapes_attributes",
                        help="the reader's classifier folder")
    parser.add_argument("--attributes", default=None,
                        help="comma-separated attributes (default: colour,size,position,background)")
    parser.add_argument("--n", type=int, default=4000, help="images to fit on (default 4000)")
    parser.add_argument("--probe", type=int, default=200,
                        help="fresh images per edit to measure it on (default 200)")
    parser.add_argument("--strengths", default="1,2", help="strengths to measure (default 1,2)")
    parser.add_argument("--orthogonal", action="store_true",
                        help="make each direction orthogonal to the other attributes' "
                             "directions (InterFaceGAN's conditional manipulation)")
    parser.add_argument("--space", choices=("auto", "z", "w"), default="auto",
                        help="the latent space to find them in: z, the noise; w, a StyleGAN's "
                             "intermediate latent (default auto: w for StyleGAN models, else z)")
    parser.add_argument("--seed", type=int, default=0, help="first seed of the images fitted on")
    parser.add_argument("--replace", action="store_true",
                        help="replace directions the model folder has already")


def run_find_directions(args: argparse.Namespace) -> int:
    from condgan.api import load_generator
    from condgan.control.directions import VECTORS_FILE
    from condgan.control.find import find_directions, latent_view, measure_edits
    from condgan.control.shapes_reader import ShapesAttributeReader
    from condgan.errors import UserError

    folder = Path(args.model_dir)
    if (folder / VECTORS_FILE).is_file() and not args.replace:
        raise UserError(f"{folder} has directions already ({VECTORS_FILE}): pass --replace to "
                        "find and write new ones in their place")
    if args.n < 100 or args.probe < 10:
        raise UserError(f"--n {args.n} / --probe {args.probe}: fit on at least 100 images and "
                        "measure on at least 10")
    try:
        strengths = [float(s) for s in args.strengths.split(",")]
    except ValueError:
        raise UserError(f"--strengths {args.strengths!r} must be numbers separated by commas, "
                        "e.g. 1,2") from None
    generator = load_generator(folder)
    if not hasattr(generator, "_forward_noise") or generator.noise_dim < 1:
        raise UserError(f"model {folder} draws from seeds only: directions need a generator "
                        "that takes noise (the GAN family's models)")
    if generator.conditioning != "none":
        raise UserError(f"model {folder} is {generator.conditioning}-conditional: directions "
                        "are found for unconditional generators (e.g. configs/gan_shapes.py)")
    generator, space = latent_view(generator, args.space)
    reader = ShapesAttributeReader(args.classifier)
    start = time.time()
    attributes = args.attributes.split(",") if args.attributes else None
    directions = find_directions(generator, reader, n=args.n, seed=args.seed,
                                 conditional=args.orthogonal, attributes=attributes)
    print(f"found {len(directions.names)} directions in {space} in {time.time() - start:.0f} s; measuring "
          f"on {args.probe} fresh images per edit")
    measured = measure_edits(generator, reader, directions, strengths, n=args.probe)
    directions.info["measured"] = {
        "strengths": strengths, "probe_images": args.probe, "mean": measured.pop("mean"),
        "per_edit": {name: {s: _rounded(row) for s, row in rows.items()}
                     for name, rows in measured.items()},
        "command": "python -m condgan find-directions " + " ".join(_argv_tail()),
    }
    directions.save(folder)
    for s, row in directions.info["measured"]["mean"].items():
        print(f"strength {s}: the edited attribute shows the value {row['success']:.1%}, the "
              f"other attributes stay {row['kept']:.1%}, the shape is lost {row['object_lost']:.1%}")
    print(f"wrote {folder / VECTORS_FILE} and directions.json ({json.dumps(directions.names)})")
    return 0


def _rounded(row: dict) -> dict:
    """A measured row with its shares to 4 decimals (kept_each's too)."""
    return {k: round(v, 4) if isinstance(v, float) else _rounded(v) if isinstance(v, dict) else v
            for k, v in row.items()}


def _argv_tail() -> list[str]:
    import sys

    argv = sys.argv[1:]
    return argv[1:] if argv and argv[0] == "find-directions" else argv
