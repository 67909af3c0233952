"""`python -m condgan export` and `python -m condgan sample`, for every kind of model."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="the run to export, e.g. runs/cgan_cifar10 (or a model folder, "
                                        "to copy it under --name with --format files added)")
    parser.add_argument("--name", required=True, help="model name: the folder under --models-dir")
    parser.add_argument("--models-dir", default="models", help="where exported models live (default: models)")
    parser.add_argument("--no-h5", action="store_true", help="skip the legacy generator.h5")
    parser.add_argument("--weights", choices=["ema", "live"], default="ema",
                        help="the EMA generator (default) or G's live weights")
    parser.add_argument("--format", dest="formats", action="append", default=[],
                        choices=["saved_model", "onnx"],
                        help="also write the generator as a TensorFlow SavedModel (TF Serving) or "
                             "ONNX (repeatable; kinds gan and cgan); each is loaded back and must "
                             "draw the Keras model's pixels")
    parser.add_argument("--new-version", action="store_true",
                        help="write the next version of model NAME, models-dir/NAME/<N>/, beside "
                             "the ones there (the newest is served by default)")
    add_checkpoint_argument(parser)
    add_replace_argument(parser)


def add_replace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replace", action="store_true",
                        help="replace an existing models_dir/NAME (its card's metrics are kept only "
                             "when the export is the very same weights)")


def add_checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", default=None,
                        help="export this ckpt-<step>.npz instead of the run's newest (e.g. one "
                             "hard-linked aside while the run trained; the trainer keeps two)")


def run_export(args: argparse.Namespace) -> int:
    from condgan.api import export_model

    out = export_model(args.run_dir, args.name, args.models_dir, replace=args.replace,
                       checkpoint=args.checkpoint, weights=args.weights, legacy_h5=not args.no_h5,
                       formats=args.formats, new_version=args.new_version)
    print(f"exported {args.run_dir} -> {out}")
    return 0


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported model, e.g. models/cgan_cifar10")
    parser.add_argument("--label", action="append", help="class name or index (repeatable; conditional models)")
    parser.add_argument("--caption", action="append",
                        help="caption (repeatable; text-to-image models such as models/attngan_shapes)")
    parser.add_argument("-n", type=int, default=16, help="images per label (or in all, unconditional)")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same images")
    parser.add_argument("--columns", type=int, default=8,
                        help="grid columns (caption models: one row of -n images per caption)")
    parser.add_argument("--edit", action="append", metavar="ATTRIBUTE=VALUE[:STRENGTH]",
                        help="move along a stored attribute direction, e.g. position=center:1.5 "
                             "(repeatable; strength 1 when left out; models with directions)")
    parser.add_argument("--truncation", type=float, default=None, metavar="PSI",
                        help="draw closer to the model's average image (StyleGAN: psi from 0 to "
                             "1; 1 is no truncation; default: the model card's)")
    parser.add_argument("--interpolate", nargs=2, metavar=("FROM", "TO"),
                        help="class-to-class interpolation (projection cGANs): a row of --steps "
                             "images per seed walking from class FROM to class TO, noise fixed "
                             "(-n rows)")
    parser.add_argument("--steps", type=int, default=8, help="images per --interpolate row")
    parser.add_argument("-o", "--output", default="samples.png", help="PNG grid to write")


def parse_edit_options(options: list[str] | None) -> dict[str, float] | None:
    """`--edit position=center:1.5` options as {"position=center": 1.5}."""
    from condgan.errors import UserError

    edits = {}
    for option in options or []:
        name, _, strength = option.partition(":")
        try:
            edits[name] = float(strength) if strength else 1.0
        except ValueError:
            raise UserError(f"--edit {option!r}: the strength after ':' must be a number, e.g. "
                            f"{name}:1.5") from None
    return edits or None


def check_output_file(output, option: str = "-o") -> Path:
    """A file the user named for a command to write: its folder must exist already.  A typo in
    a path must not silently create folders somewhere unexpected."""
    from condgan.errors import UserError

    path = Path(output)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UserError(f"{option} {str(output)!r}: its folder {str(folder)!r} {what}: create it "
                        f"first (mkdir -p {folder}) or pass {option} a path in an existing folder")
    return path


def run_sample(args: argparse.Namespace) -> int:
    """One row of -n images per --label or --caption (or -n images of an unconditional model)."""
    from condgan.api import load_generator
    from condgan.errors import UserError
    from condgan.viz import save_grid

    check_output_file(args.output)
    if args.n < 1:
        raise UserError(f"-n must be at least 1, got {args.n}")
    if not str(args.output).lower().endswith(".png"):
        raise UserError(f"output {args.output!r} must end in .png")
    if args.label and args.caption:
        raise UserError("pass --label or --caption, not both: a model reads one kind of condition")
    if args.interpolate and (args.label or args.caption or args.edit):
        raise UserError("--interpolate draws its own classes: leave out --label, --caption and --edit")
    generator = load_generator(args.model_dir).with_options(truncation=args.truncation)
    edits = parse_edit_options(args.edit)
    rows = args.label or args.caption
    if args.interpolate:
        if not hasattr(generator, "class_interpolation"):
            raise UserError(f"model {generator.name!r} ({generator.kind}) has no class blend: "
                            "--interpolate needs a class-conditional GAN")
        import numpy as np

        from condgan.basics import SEED_MAX

        base = int(np.random.default_rng().integers(0, SEED_MAX - args.n)) if args.seed is None \
            else args.seed
        images = generator.class_interpolation(*args.interpolate, args.steps,
                                               range(base, base + args.n))
        columns = args.steps
    elif rows:
        repeated = [row for row in rows for _ in range(args.n)]
        images = generator.generate(labels=repeated if args.label else None,
                                    captions=repeated if args.caption else None, seed=args.seed,
                                    edits=edits)
        columns = args.n if args.caption else args.columns
        for caption in args.caption or []:
            unknown = generator.unknown_words(caption)
            if unknown:
                print(f"unknown words ignored in {caption!r}: {unknown}")
    else:
        images = generator.generate(n=args.n, seed=args.seed, edits=edits)
        columns = args.columns
    path = save_grid(images, Path(args.output), columns=columns)
    print(f"wrote {len(images)} images to {path}")
    return 0
