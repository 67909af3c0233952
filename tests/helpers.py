"""Small builders shared by tests: tiny array sets, class-folder trees, CLI runs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def tiny_array_set(n: int = 64, size: int = 16, classes=("dark", "stripes")):
    from condgan.data.arrays import ArraySet

    rng = np.random.default_rng(0)
    y = np.arange(n) % len(classes)
    x = rng.integers(0, 60, (n, size, size, 3)).astype(np.uint8)
    x[y == 1, :, ::2] = 230
    return ArraySet(x, y.astype(np.int64), list(classes), {"source": "tiny test data"})


def write_class_folders(root: Path, per_class: int = 3, size=(40, 30), classes=("cats", "dogs")) -> Path:
    rng = np.random.default_rng(1)
    for label, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (size[1], size[0], 3)).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:03d}.{'png' if i % 2 else 'jpg'}")
    return root


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300,
            env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.run([sys.executable, "-m", "condgan", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_script(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def final_state(run_dir: Path) -> dict:
    """Every array a tests/scripts/train_tiny.py run ended with (weights, slots, EMA, step)."""
    with np.load(run_dir / "final_state.npz") as npz:
        return {k: npz[k] for k in npz.files}


def assert_same_training_state(straight: dict, resumed: dict) -> None:
    """Two checkpoints' arrays (a run straight through and one resumed) hold the same keys and
    equal values, bit for bit, all but the wall time."""
    assert sorted(straight) == sorted(resumed)
    for key in straight:
        if key != "wall_time_s":
            np.testing.assert_array_equal(straight[key], resumed[key], err_msg=key)


def check_sigkill_resume(root: Path, *args: str) -> None:
    """tests/scripts/train_tiny.py with `args`, straight through and SIGKILLed mid-epoch (step 9
    of 6-step epochs, checkpoints every 2 steps) then resumed: the same final state, bit for bit,
    and the history of an uninterrupted run."""
    import json

    from condgan.train.checkpoint import load_latest_checkpoint

    straight = run_script("tests/scripts/train_tiny.py", str(root / "a"), *args)
    assert straight.returncode == 0, straight.stderr[-3000:]
    killed = run_script("tests/scripts/train_tiny.py", str(root / "b"), "--kill-at-step", "9", *args)
    assert killed.returncode == -9
    assert load_latest_checkpoint(root / "b")[0] == 8
    resumed = run_script("tests/scripts/train_tiny.py", str(root / "b"), "--resume", *args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = final_state(root / "a"), final_state(root / "b")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    history = (root / "b" / "history.jsonl").read_text().splitlines()
    assert [json.loads(h)["step"] for h in history] == [6, 12]


def cifar10_arrays() -> Path | None:
    """data/cifar10 as the README's get-data step makes it (from the shared JPEG archive when it
    is missing); None when neither is there."""
    from tests.conftest import SHARED_DATA

    folder = ROOT / "data" / "cifar10"
    archive = SHARED_DATA / "cifar10-jpeg.tar.gz"
    if not (folder / "test.npz").exists() and archive.exists():
        subprocess.run([sys.executable, "-m", "condgan", "get-data", "cifar10", "--from", str(archive)],
                       cwd=ROOT, check=True, capture_output=True)
    return folder if (folder / "test.npz").exists() else None


def mnist_arrays() -> Path | None:
    """data/mnist as `get-data mnist --from` makes it from the shared MNIST test digits; None when
    neither is there."""
    from tests.conftest import SHARED_DATA

    folder = ROOT / "data" / "mnist"
    source = SHARED_DATA / "mnist"
    if not (folder / "test.npz").exists() and (source / "t10k-images-idx3-ubyte.gz").exists():
        subprocess.run([sys.executable, "-m", "condgan", "get-data", "mnist", "--from", str(source)],
                       cwd=ROOT, check=True, capture_output=True)
    return folder if (folder / "test.npz").exists() else None
