"""Known answers for the metric arithmetic: FID, KID, IS and the streaming moments."""
import numpy as np
import pytest

from condgan.metrics.features import RunningMoments, extract, array_batches
from condgan.metrics.fid import feature_statistics, fid_from_features, frechet_distance
from condgan.metrics.inception_score import inception_score
from condgan.metrics.kid import kernel_distance, mmd2_unbiased


def _random_spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 32)) @ rng.standard_normal((32, 32)) + 3.0
    mu, sigma = feature_statistics(x)
    assert frechet_distance(mu, sigma, mu, sigma) <= 1e-6 * 2 * np.trace(sigma)
    assert fid_from_features(x, x.copy()) <= 1e-6 * 2 * np.trace(sigma)


def test_fid_matches_closed_form_for_gaussians():
    rng = np.random.default_rng(1)
    d = 16
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    # Closed form via the symmetric root: Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2).
    w, v = np.linalg.eigh(s1)
    r1 = v @ np.diag(np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(r1 @ s2 @ r1)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(inner))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    # Diagonal case by hand: sum (m1-m2)^2 + (sqrt(a) - sqrt(b))^2.
    a, b = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    hand = 1.0 ** 2 + 2.0 ** 2 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert frechet_distance([0, 0], np.diag(a), [1, 2], np.diag(b)) == pytest.approx(hand)


def test_fid_handles_singular_covariances():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((10, 64)), rng.standard_normal((10, 64)) + 1  # N < D: rank 9
    value = fid_from_features(x, y)
    assert np.isfinite(value) and value > 0


def test_fid_rejects_mismatched_statistics():
    with pytest.raises(ValueError, match="do not match"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_kid_is_unbiased_and_detects_a_shift():
    rng = np.random.default_rng(3)
    values = [mmd2_unbiased(rng.standard_normal((100, 8)), rng.standard_normal((100, 8)))
              for _ in range(200)]
    # Same distribution: the estimator's mean is 0 (a biased one would sit at ~2 E k / m > 0).
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))
    assert min(values) < 0 < max(values)
    shifted, spread = kernel_distance(rng.standard_normal((300, 8)), rng.standard_normal((300, 8)) + 0.5,
                                      num_subsets=10, subset_size=200)
    assert shifted > 10 * spread / np.sqrt(10) and shifted > 0


def test_inception_score_of_confident_uniform_predictions_is_k():
    for k in (2, 10, 37):
        probs = np.eye(k)[np.arange(10 * k * 3) % k]
        mean, std = inception_score(probs, splits=10)
        assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0, abs=1e-9)
    # All mass on one class: score 1; uniform predictions: score 1.
    assert inception_score(np.eye(5)[np.zeros(50, int)])[0] == pytest.approx(1.0)
    assert inception_score(np.full((50, 5), 0.2))[0] == pytest.approx(1.0)


def test_running_moments_match_numpy_in_batches():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((257, 5)) * 3 + 1e4  # large offset: naive sums would cancel
    moments = RunningMoments(5)
    for start in range(0, 257, 50):
        moments.update(x[start:start + 50])
    assert np.allclose(moments.mean, x.mean(0)) and np.allclose(moments.covariance, np.cov(x, rowvar=False))
    x = x.astype(np.float32) - np.float32(1e4)  # network outputs are float32
    out = extract(lambda b: {"features": b, "probs": None}, array_batches(x, 64), total=257)
    assert out.count == 257 and out.probs is None and out.features.dtype == np.float32
    assert np.allclose(out.covariance, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-9)
    with pytest.raises(ValueError, match="expected 300"):
        extract(lambda b: {"features": b}, array_batches(x, 64), total=300)
