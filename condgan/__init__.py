"""condgan: from labelled images or captions to a served GAN (Keras 3)."""
from __future__ import annotations

__version__ = "0.1.0"


def load_generator(path):
    """Load an exported model directory (`models/<name>/`) in safe mode; see `condgan.export`."""
    from condgan.export import load_generator as _load

    return _load(path)
