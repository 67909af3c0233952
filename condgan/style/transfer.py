"""`transfer_style`: the optimisation of Gatys et al. — start from the content image and change
its pixels until its VGG19 activations have the content image's content and the style image's
Gram matrices.

Both images are resized so that their longer side is `size` pixels.  The image is optimised in
[0, 1] RGB (the range it is saved in) with Adam (the default: a fixed cost per step, steady
progress) or L-BFGS (the paper's choice: fewer steps for the same loss, each step may evaluate
the loss more than once), kept inside [0, 1] after every step.  The Adam settings are those
of TensorFlow's style transfer tutorial (learning rate 0.02, beta_1 0.99, epsilon 0.1), which
go with the default loss weights in `gatys.py`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from condgan.errors import UserError
from condgan.style.gatys import GatysLoss, LossWeights
from condgan.style.gradients import loss_and_gradient
from condgan.image_io import resize_longest_side, working_size
from condgan.style.vgg import MIN_SIDE, VggFeatures, load_vgg_features

OPTIMIZERS = ("adam", "lbfgs")
MIN_SIZE = 32


@dataclass(frozen=True)
class StyleSettings:
    """Everything a transfer depends on besides its two images and the network."""

    size: int = 256               # the longer side of the result, in pixels
    steps: int = 200              # optimiser steps (L-BFGS: iterations)
    weights: LossWeights = field(default_factory=LossWeights)
    optimizer: str = "adam"
    learning_rate: float = 0.02   # Adam's step; L-BFGS needs none
    init_noise: float = 0.0       # 0: start from the content image; 1: from noise (the paper)
    seed: int = 0                 # the noise mixed in by init_noise

    def check(self) -> None:
        if not isinstance(self.size, int) or self.size < MIN_SIZE:
            raise UserError(f"size must be a whole number of pixels >= {MIN_SIZE}, got {self.size}")
        if not isinstance(self.steps, int) or self.steps < 1:
            raise UserError(f"steps must be a whole number >= 1, got {self.steps}")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise UserError(f"the learning rate must be a number > 0, got {self.learning_rate}")
        if not 0 <= self.init_noise <= 1:
            raise UserError(f"init noise must be from 0 to 1, got {self.init_noise}")
        self.weights.check()


@dataclass(frozen=True)
class Progress:
    """What the optimisation has reached after `step` of `steps` steps."""

    step: int
    steps: int
    loss: float
    parts: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class StyleResult:
    image: np.ndarray             # uint8 (H, W, 3), the content image's aspect
    history: list[Progress]       # one entry per step
    seconds: float
    network: str                  # which weights made it


def transfer_style(content: np.ndarray, style: np.ndarray, settings: StyleSettings = StyleSettings(),
                   *, network: VggFeatures | None = None, vgg_weights=None,
                   on_progress: Callable[[Progress], None] | None = None) -> StyleResult:
    """The content image painted in the style image's manner.

    content, style: uint8 RGB (H, W, 3) arrays of any size.  network: a loaded
    `VggFeatures` to reuse (a server keeps one); otherwise it is loaded from `vgg_weights`
    (see `condgan.style.vgg.resolve_vgg_weights`).  on_progress is called after every step.
    """
    settings.check()
    content = _working_image(content, settings.size, "the content image")
    style = _working_image(style, settings.size, "the style image")
    if network is None:
        network = load_vgg_features(vgg_weights)
    loss = GatysLoss(network, content, style, settings.weights)
    evaluate = loss_and_gradient(loss, network.variables)
    start = _starting_image(content, settings)
    optimize = _adam if settings.optimizer == "adam" else _lbfgs
    history: list[Progress] = []
    began = time.perf_counter()

    def report(step: int, total: float, parts: dict[str, float]) -> None:
        entry = Progress(step, settings.steps, total, parts, time.perf_counter() - began)
        history.append(entry)
        if on_progress is not None:
            on_progress(entry)

    image = optimize(evaluate, start, settings, report)
    pixels = np.clip(np.rint(image[0] * 255.0), 0, 255).astype(np.uint8)
    return StyleResult(pixels, history, time.perf_counter() - began, network.description)


def _working_image(image: np.ndarray, size: int, name: str) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 (1, h, w, 3) in [0, 1], longer side `size`."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise UserError(f"{name} must be uint8 RGB pixels shaped (height, width, 3), got "
                        f"{image.dtype} {image.shape}")
    width, height = working_size(image.shape[1], image.shape[0], size)
    if min(width, height) < MIN_SIDE:
        raise UserError(f"{name} is {image.shape[1]}x{image.shape[0]}: at a longer side of {size} "
                        f"pixels its shorter side would be {min(width, height)}, under the "
                        f"{MIN_SIDE} pixels VGG19's deepest style layer needs; crop it or raise size")
    return (resize_longest_side(image, size).astype(np.float32) / 255.0)[None]


def _starting_image(content: np.ndarray, settings: StyleSettings) -> np.ndarray:
    if settings.init_noise == 0:
        return content.copy()
    noise = np.random.default_rng(settings.seed).uniform(0, 1, content.shape).astype(np.float32)
    return (1 - settings.init_noise) * content + settings.init_noise * noise


def _adam(evaluate, image: np.ndarray, settings: StyleSettings, report) -> np.ndarray:
    """Adam on the pixels, clipped to [0, 1] after each step.  A large epsilon keeps the
    first steps, whose gradients are tiny in places, from moving those pixels at full speed."""
    beta_1, beta_2, epsilon = 0.99, 0.999, 0.1
    first = np.zeros_like(image)
    second = np.zeros_like(image)
    for step in range(1, settings.steps + 1):
        total, parts, gradient = evaluate(image)
        first = beta_1 * first + (1 - beta_1) * gradient
        second = beta_2 * second + (1 - beta_2) * np.square(gradient)
        rate = settings.learning_rate * math.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step)
        image = np.clip(image - rate * first / (np.sqrt(second) + epsilon), 0.0, 1.0)
        report(step, total, parts)  # the loss of the image this step started from
    return image


def _lbfgs(evaluate, image: np.ndarray, settings: StyleSettings, report) -> np.ndarray:
    """SciPy's L-BFGS-B with the pixels bounded to [0, 1]; one report per iteration."""
    from scipy.optimize import Bounds, minimize

    shape = image.shape
    latest_parts: dict[str, float] = {}
    iterations = [0]

    def loss_and_flat_gradient(flat: np.ndarray):
        total, parts, gradient = evaluate(flat.reshape(shape).astype(np.float32))
        latest_parts.update(parts)
        return total, gradient.ravel().astype(np.float64)

    def after_iteration(intermediate_result) -> None:
        # The line search's last evaluation is the accepted point, so its parts are this one's.
        iterations[0] += 1
        report(iterations[0], float(intermediate_result.fun), dict(latest_parts))

    result = minimize(loss_and_flat_gradient, image.ravel().astype(np.float64), jac=True,
                      method="L-BFGS-B", bounds=Bounds(0.0, 1.0), callback=after_iteration,
                      options={"maxiter": settings.steps, "maxfun": settings.steps * 4})
    return result.x.reshape(shape).astype(np.float32)
