"""The InceptionV3 path, mechanics only (weights=None: no download), and its weight errors."""
import numpy as np
import pytest

from condgan.errors import UserError
from condgan.metrics.features import array_batches, extract
from condgan.metrics.inception import InceptionFeatures, resolve_weights
from condgan.metrics.inception_score import inception_score


def test_random_inception_runs_end_to_end_on_tiny_images(tmp_path):
    net = InceptionFeatures(weights=None)
    assert "RANDOM" in net.name and net.weights_fingerprint is None  # never mistaken for the real one
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    out = extract(net, array_batches(images, 1), total=2)  # resized to 299x299 inside the model
    assert out.features.shape == (2, 2048) and out.probs.shape == (2, 1000)
    assert np.allclose(out.probs.sum(axis=1), 1.0, atol=1e-4)
    assert out.mean.dtype == np.float64 and out.covariance.shape == (2048, 2048)
    assert np.isfinite(inception_score(np.repeat(out.probs, 5, axis=0))[0])
    # A file that is not InceptionV3 weights: a UserError, not a half-random network.
    bad = tmp_path / "inception.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(UserError, match="not a usable InceptionV3 weights file"):
        InceptionFeatures(weights=bad)


def test_offline_without_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(UserError) as error:
        resolve_weights(None, allow_download=False)
    message = str(error.value)
    assert "storage.googleapis.com" in message and str(tmp_path / "models") in message
    assert "--inception-weights" in message
    (tmp_path / "models").mkdir()
    cached = tmp_path / "models" / "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    cached.write_bytes(b"x")
    assert resolve_weights(None, allow_download=False) == cached
