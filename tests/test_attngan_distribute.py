"""AttnGAN under MirroredStrategy on 2 logical CPU devices computes the single-device update.

Both runs train one epoch (4 steps of 16) on the same tiny data; their generator and
discriminator weights must agree to float tolerance (replicas sum gradients in another order).
This holds because batch norms are synchronized, the noise is drawn for the global batch, and
the in-batch DAMSM loss and the mismatched pairs use the all-gathered global batch."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT

TOLERANCE = 1e-4
SCRIPT = """
import json, sys
import tensorflow as tf
if sys.argv[2] == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, "tests")
from pathlib import Path
from attngan_fixtures import TINY, shapes_and_damsm, train_attngan
from condgan.families.attngan import AttnGANConfig
root = Path(sys.argv[1])
data, damsm = shapes_and_damsm(root)
cfg = AttnGANConfig(**{**TINY.to_json(), "strategy": sys.argv[2], "d_condition": sys.argv[3]})
print(json.dumps(train_attngan(cfg, data, damsm, root / "run")))
"""


def _train(folder, strategy, d_condition):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(folder), strategy, d_condition], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["step"] == 4 and summary["images_seen"] == 64
    with np.load(folder / "run" / "checkpoints" / "ckpt-0000000004.npz") as npz:
        return {k: npz[k] for k in npz.files if k.split("/")[0] in ("g", "d")}


# the word-level head also scores the mismatched captions' words, all-gathered like the sentences
@pytest.mark.parametrize("strategy,d_condition", [("mirrored", "concat"), ("mirrored", "words")])
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path, strategy, d_condition):
    one = _train(tmp_path / "one", "default", d_condition)
    two = _train(tmp_path / "two", strategy, d_condition)
    assert one.keys() == two.keys() and len(one) > 50
    for key in one:
        np.testing.assert_allclose(two[key], one[key], atol=TOLERANCE, rtol=TOLERANCE, err_msg=key)
