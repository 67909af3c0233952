"""`python -m condgan reconstruct` and `python -m condgan interpolate`: what a model with an
encoder (a VAE, kind cvae) does with your own pictures.  Images are centre-cropped and resized
to the model's size."""
from __future__ import annotations

import argparse


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported VAE, e.g. models/cvae_digits")
    parser.add_argument("--label", help="the images' class (class-conditional models)")
    parser.add_argument("-o", "--output", required=True, help="PNG grid to write (its folder must exist)")


def add_reconstruct_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--image", action="append", required=True,
                        help="an image to reconstruct (repeatable; PNG, JPEG, WebP, ...)")


def add_interpolate_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--image", action="append", required=True,
                        help="the first image, then the second: pass --image twice")
    parser.add_argument("--steps", type=int, default=8, help="images from the first to the second (8)")


def _load(args):
    from condgan.api import load_generator
    from condgan.commands.export import check_output_file
    from condgan.errors import UserError
    from condgan.image_io import fit_square, read_image_file

    check_output_file(args.output)
    if not str(args.output).lower().endswith(".png"):
        raise UserError(f"output {args.output!r} must end in .png")
    model = load_generator(args.model_dir)
    if not callable(getattr(model, "reconstruct", None)):
        raise UserError(f"{args.model_dir!r} ({model.kind}) has no encoder: reconstruct and "
                        "interpolate need a VAE (kind cvae), e.g. one trained with "
                        "configs/cvae_digits.py")
    images = [fit_square(read_image_file(path, "--image"), model.image_size) for path in args.image]
    return model, images


def run_reconstruct(args: argparse.Namespace) -> int:
    """Each image above its reconstruction."""
    import numpy as np

    from condgan.viz import save_grid

    model, images = _load(args)
    labels = None if args.label is None else [args.label] * len(images)
    rebuilt = model.reconstruct(np.stack(images), labels)
    path = save_grid(np.concatenate([np.stack(images), rebuilt]), args.output, columns=len(images))
    print(f"wrote {len(images)} images and their reconstructions to {path}")
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    from condgan.errors import UserError
    from condgan.viz import save_grid

    model, images = _load(args)
    if len(images) != 2:
        raise UserError(f"interpolate takes two images (--image A --image B), got {len(images)}")
    line = model.interpolate(images[0], images[1], args.label, args.steps)
    path = save_grid(line, args.output, columns=len(line))
    print(f"wrote {len(line)} images from {args.image[0]} to {args.image[1]} to {path}")
    return 0
