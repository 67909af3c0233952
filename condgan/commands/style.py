"""`python -m condgan style`: a content image repainted in a style image's manner (Gatys et al.)."""
from __future__ import annotations

import argparse

DEFAULTS = {"size": 256, "steps": 200}


def add_style_arguments(parser: argparse.ArgumentParser) -> None:
    from condgan.style.gatys import LossWeights
    from condgan.style.transfer import OPTIMIZERS, StyleSettings
    from condgan.style.vgg import WEIGHTS_ENV, WEIGHTS_FILE

    weights, settings = LossWeights(), StyleSettings()
    parser.add_argument("--content", required=True,
                        help="the image whose scene is kept (PNG, JPEG, WebP, ...)")
    parser.add_argument("--style", required=True, help="the image whose textures and colours are taken")
    parser.add_argument("-o", "--output", required=True,
                        help="the result; .png, .jpg or .webp (its folder must exist)")
    parser.add_argument("--size", type=int, default=DEFAULTS["size"],
                        help="longer side of the result and of the style image, in pixels "
                             f"(default {DEFAULTS['size']}; the cost grows with its square)")
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"],
                        help=f"optimisation steps (default {DEFAULTS['steps']})")
    parser.add_argument("--style-weight", type=float, default=weights.style,
                        help=f"weight of the style loss (default {weights.style:g}): more, more style")
    parser.add_argument("--content-weight", type=float, default=weights.content,
                        help=f"weight of the content loss (default {weights.content:g})")
    parser.add_argument("--tv-weight", type=float, default=weights.total_variation,
                        help=f"weight of the total-variation loss, against noise "
                             f"(default {weights.total_variation:g})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=settings.optimizer,
                        help="adam (default) or lbfgs (the paper's; bounded pixels, fewer steps)")
    parser.add_argument("--learning-rate", type=float, default=settings.learning_rate,
                        help=f"Adam's step on [0, 1] pixels (default {settings.learning_rate:g})")
    parser.add_argument("--init-noise", type=float, default=settings.init_noise,
                        help="how much noise to mix into the starting image: 0 starts from the "
                             "content image (default), 1 from noise as in the paper")
    parser.add_argument("--seed", type=int, default=settings.seed,
                        help="seed of that noise (with --init-noise > 0; the rest is deterministic)")
    parser.add_argument("--vgg-weights", default=None,
                        help=f"path of Keras' {WEIGHTS_FILE} (default: ${WEIGHTS_ENV}, else "
                             "~/.keras/models/); never downloaded")
    parser.add_argument("--progress-every", type=int, default=20,
                        help="print one progress line every N steps (default 20; 0: only the end)")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's own log too")


def run_style(args: argparse.Namespace) -> int:
    from condgan.commands.export import check_output_file
    from condgan.errors import UserError
    from condgan.style import (LossWeights, StyleSettings, load_vgg_features, read_image_file,
                               save_image, transfer_style)
    from condgan.image_io import check_save_path

    output = check_output_file(args.output)
    check_save_path(output)
    if args.progress_every < 0:
        raise UserError(f"--progress-every must be 0 or more, got {args.progress_every}")
    settings = StyleSettings(size=args.size, steps=args.steps, optimizer=args.optimizer,
                             learning_rate=args.learning_rate, init_noise=args.init_noise,
                             seed=args.seed,
                             weights=LossWeights(content=args.content_weight, style=args.style_weight,
                                                 total_variation=args.tv_weight))
    settings.check()  # before the images are read and the network is built
    content = read_image_file(args.content, "--content")
    style = read_image_file(args.style, "--style")
    network = load_vgg_features(args.vgg_weights)

    def show(progress) -> None:
        last = progress.step == progress.steps
        if last or (args.progress_every and progress.step % args.progress_every == 0):
            parts = ", ".join(f"{name} {value:.4g}" for name, value in progress.parts.items())
            print(f"step {progress.step}/{progress.steps}  loss {progress.loss:.4g} ({parts})  "
                  f"{progress.seconds:.1f} s", flush=True)

    result = transfer_style(content, style, settings, network=network, on_progress=show)
    save_image(result.image, output)
    height, width = result.image.shape[:2]
    print(f"wrote {output} ({width}x{height}, {len(result.history)} steps, {result.seconds:.1f} s)")
    return 0
