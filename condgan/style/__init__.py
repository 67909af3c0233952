"""Neural style transfer (Gatys, Ecker & Bethge 2016): a content image repainted with the
textures and colours of a style image, by optimising its pixels against VGG19's activations.

    from condgan.style import StyleSettings, transfer_style
    result = transfer_style(content_pixels, style_pixels, StyleSettings(size=256, steps=200))

`vgg.py` finds the VGG19 ImageNet weights (never downloaded) and reads the paper's layers,
`gatys.py` holds the losses, `gradients.py` the backend's gradient, `transfer.py` the
optimisation, `images.py` decoding, resizing and saving.  Entry points: `python -m condgan
style`, `POST /v1/style` and the web page /style.
"""
from condgan.style.gatys import LossWeights, gram_matrix
from condgan.image_io import ImageRejected, decode_image, read_image_file, save_image
from condgan.style.transfer import Progress, StyleResult, StyleSettings, transfer_style
from condgan.style.vgg import WeightsMissing, load_vgg_features, resolve_vgg_weights

__all__ = ["ImageRejected", "LossWeights", "Progress", "StyleResult", "StyleSettings", "WeightsMissing",
           "decode_image", "gram_matrix", "load_vgg_features", "read_image_file", "resolve_vgg_weights",
           "save_image", "transfer_style"]
