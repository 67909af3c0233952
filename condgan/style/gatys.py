"""The losses of neural style transfer (Gatys, Ecker & Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016), in Keras ops so that any backend differentiates them.

* content: the mean squared difference between the image's and the content image's
  block4_conv2 (the paper's conv4_2) activations;
* style: at block1_conv1 .. block5_conv1 (conv1_1 .. conv5_1), the mean squared difference
  between Gram matrices, each layer weighted equally (the paper's w_l = 1/5);
* total variation: the sum of absolute differences between neighbouring pixels, which the
  paper does not have but which removes the high-frequency noise the optimisation leaves.

A Gram matrix is divided by the number of positions H*W, so its scale does not depend on the
image size; with means over its entries this is the paper's 1/(4 N^2 M^2) up to a constant.
The default weights are the ones TensorFlow's style transfer tutorial uses with these
definitions and Keras' VGG19 (content 1e4, style 1e-2, total variation 30, on [0, 1] images).
"""
from __future__ import annotations

from dataclasses import dataclass

from condgan.errors import UserError


@dataclass(frozen=True)
class LossWeights:
    content: float = 1e4
    style: float = 1e-2
    total_variation: float = 30.0

    def check(self) -> None:
        for name, value in (("content", self.content), ("style", self.style),
                            ("total variation", self.total_variation)):
            if not value >= 0 or value == float("inf"):  # also refuses NaN
                raise UserError(f"the {name} weight must be a number >= 0, got {value}")
        if self.content == 0 and self.style == 0:
            raise UserError("the content and style weights are both 0: nothing would be transferred")


def gram_matrix(features):
    """(B, H, W, C) activations -> (B, C, C) channel correlations averaged over positions."""
    from keras import ops

    batch, height, width, channels = ops.shape(features)
    flat = ops.reshape(features, (batch, height * width, channels))
    return ops.einsum("bnc,bnd->bcd", flat, flat) / float(height * width)


def content_loss(features, target):
    from keras import ops

    return ops.mean(ops.square(features - target))


def style_loss(features: list, target_grams: list):
    """The mean over layers of the mean squared difference of Gram matrices."""
    from keras import ops

    per_layer = [ops.mean(ops.square(gram_matrix(f) - g)) for f, g in zip(features, target_grams)]
    return ops.sum(ops.stack(per_layer)) / len(per_layer)


def total_variation_loss(images):
    from keras import ops

    down = ops.sum(ops.abs(images[:, 1:, :, :] - images[:, :-1, :, :]))
    across = ops.sum(ops.abs(images[:, :, 1:, :] - images[:, :, :-1, :]))
    return down + across


class GatysLoss:
    """The weighted loss of an image against one content and one style image.

    `network(images)` returns (content activations, [style activations per layer]); the
    targets are computed once here.  Calling the loss returns (total, {"content", "style",
    "total_variation"}), the parts already weighted so that they add up to the total.
    """

    def __init__(self, network, content_image, style_image, weights: LossWeights) -> None:
        from keras import ops

        self.network = network
        self.weights = weights
        target_content, _ = network(content_image)
        _, style_features = network(style_image)
        self.target_content = ops.stop_gradient(target_content)
        self.target_grams = [ops.stop_gradient(gram_matrix(f)) for f in style_features]

    def __call__(self, images):
        content_features, style_features = self.network(images)
        parts = {
            "content": self.weights.content * content_loss(content_features, self.target_content),
            "style": self.weights.style * style_loss(style_features, self.target_grams),
            "total_variation": self.weights.total_variation * total_variation_loss(images),
        }
        return parts["content"] + parts["style"] + parts["total_variation"], parts
