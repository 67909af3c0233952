"""condgan: from labelled images or captions to a served GAN (Keras 3).

The workflow in five calls (`condgan.api`): `load_config`, `train_model`, `export_model`,
`load_generator`, `evaluate_model`.  Importing the package loads neither TensorFlow nor Keras.
"""
from __future__ import annotations

__version__ = "0.1.0"

from condgan.api import (evaluate_model, export_model, load_config, load_generator,  # noqa: E402
                         train_model)

__all__ = ["evaluate_model", "export_model", "load_config", "load_generator", "train_model"]
