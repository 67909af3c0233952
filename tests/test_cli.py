"""`python -m condgan` from a user's shell: one happy path (train -> export -> sample) and every
user mistake the training issue lists, each a one-line `error:` on stderr, exit code 2, no
traceback, and nothing written or overwritten.  Errors must surface before training starts, so
each error test runs in seconds."""
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from condgan.data.arrays import save_array_set
from tests.helpers import run_cli, tiny_array_set

TINY_CONFIG = '''"""A tiny cGAN for the CLI tests (16px, narrow, one epoch)."""
from condgan.families.gan import GanConfig


def get_config():
    return GanConfig(name="tiny_cli", image_size=16, latent_dim=16, g_channels=16, d_channels=16,
                       batch_size=16, epochs=1, checkpoint_every_steps=0, tensorboard=False,
                       samples_per_class=4, verbose=0{extra})
'''


def _write_config(path: Path, extra: str = "") -> Path:
    path.write_text(TINY_CONFIG.format(extra=extra))
    return path


# TensorFlow 2.21's native library prints an info line (oneDNN) and absl's preamble on import
# whatever TF_CPP_MIN_LOG_LEVEL says; they are not condgan's output, so they are set aside here.
# Native warnings and errors (W..../E.... lines) are not: they would fail the one-line check.
_TF_NATIVE_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|I\d{4} \d\d:\d\d:)")


def _assert_user_error(result, *words: str) -> str:
    """Exit code 2, a single `error:` line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip() and not _TF_NATIVE_NOISE.match(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder` -> (sha256, mtime_ns): 'untouched' means equal snapshots."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny .npz array set and the tiny config file, shared by the tests of this module."""
    root = tmp_path_factory.mktemp("cli")
    data = save_array_set(root / "tiny.npz", tiny_array_set(64), source="test", command="test")
    return {"root": root, "data": data, "config": _write_config(root / "tiny.py")}


@pytest.fixture(scope="module")
def exported(workspace):
    """Train the tiny config for one epoch, then export it: the user's whole flow, by the CLI."""
    root = workspace["root"]
    trained = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                      "--run-dir", str(root / "run"), cwd=root)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "done: 64 images" in trained.stdout
    done = run_cli("export", str(root / "run"), "--name", "tiny_cli", "--models-dir", str(root / "models"),
                   cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "models" / "tiny_cli"


def test_train_export_sample_happy_path(exported, workspace):
    run = workspace["root"] / "run"
    assert (run / "samples" / "epoch_0001.png").is_file() and (run / "losses.png").is_file()
    assert json.loads((run / "config.json").read_text())["config"]["image_size"] == 16
    card = json.loads((exported / "card.json").read_text())
    assert card["kind"] == "cgan" and card["classes"] == ["dark", "stripes"]
    assert (exported / "generator.keras").is_file()
    grid = workspace["root"] / "grid.png"
    result = run_cli("sample", str(exported), "--label", "stripes", "--label", "0", "-n", "3",
                     "--seed", "7", "--columns", "3", "-o", str(grid), cwd=workspace["root"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wrote 6 images" in result.stdout
    with Image.open(grid) as image:
        image.verify()
    with Image.open(grid) as image:
        # 2 rows x 3 columns of 16px tiles with 2px padding, scaled x2.
        assert image.format == "PNG" and image.size == (2 * (3 * 18 + 2), 2 * (2 * 18 + 2))
        assert np.asarray(image).std() > 0


def test_sample_unknown_class_names_the_valid_ones(exported, workspace):
    grid = workspace["root"] / "kept.png"
    grid.write_bytes(b"an earlier grid")
    result = run_cli("sample", str(exported), "--label", "zebra", "-o", str(grid), cwd=workspace["root"])
    line = _assert_user_error(result, "zebra", "dark", "stripes")
    assert grid.read_bytes() == b"an earlier grid", line


def test_train_missing_data_path(workspace, tmp_path):
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(tmp_path / "nowhere"),
                     "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    _assert_user_error(result, "nowhere", "does not exist")
    assert not (tmp_path / "run").exists()  # a failed start leaves no half-made run to block a retry


def test_train_data_folder_without_images(workspace, tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / "pictures" / name).mkdir(parents=True)
        (tmp_path / "pictures" / name / "notes.txt").write_text("not an image")
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(tmp_path / "pictures"),
                     "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    _assert_user_error(result, "no images", "pictures")
    assert not (tmp_path / "run").exists()


def test_train_run_name_cannot_leave_runs(workspace, tmp_path):
    (tmp_path / "work").mkdir()
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--name", "../escaped", cwd=tmp_path / "work")
    _assert_user_error(result, "run name", "../escaped")
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "work" / "runs").exists()


def test_train_unsupported_image_size(workspace, tmp_path):
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--run-dir", str(tmp_path / "run"), "--set", "image_size=48", cwd=tmp_path)
    _assert_user_error(result, "48", "power of two")
    assert not (tmp_path / "run").exists()


def test_train_unknown_config_key_on_the_command_line(workspace, tmp_path):
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--run-dir", str(tmp_path / "run"), "--set", "epochz=3", cwd=tmp_path)
    _assert_user_error(result, "'epochz'", "epochs")  # the valid keys are listed
    assert not (tmp_path / "run").exists()


def test_train_unknown_keyword_in_a_config_file(workspace, tmp_path):
    config = _write_config(tmp_path / "typo.py", extra=", epochz=3")
    result = run_cli("train", "--config", str(config), "--data", str(workspace["data"]),
                     "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    _assert_user_error(result, "typo.py", "epochz", "epochs")
    assert not (tmp_path / "run").exists()


def test_train_existing_run_dir_without_resume_is_left_untouched(workspace, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text('{"name": "earlier"}')
    (run / "history.jsonl").write_text('{"step": 6}\n')
    (run / "checkpoints" / "ckpt.npz").write_bytes(b"weights")
    before = _snapshot(run)
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--run-dir", str(run), cwd=tmp_path)
    _assert_user_error(result, "already exists", "--resume")
    assert _snapshot(run) == before


def test_resume_without_config_json(workspace, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("not a run")
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--run-dir", str(run), "--resume", cwd=tmp_path)
    _assert_user_error(result, "config.json", "without --resume")
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]


def test_export_a_checkpoint_that_is_not_one(exported, workspace, tmp_path):
    result = run_cli("export", str(workspace["root"] / "run"), "--name", "x", "--models-dir",
                     str(tmp_path / "models"), "--checkpoint", str(workspace["data"]), cwd=tmp_path)
    _assert_user_error(result, "tiny.npz", "ckpt-<step>.npz", "--checkpoint")
    assert not (tmp_path / "models").exists()


def test_aux_classifier_on_an_unconditional_gan(workspace, tmp_path):
    result = run_cli("train", "--config", str(workspace["config"]), "--data", str(workspace["data"]),
                     "--run-dir", str(tmp_path / "run"), "--set", "conditional=false",
                     "--set", "aux_classifier_weight=1", cwd=tmp_path)
    _assert_user_error(result, "aux_classifier_weight=1.0", "conditional=true")
    assert not (tmp_path / "run").exists()


def test_unknown_command(tmp_path):
    result = run_cli("trian", "--config", "x.py", cwd=tmp_path)
    _assert_user_error(result, "'trian'", "train")
    assert result.stdout == ""


def test_set_a_fraction_for_a_float_the_config_file_wrote_as_an_int(workspace, tmp_path):
    """`--set max_minutes=0.25` is a float override even when the config wrote max_minutes=115:
    it is accepted, and the run stops at the next error (the bad image size), before training."""
    config = _write_config(tmp_path / "budget.py", extra=", max_minutes=115")
    result = run_cli("train", "--config", str(config), "--data", str(workspace["data"]),
                     "--run-dir", str(tmp_path / "run"), "--set", "max_minutes=0.25",
                     "--set", "image_size=48", cwd=tmp_path)
    _assert_user_error(result, "48", "power of two")
    assert not (tmp_path / "run").exists()


def test_sample_into_a_missing_folder_creates_nothing(exported, workspace, tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    result = run_cli("sample", str(exported), "--label", "stripes", "-o", str(missing / "x.png"),
                     cwd=tmp_path)
    _assert_user_error(result, str(missing), "does not exist", "create it first")
    assert not (tmp_path / "nonexistent").exists()


def test_export_to_an_existing_model_folder_is_refused_unless_replace(exported, workspace, tmp_path):
    """An export never replaces a model folder unasked; `--replace` replaces it, and keeps its
    card's metrics only for the very same weights."""
    from condgan.model_folder import merge_card_metrics

    models = tmp_path / "models"
    run = workspace["root"] / "run"
    first = run_cli("export", str(run), "--name", "m", "--models-dir", str(models), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    merge_card_metrics(models / "m", {"classifier_fid": {"value": 12.5, "protocol": {
        "num_generated": 10000}}}, say=lambda line: None)
    before = _snapshot(models / "m")
    again = run_cli("export", str(run), "--name", "m", "--models-dir", str(models), cwd=tmp_path)
    _assert_user_error(again, str(models / "m"), "already exists", "--name", "--replace")
    assert _snapshot(models / "m") == before
    same = run_cli("export", str(run), "--name", "m", "--models-dir", str(models), "--replace",
                   cwd=tmp_path)
    assert same.returncode == 0, same.stderr[-3000:]
    assert "very same weights" in same.stdout and "classifier_fid" in same.stdout
    card = json.loads((models / "m" / "card.json").read_text())
    assert card["metrics"]["classifier_fid"]["value"] == 12.5 and card["weights"] == "ema"
    live = run_cli("export", str(run), "--name", "m", "--models-dir", str(models), "--replace",
                   "--weights", "live", cwd=tmp_path)
    assert live.returncode == 0, live.stderr[-3000:]
    assert "dropped" in live.stdout and "weights 'ema' -> 'live'" in live.stdout
    card = json.loads((models / "m" / "card.json").read_text())
    assert card["metrics"] == {} and card["weights"] == "live"
    # The card names the run and the data by name and fingerprint, not by a path of this machine.
    assert str(tmp_path) not in json.dumps(card) and str(workspace["root"]) not in json.dumps(card)
    assert card["run_dir"] == "run" and card["dataset"]["fingerprint"].startswith("sha256:")
    assert card["training"]["data"] == "tiny.npz"


def test_training_output_is_one_line_per_epoch_without_library_noise(workspace, tmp_path):
    """A run prints its start, one line per epoch and its end: no TensorFlow start-up lines, no
    graph-optimiser errors, no Keras progress bars (`--verbose` brings those back)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "condgan", "train", "--config", str(workspace["config"]),
         "--data", str(workspace["data"]), "--run-dir", str(tmp_path / "run"),
         "--set", "verbose=1", "--set", "epochs=3"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    epochs = [line.split()[1] for line in lines if line.startswith("epoch ")]
    assert epochs[0] == "1/3" and epochs[-1] == "3/3"   # at most a line every 20 s, and the last
    assert lines[0].startswith("training ") and lines[-1].startswith("done: 192 images")
    for noise in ("oneDNN", "absl::InitializeLog", "remapper", "Epoch 1/", "UserWarning"):
        assert noise not in output, noise
    assert len(output) < 2000, output
