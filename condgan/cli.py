"""`python -m condgan <command>`: a thin dispatcher.

Each command lives in its own module under `condgan/commands/` exposing
`add_arguments(parser)` and `run(args)`.  Modules are imported only for the command being
run, so `--help` and the light commands start without loading TensorFlow.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from condgan.errors import UserError, exit_with_user_error
from condgan.quiet import configure_logs, import_keras_quietly

# command name -> (module under condgan.commands, function prefix, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "get-data": ("data", "get_data", "put CIFAR-10 into data/cifar10 (download, or --from a local copy)"),
    "train": ("train", "train", "train a GAN or class-conditional GAN from a config file"),
    "export": ("export", "export", "export a run's EMA generator to models/<name>/"),
    "sample": ("export", "sample", "draw images from an exported model into a PNG grid"),
    "train-classifier": ("evaluate", "train_classifier", "train the reference classifier used by `evaluate`"),
    "evaluate": ("evaluate", "evaluate", "FID/KID/IS and per-class accuracy of an exported model"),
    "make-shapes": ("text_data", "make_shapes", "generate the Shapes captioned data set"),
    "pretrain-damsm": ("damsm", "pretrain_damsm", "pretrain the DAMSM text and image encoders"),
    "evaluate-damsm": ("damsm", "evaluate_damsm", "R-precision and retrieval examples of a DAMSM run"),
    "train-attngan": ("attngan", "train_attngan", "train the AttnGAN text-to-image generator"),
    "export-attngan": ("attngan", "export_attngan", "export an AttnGAN run to models/<name>/"),
    "sample-attngan": ("attngan", "sample_attngan", "draw images for captions from an exported AttnGAN"),
    "evaluate-attngan": ("attngan", "evaluate_attngan", "R-precision and caption accuracy of an exported AttnGAN"),
    "train-shapes-attributes": ("attngan", "train_shapes_attributes",
                                "train the Shapes attribute classifier (caption accuracy)"),
}

# Commands that never need Keras: no second of start-up spent importing it.
LIGHT_COMMANDS = {"make-shapes"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m condgan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, _, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        parser = build_parser()
        if argv and not argv[0].startswith("-"):
            print(f"error: unknown command {argv[0]!r}: choose one of {', '.join(COMMANDS)}",
                  file=sys.stderr)
            return 2
        parser.print_help()
        return 0 if argv else 2
    # TensorFlow's start-up banner and graph-optimiser chatter bury the command's own output
    # (condgan.quiet); `--verbose` brings them back.
    configure_logs(verbose="--verbose" in argv)
    name, rest = argv[0], argv[1:]
    module_name, prefix, help_text = COMMANDS[name]
    module = importlib.import_module(f"condgan.commands.{module_name}")
    parser = argparse.ArgumentParser(prog=f"python -m condgan {name}", description=help_text)
    getattr(module, f"add_{prefix}_arguments")(parser)
    args = parser.parse_args(rest)
    if name not in LIGHT_COMMANDS:
        import_keras_quietly()
    try:
        result = getattr(module, f"run_{prefix}")(args)
    except UserError as error:
        exit_with_user_error(error)
    return int(result or 0)
