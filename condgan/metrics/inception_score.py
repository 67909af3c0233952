"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), over 10 splits.

The usual protocol (the paper's code) splits the N predictions into 10 equal parts, computes
the score on each with that part's own marginal p(y), and reports mean and standard deviation.
It needs only class probabilities, so the same code scores any classifier's softmax.
"""
from __future__ import annotations

import numpy as np
from scipy.special import rel_entr

from condgan.errors import UserError


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] < splits:
        raise UserError(f"Inception Score needs at least {splits} predictions (one per split), "
                        f"got shape {probs.shape}")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # rel_entr(p, q) = p log(p/q), 0 where p == 0: confident one-hot rows are exact.
        kl = rel_entr(part, marginal).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
