"""Array sets, class folders, CIFAR-10 loaders and the restricted unpickler."""
import io
import json
import logging
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from condgan.data.arrays import ArraySet, load_array_set, save_array_set
from condgan.data.cifar10 import CIFAR10_CLASSES, load_cifar10
from condgan.data.folders import import_class_folders
from condgan.data.safe_pickle import safe_load
from condgan.data.sources import load_training_set
from condgan.errors import UserError
from tests.conftest import SHARED_DATA
from tests.helpers import tiny_array_set, write_class_folders


def test_array_set_round_trip_is_exact_and_never_pickles(tmp_path):
    data = tiny_array_set(10)
    path = save_array_set(tmp_path / "mine.npz", data, source="test", command="pytest")
    loaded = load_array_set(path)
    np.testing.assert_array_equal(loaded.x, data.x)
    np.testing.assert_array_equal(loaded.y, data.y)
    assert loaded.classes == data.classes
    meta = json.loads((tmp_path / "mine.json").read_text())
    assert meta["class_counts"] == [5, 5] and meta["fingerprint"] == data.fingerprint()
    assert meta["image_size"] == [16, 16] and meta["command"] == "pytest"
    with np.load(path, allow_pickle=False) as npz:  # plain arrays only
        assert npz["x"].dtype == np.uint8 and npz["y"].dtype == np.int64
    assert not list(tmp_path.glob("*partial*"))


def test_array_set_rejects_bad_arrays():
    with pytest.raises(UserError, match="uint8"):
        ArraySet(np.zeros((2, 4, 4, 3), np.float32), np.zeros(2, np.int64), ["a"])
    with pytest.raises(UserError, match="labels must lie"):
        ArraySet(np.zeros((2, 4, 4, 3), np.uint8), np.array([0, 3]), ["a", "b"])


def test_select_classes_relabels_in_given_order():
    data = tiny_array_set(10).select_classes(["stripes"])
    assert data.classes == ["stripes"] and len(data) == 5 and set(data.y) == {0}
    with pytest.raises(UserError, match="unknown class 'zebra'.*dark"):
        tiny_array_set(4).select_classes(["zebra"])


def test_fingerprint_changes_with_pixels():
    a, b = tiny_array_set(8), tiny_array_set(8)
    assert a.fingerprint() == b.fingerprint()
    b.x[0, 0, 0, 0] ^= 1
    assert a.fingerprint() != b.fingerprint()


def test_class_folders_crop_resize_rgb_and_warn_on_unreadable(tmp_path, caplog):
    root = write_class_folders(tmp_path / "imgs")
    Image.new("L", (20, 50), 128).save(root / "dogs" / "gray.png")
    Image.new("RGBA", (50, 20), (10, 20, 30, 0)).save(root / "cats" / "alpha.png")
    (root / "dogs" / "broken.jpg").write_bytes(b"not an image at all")
    with caplog.at_level(logging.WARNING):
        data = import_class_folders(root, 16, workers=1)
    assert data.classes == ["cats", "dogs"]
    assert data.x.shape == (8, 16, 16, 3) and data.x.dtype == np.uint8
    assert np.bincount(data.y).tolist() == [4, 4]
    assert "broken.jpg" in caplog.text and "skipped 1" in caplog.text
    gray = data.x[data.meta["keys"].index("dogs/gray.png")]
    assert (gray == 128).all()  # grey became RGB, crop kept the centre


def test_class_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        import_class_folders(tmp_path / "nope", 16)
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(UserError, match="no images found"):
        import_class_folders(tmp_path / "empty", 16)


def _write_cifar_batches(folder, per_batch=4):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 255, (per_batch, 3072)).astype(np.uint8),
                 b"labels": list(range(per_batch))}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def test_cifar10_python_batches_and_tarball(tmp_path):
    folder = _write_cifar_batches(tmp_path / "cifar-10-batches-py")
    train = load_cifar10(folder, "train")
    assert train.x.shape == (20, 32, 32, 3) and train.classes == CIFAR10_CLASSES
    raw = pickle.loads((folder / "data_batch_1").read_bytes())
    np.testing.assert_array_equal(train.x[0], raw[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0))
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    test = load_cifar10(tarball, "test")
    assert test.x.shape == (4, 32, 32, 3) and test.y.tolist() == [0, 1, 2, 3]


def test_cifar10_class_folder_tree(tmp_path):
    for split in ("train", "test"):
        write_class_folders(tmp_path / "c10" / split, per_class=2, size=(32, 32),
                            classes=("airplane", "horse"))
    data = load_training_set(str(tmp_path / "c10"), 32, classes=["horse"])
    assert data.classes == ["horse"] and len(data) == 2


@pytest.mark.skipif(not (SHARED_DATA / "cifar10-jpeg.tar.gz").exists(), reason="shared data absent")
def test_real_cifar10_jpeg_tree_loads_with_documented_means(tmp_path):
    with tarfile.open(SHARED_DATA / "cifar10-jpeg.tar.gz") as tar:
        members = [m for m in tar.getmembers() if m.name.count("/") >= 2 and "/test/" in f"/{m.name}"]
        tar.extractall(tmp_path, members=members[:2000] + [m for m in members if m.isdir()],
                       filter="data")
    root = next(p.parent for p in tmp_path.rglob("test") if p.is_dir())
    data = import_class_folders(root / "test", 32)
    assert data.x.shape[1:] == (32, 32, 3) and set(data.classes) <= set(CIFAR10_CLASSES)
    assert 90 < data.x.mean() < 140


def test_missing_cifar_path_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_cifar10(tmp_path / "missing")


class _Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_code_and_admits_data():
    assert safe_load(pickle.dumps({"a": [1, "b", (2.0,)]})) == {"a": [1, "b", (2.0,)]}
    with pytest.raises(UserError, match="refusing to load posix.system|refusing to load os.system"):
        safe_load(pickle.dumps(_Exploit()), name="evil.pickle")
    arr = np.arange(3)
    with pytest.raises(UserError):
        safe_load(pickle.dumps(arr))  # numpy only when asked for
    np.testing.assert_array_equal(safe_load(io.BytesIO(pickle.dumps(arr)), allow_numpy=True), arr)
