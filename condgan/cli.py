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
    "get-data": ("data", "get_data", "put CIFAR-10 or MNIST into data/NAME (download, or --from a local copy)"),
    "make-shapes": ("text_data", "make_shapes", "generate the Shapes captioned data set"),
    "train": ("train", "train", "train any model family from its config file (GAN, cGAN, DAMSM, AttnGAN)"),
    "export": ("export", "export", "export a run's generator to models/<name>/"),
    "sample": ("export", "sample", "draw images from an exported model into a PNG grid"),
    "find-directions": ("control", "find_directions",
                        "attribute directions for a generator's edits (colour, size, ...), measured"),
    "reconstruct": ("vae", "reconstruct", "a VAE's reconstructions of your own images"),
    "interpolate": ("vae", "interpolate", "a VAE's path between two of your images"),
    "import": ("import_h5", "import", "import a Keras 2 generator .h5 as models/<name>/ (serve, evaluate)"),
    "evaluate": ("evaluate", "evaluate", "measure an exported model and record the numbers in its card"),
    "jobs": ("jobs", "jobs", "run queued training jobs (worker) or list them (list)"),
    "style": ("style", "style", "neural style transfer: repaint a content image in a style image's manner"),
    "evaluate-damsm": ("damsm", "evaluate_damsm", "R-precision and retrieval examples of a DAMSM run"),
    "train-classifier": ("evaluate", "train_classifier", "train the reference classifier used by `evaluate`"),
    "train-shapes-attributes": ("attributes", "train_shapes_attributes",
                                "train the Shapes attribute classifier (caption accuracy)"),
}

# Names earlier versions gave commands, kept as aliases of the command that does their job now.
ALIASES = {"train-attngan": "train", "pretrain-damsm": "train", "export-attngan": "export",
           "sample-attngan": "sample", "evaluate-attngan": "evaluate"}

# Commands that never need Keras: no second of start-up spent importing it.
LIGHT_COMMANDS = {"make-shapes", "jobs"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m condgan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, _, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    alias = argv[0] if argv and argv[0] in ALIASES else None
    if alias:
        argv = [ALIASES[alias], *argv[1:]]
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
    parser = argparse.ArgumentParser(prog=f"python -m condgan {alias or name}", description=help_text)
    getattr(module, f"add_{prefix}_arguments")(parser)
    args = parser.parse_args(rest)
    if alias:
        print(f"note: `{alias}` is `python -m condgan {name}` now (same options)", file=sys.stderr)
    if name not in LIGHT_COMMANDS:
        import_keras_quietly()
    run = getattr(module, f"run_{prefix}")
    try:
        # the earlier training commands resumed an existing run unasked; their aliases still do
        result = run(args, resume="auto") if alias and name == "train" else run(args)
    except UserError as error:
        exit_with_user_error(error)
    return int(result or 0)
