"""R-precision (AttnGAN protocol: 1 true caption among 100, top-1 by cosine)."""
import numpy as np
import pytest

from condgan.errors import UserError
from condgan.metrics.r_precision import r_precision


def test_perfect_encoder_scores_one():
    features = np.eye(300)[:, :300] + 0.01  # image i and caption i share a direction of their own
    result = r_precision(features, features, seed=1)
    assert result["r_precision"] == 1.0 and result["queries"] == 300 and result["candidates"] == 100


def test_random_encoder_is_near_chance():
    rng = np.random.default_rng(0)
    result = r_precision(rng.normal(size=(2000, 32)), rng.normal(size=(2000, 32)), seed=0,
                         repeats=2)
    assert 0.002 < result["r_precision"] < 0.02  # chance is 1/100
    assert len(result["per_repeat"]) == 2


def test_constant_encoder_is_a_miss_and_class_filter_excludes_same_class():
    ones = np.ones((150, 4))
    assert r_precision(ones, ones)["r_precision"] == 0.0  # ties are not hits
    # 150 images in two classes of identical features; with the class filter the mismatched
    # captions come from the other class only, so every query wins.
    feats = np.repeat(np.eye(2), 75, axis=0)
    classes = np.repeat([0, 1], 75)
    assert r_precision(feats, feats, class_ids=classes, n_candidates=50)["r_precision"] == 1.0


def test_too_few_pairs_is_a_user_error():
    with pytest.raises(UserError, match="at least 100"):
        r_precision(np.ones((10, 3)), np.ones((10, 3)))
