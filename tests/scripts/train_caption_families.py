"""Train the tiny DAMSM and then the tiny AttnGAN against it (one epoch each) on the backend
KERAS_BACKEND names, and export the AttnGAN.  Usage:
    KERAS_BACKEND=jax python tests/scripts/train_caption_families.py ROOT
Writes ROOT/shapes, ROOT/damsm, ROOT/attngan and ROOT/models/tiny_attngan."""
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attngan_fixtures import TINY, TINY_DAMSM, make_shapes, train_attngan  # noqa: E402

from condgan.api import export_model  # noqa: E402
from condgan.runs import train_run  # noqa: E402

root = Path(sys.argv[1])
data = make_shapes(root / "shapes")
train_run(dataclasses.replace(TINY_DAMSM, data=str(data), rp_images=0, tensorboard=False),
          root / "damsm", say=lambda line: None)
train_attngan(TINY, data, root / "damsm", root / "attngan")
export_model(root / "attngan", "tiny_attngan", root / "models", legacy_h5=False)
