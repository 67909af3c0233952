"""Frechet distance between Gaussians fitted to features (FID, Heusel et al. 2017).

    d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})

computed as in the reference implementations (TTUR's `fid.py`, pytorch-fid): float64
statistics, `scipy.linalg.sqrtm` of the product, an `eps * I` offset on both covariances when
the product is singular enough that the root is not finite, and the imaginary part that
round-off gives the root of a (theoretically PSD-similar) product dropped only when it is
negligible.  The same function serves Inception FID, classifier FID and intra-class FID; the
feature network is what makes them different numbers, and the names keep them apart.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from condgan.errors import UserError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance in float64 (rows are samples)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise UserError(f"need at least 2 feature vectors of shape (N, D), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # sqrtm warns on singular input; we check the result instead
        warnings.simplefilter("ignore")
        return scipy.linalg.sqrtm(matrix)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # Near-singular product (e.g. fewer samples than dimensions): regularise both
        # covariances by eps*I, as TTUR and pytorch-fid do.
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        largest = np.max(np.abs(covmean.imag))
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"matrix square root has an imaginary component of {largest:.3g}: "
                             "the covariances are too ill-conditioned; use more samples")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
    # Round-off can give a tiny negative number for identical statistics.
    return max(value, 0.0)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))
