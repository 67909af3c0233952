"""MNIST from its IDX files: the format read byte for byte (gzipped or not), damaged files
refused with a clear error, the shared test digits split per digit into array sets of 32x32
RGB images, and `get-data mnist` writing them."""
from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from condgan.data.arrays import load_array_set
from condgan.data.mnist import load_mnist, read_idx, stratified_split, to_rgb32
from condgan.errors import UserError
from tests.conftest import ROOT, SHARED_DATA

SHARED_MNIST = SHARED_DATA / "mnist"
# The published MD5 of the test images (shared data README): the reader sees the real file.
T10K_IMAGES_MD5 = "9fb629c4189551a2d022fa330f9573f3"


def idx_bytes(array: np.ndarray) -> bytes:
    magic = (0x08 << 8) | array.ndim
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape) + array.tobytes()


def write_pair(folder, images, labels, prefix="t10k", gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        data = idx_bytes(array.astype(np.uint8))
        (folder / (name + (".gz" if gz else ""))).write_bytes(gzip.compress(data) if gz else data)


def digits(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10


@pytest.mark.parametrize("gz", [True, False])
def test_idx_files_are_read_byte_for_byte(tmp_path, gz):
    images, labels = digits(30)
    write_pair(tmp_path, images, labels, gz=gz)
    suffix = ".gz" if gz else ""
    np.testing.assert_array_equal(read_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}"), labels)


def test_damaged_files_are_refused_naming_the_file(tmp_path):
    images, _ = digits(5)
    good = idx_bytes(images)
    (tmp_path / "cut").write_bytes(good[:-10])
    (tmp_path / "magic").write_bytes(b"\x00\x00\x0d\x03" + good[4:])
    (tmp_path / "tiny").write_bytes(b"\x00\x00")
    (tmp_path / "badgz").write_bytes(gzip.compress(good)[:40])
    with pytest.raises(UserError, match="cut short or damaged"):
        read_idx(tmp_path / "cut")
    with pytest.raises(UserError, match="magic number 0x00000d03"):
        read_idx(tmp_path / "magic")
    with pytest.raises(UserError, match="not an IDX file"):
        read_idx(tmp_path / "tiny")
    with pytest.raises(UserError, match="damaged gzip"):
        read_idx(tmp_path / "badgz")


def test_missing_halves_and_folders_are_clear_errors(tmp_path):
    images, labels = digits(20)
    write_pair(tmp_path / "only_train", images, labels, prefix="train")
    with pytest.raises(UserError, match="no t10k-images-idx3-ubyte"):
        load_mnist(tmp_path / "only_train")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    with pytest.raises(UserError, match="has only one of"):
        load_mnist(tmp_path / "half")
    with pytest.raises(UserError, match="is not a folder"):
        load_mnist(tmp_path / "nowhere")


def test_with_both_splits_mnists_own_are_kept(tmp_path):
    train, test = digits(40, 1), digits(20, 2)
    write_pair(tmp_path, *train, prefix="train")
    write_pair(tmp_path, *test)
    sets = load_mnist(tmp_path)
    assert (len(sets["train"]), len(sets["test"])) == (40, 20)
    np.testing.assert_array_equal(sets["test"].x[..., 0], np.pad(test[0], ((0, 0), (2, 2), (2, 2))))
    assert "own training and test splits" in sets["train"].meta["source"]


def test_to_rgb32_centres_the_digit_on_a_black_border():
    images, _ = digits(3)
    out = to_rgb32(images)
    assert out.shape == (3, 32, 32, 3) and out.dtype == np.uint8
    assert not out[:, :2].any() and not out[:, :, -2:].any()
    np.testing.assert_array_equal(out[:, 2:30, 2:30, 1], images)
    assert (out[..., 0] == out[..., 2]).all()


def test_split_is_per_digit_and_fixed():
    labels = np.repeat(np.arange(10), 50)
    train, test = stratified_split(labels, 0.2, 0)
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 500
    assert (np.bincount(labels[test]) == 10).all()
    np.testing.assert_array_equal(test, stratified_split(labels, 0.2, 0)[1])


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="no shared MNIST")
def test_get_data_mnist_from_the_shared_test_digits(tmp_path):
    assert hashlib.md5((SHARED_MNIST / "t10k-images-idx3-ubyte.gz").read_bytes()).hexdigest() == T10K_IMAGES_MD5
    result = subprocess.run([sys.executable, "-m", "condgan", "get-data", "mnist", "--from", str(SHARED_MNIST),
                             "-o", str(tmp_path / "mnist")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    train, test = (load_array_set(tmp_path / "mnist" / f"{s}.npz") for s in ("train", "test"))
    assert (len(train), len(test)) == (8000, 2000) and train.classes == [str(d) for d in range(10)]
    assert train.x.shape[1:] == (32, 32, 3)
    assert abs(np.bincount(test.y, minlength=10) / np.bincount(np.concatenate([train.y, test.y])) - 0.2).max() < 0.01
    assert "10,000 MNIST test digits split per digit" in train.meta["digits"]
    # the known first test digit of MNIST is a 7
    assert read_idx(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz")[0] == 7
