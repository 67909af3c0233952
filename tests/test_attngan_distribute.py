"""AttnGAN under MirroredStrategy on 2 logical CPU devices: one epoch runs, losses finite.

Not an equivalence test (see docs/attngan_part2.md): the discriminators' and generator's batch
norms use per-replica statistics and the DAMSM loss is an in-batch (per-replica) contrastive
loss, so N replicas do not compute exactly the single-device update."""
import json
import os
import subprocess
import sys

from tests.helpers import ROOT

SCRIPT = """
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, "tests")
from pathlib import Path
from attngan_fixtures import TINY, make_damsm_run, make_shapes
from condgan.train.attngan_run import AttnGANConfig, train_attngan
root = Path(sys.argv[1])
data = make_shapes(root / "shapes")
damsm = make_damsm_run(root / "damsm", data)
cfg = AttnGANConfig(**{**TINY.to_json(), "strategy": "mirrored"})
print(json.dumps(train_attngan(cfg, data, damsm, root / "run", log_fn=lambda m: None)))
"""


def test_mirrored_on_two_logical_cpus_trains(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["step"] == 4 and summary["images_seen"] == 64
    row = json.loads((tmp_path / "run" / "history.jsonl").read_text().splitlines()[-1])
    for key in ("d_loss", "g_loss", "w_loss", "s_loss", "kl"):
        assert row[key] == row[key] and abs(row[key]) < 1e6, (key, row[key])
