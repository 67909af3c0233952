"""`python -m condgan export` and `python -m condgan sample`."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="the run to export, e.g. runs/cgan_cifar10")
    parser.add_argument("--name", required=True, help="model name: the folder under --models-dir")
    parser.add_argument("--models-dir", default="models", help="where exported models live (default: models)")
    parser.add_argument("--no-h5", action="store_true", help="skip the legacy generator.h5")
    parser.add_argument("--weights", choices=["ema", "live"], default="ema",
                        help="the EMA generator (default) or G's live weights")
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


def _run_kind(run_dir: str) -> str | None:
    import json

    path = Path(run_dir) / "config.json"
    try:
        return json.loads(path.read_text()).get("kind") if path.is_file() else None
    except (json.JSONDecodeError, AttributeError):
        return None  # export_run names the broken file


def run_export(args: argparse.Namespace) -> int:
    from condgan.errors import UserError

    if _run_kind(args.run_dir) == "attngan":
        from condgan.attngan_export import export_run as export_attngan_run

        if args.weights != "ema":
            raise UserError("AttnGAN runs export the EMA generator only: drop --weights live")
        out = export_attngan_run(args.run_dir, args.name, args.models_dir, args.checkpoint,
                                 replace=getattr(args, "replace", False))
    else:
        from condgan.train.export_run import export_run

        out = export_run(args.run_dir, args.name, args.models_dir, legacy_h5=not args.no_h5,
                         weights=args.weights, checkpoint=args.checkpoint,
                         replace=getattr(args, "replace", False))
    print(f"exported {args.run_dir} -> {out}")
    return 0


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="an exported model, e.g. models/cgan_cifar10")
    parser.add_argument("--label", action="append", help="class name or index (repeatable; conditional models)")
    parser.add_argument("--caption", action="append",
                        help="caption (repeatable; text-to-image models such as models/attngan_shapes)")
    parser.add_argument("-n", type=int, default=16, help="images per label (or in all, unconditional)")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same images")
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("-o", "--output", default="samples.png", help="PNG grid to write")


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
    from condgan.errors import UserError
    from condgan.export import load_generator, read_card
    from condgan.viz import save_grid

    check_output_file(args.output)
    if read_card(args.model_dir)["kind"] == "attngan":
        if args.label or not args.caption:
            raise UserError(f"{args.model_dir} draws from captions: pass --caption \"...\" (not --label)")
        from condgan.commands.attngan import run_sample_attngan

        return run_sample_attngan(args)
    if args.caption:
        raise UserError(f"{args.model_dir} is not a caption model: use --label (or drop --caption)")
    if args.n < 1:
        raise UserError(f"-n must be at least 1, got {args.n}")
    if not str(args.output).lower().endswith(".png"):
        raise UserError(f"output {args.output!r} must end in .png")
    generator = load_generator(args.model_dir)
    labels = None
    if generator.conditional:
        if not args.label:
            raise UserError(f"{args.model_dir} is conditional: pass --label, one of {generator.classes}")
        labels = [lab for lab in args.label for _ in range(args.n)]
    elif args.label:
        raise UserError(f"{args.model_dir} is unconditional: drop --label")
    images = generator.generate(labels=labels, n=None if labels else args.n, seed=args.seed)
    path = save_grid(images, Path(args.output), columns=args.columns)
    print(f"wrote {len(images)} images to {path}")
    return 0
