"""Training under KERAS_BACKEND=jax: the CLI with the shipped recipe, exact resume after SIGKILL,
checkpoints that move between backends, model folders that load under TensorFlow, and
`keras.distribution.DataParallel` on two host devices equal to one device."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from condgan.train.checkpoint import load_latest_checkpoint
from tests.helpers import ROOT, check_sigkill_resume, final_state, run_script, tiny_array_set

pytest.importorskip("jax")

TINY_CGAN = ["--set", "image_size=16", "--set", "latent_dim=16", "--set", "g_channels=16",
             "--set", "d_channels=16", "--set", "batch_size=16", "--set", "epochs=2",
             "--set", "checkpoint_every_steps=2", "--set", "tensorboard=false",
             "--set", "samples_per_class=2", "--set", "max_minutes=0"]


def _drawn_under_each_backend(model_dir, request: str, out_dir) -> dict:
    """{backend: the images `load_generator(model_dir).generate(<request>)` draws}, each backend
    in a process of its own."""
    script = ("import sys, numpy as np\n"
              "from condgan.api import load_generator\n"
              f"np.save(sys.argv[2], load_generator(sys.argv[1]).generate({request}))\n")
    outputs = {}
    for backend in ("jax", "tensorflow"):
        env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        out = out_dir / f"{backend}.npy"
        result = subprocess.run([sys.executable, "-c", script, str(model_dir), str(out)], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[backend] = np.load(out)
    return outputs


def _condgan(*args, backend="jax", timeout=600):
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "condgan", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("extra", [["--set", "aux_classifier_weight=1"],
                                   ["--set", "n_critic=2", "--set", "diffaugment=color,translation,cutout"]])
def test_sigkill_mid_epoch_then_resume_is_bit_identical_on_jax(tmp_path, extra):
    check_sigkill_resume(tmp_path, "--backend", "jax", *extra)


def test_a_run_moves_between_backends(tmp_path):
    """Started on TensorFlow, resumed on JAX, finished on TensorFlow: each resume restores the
    other backend's checkpoint exactly (its first checkpoint after resuming holds the restored
    state plus its own steps), and the run ends where the schedule says."""
    run = tmp_path / "run"
    recipe = ["--set", "aux_classifier_weight=1"]
    assert run_script("tests/scripts/train_tiny.py", str(run), "--kill-at-step", "9",
                      *recipe).returncode == -9
    saved_by_tf = load_latest_checkpoint(run)
    assert saved_by_tf[0] == 8
    on_jax = run_script("tests/scripts/train_tiny.py", str(run), "--backend", "jax", "--resume",
                        "--kill-at-step", "3", *recipe)
    assert on_jax.returncode == -9, on_jax.stderr[-3000:]
    saved_by_jax = load_latest_checkpoint(run)
    assert saved_by_jax[0] == 10
    assert saved_by_jax[1].keys() == saved_by_tf[1].keys()
    # the optimizers' step counters went on from the TensorFlow checkpoint
    d_steps = [k for k in saved_by_tf[1] if k.startswith("d_opt/")][0]
    assert int(saved_by_jax[1][d_steps]) == int(saved_by_tf[1][d_steps]) + 2
    finished = run_script("tests/scripts/train_tiny.py", str(run), "--resume", *recipe)
    assert finished.returncode == 0, finished.stderr[-3000:]
    final = final_state(run)
    assert all(np.isfinite(v).all() for v in final.values() if v.dtype.kind == "f")
    history = [json.loads(h)["step"] for h in (run / "history.jsonl").read_text().splitlines()]
    assert history == [6, 12]


def test_data_parallel_on_two_host_devices_matches_one_device(tmp_path):
    common = ["--backend", "jax", "--logical-cpus", "2", "--images", "64", "--set", "epochs=1",
              "--set", "aux_classifier_weight=1"]
    one = run_script("tests/scripts/train_tiny.py", str(tmp_path / "one"), *common)
    assert one.returncode == 0, one.stderr[-3000:]
    two = run_script("tests/scripts/train_tiny.py", str(tmp_path / "two"), *common,
                     "--strategy", "data_parallel")
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = final_state(tmp_path / "one"), final_state(tmp_path / "two")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-4, rtol=1e-4, err_msg=key)


def test_strategies_belong_to_their_backend(tmp_path):
    wrong = run_script("tests/scripts/train_tiny.py", str(tmp_path / "run"), "--backend", "jax",
                       "--strategy", "mirrored")
    assert wrong.returncode != 0
    assert "strategy 'mirrored' is not available on the jax backend" in wrong.stderr
    assert "KERAS_BACKEND=tensorflow" in wrong.stderr


def test_cli_trains_the_shipped_recipe_on_jax_and_the_model_loads_under_tensorflow(tmp_path):
    from condgan.data.arrays import save_array_set

    data = save_array_set(tmp_path / "tiny.npz", tiny_array_set(64), source="test", command="test")
    run = tmp_path / "runs" / "jax_cgan"
    trained = _condgan("train", "--config", "configs/cgan_cifar10.py", "--data", str(data),
                       "--run-dir", str(run), *TINY_CGAN)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads((run / "summary.json").read_text())["step"] == 8
    exported = _condgan("export", str(run), "--name", "jax_cgan", "--models-dir",
                        str(tmp_path / "models"))
    assert exported.returncode == 0, exported.stderr[-3000:]
    card = json.loads((tmp_path / "models" / "jax_cgan" / "card.json").read_text())
    assert card["versions"]["keras_backend"] == "jax"
    outputs = _drawn_under_each_backend(tmp_path / "models" / "jax_cgan",
                                        "labels=['dark', 'stripes'] * 3, seed=7", tmp_path)
    assert outputs["jax"].shape == (6, 16, 16, 3) and outputs["jax"].std() > 0
    # uint8 pixels: one level of rounding between backends at most
    assert np.abs(outputs["jax"].astype(int) - outputs["tensorflow"].astype(int)).max() <= 1


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_steps_per_execution_trains_the_same_steps(tmp_path, backend):
    """Several steps per compiled call (fewer callbacks, no device sync between them) count the
    same steps and reach the same weights, checkpoints at the first step past each multiple."""
    one = run_script("tests/scripts/train_tiny.py", str(tmp_path / "one"), "--backend", backend)
    assert one.returncode == 0, one.stderr[-3000:]
    four = run_script("tests/scripts/train_tiny.py", str(tmp_path / "four"), "--backend", backend,
                      "--set", "steps_per_execution=4", "--set", "checkpoint_every_steps=5")
    assert four.returncode == 0, four.stderr[-3000:]
    a, b = final_state(tmp_path / "one"), final_state(tmp_path / "four")
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-6, err_msg=key)
    history = [json.loads(h) for h in (tmp_path / "four" / "history.jsonl").read_text().splitlines()]
    assert [(h["step"], h["images_seen"]) for h in history] == [(6, 96), (12, 192)]
    # 6 steps per epoch in calls of 4: steps 4, 6 | 10, 12; past 5 at 6 (an epoch end), past 10 at 10
    assert [p.name for p in sorted((tmp_path / "four" / "checkpoints").iterdir())] == \
        ["ckpt-0000000010.npz", "ckpt-0000000012.npz"]


def test_caption_families_train_on_jax_and_the_model_loads_under_tensorflow(tmp_path):
    """DAMSM, then AttnGAN against it, one epoch each on JAX; the exported AttnGAN draws the
    same pixels under JAX and TensorFlow."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    trained = subprocess.run([sys.executable, "tests/scripts/train_caption_families.py", str(tmp_path)],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert trained.returncode == 0, trained.stderr[-3000:]
    sessions = (tmp_path / "attngan" / "sessions.jsonl").read_text()
    assert '"backend": "jax"' in sessions
    outputs = _drawn_under_each_backend(tmp_path / "models" / "tiny_attngan",
                                        "captions=['a large red circle at the top'] * 2, seed=3", tmp_path)
    assert outputs["jax"].shape == (2, 32, 32, 3)
    assert np.abs(outputs["jax"].astype(int) - outputs["tensorflow"].astype(int)).max() <= 1
