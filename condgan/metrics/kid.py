"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs").

The squared MMD between feature sets under the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, estimated without bias (the diagonal terms of the within-set kernel
matrices are left out), averaged over random subsets as in the paper's reference code
(100 subsets of 1000).  Unlike FID it is unbiased in the sample size, so it can be compared
across N, and it may be slightly negative when the two sets come from one distribution.
"""
from __future__ import annotations

import numpy as np

from condgan.errors import UserError


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    gamma = 1.0 / x.shape[1]
    return (gamma * (x @ y.T) + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) with the KID kernel; x and y may differ in size."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise UserError(f"KID needs at least 2 samples per set, got {m} and {n}")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    term_xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    term_yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * kxy.mean())


def kernel_distance(features1: np.ndarray, features2: np.ndarray, num_subsets: int = 100,
                    subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over `num_subsets` random subsets of each set."""
    x = np.asarray(features1, dtype=np.float64)
    y = np.asarray(features2, dtype=np.float64)
    size = min(subset_size, x.shape[0], y.shape[0])
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(x[rng.choice(x.shape[0], size, replace=False)],
                            y[rng.choice(y.shape[0], size, replace=False)])
              for _ in range(num_subsets)]
    return float(np.mean(values)), float(np.std(values))
