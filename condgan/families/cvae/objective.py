"""The VAE's objective, in keras ops (so training on every backend and scoring a loaded model
use one formula).

The decoder is Gaussian with one learned standard deviation sigma for every pixel (trained with
the rest: the "sigma-VAE" of Rybkin et al. 2021), so the reconstruction term is a proper
log-likelihood and the balance between it and the KL term is learned, not a hand-set weight.
Per image, on pixels scaled to [-1, 1] (D values):

    reconstruction = sum((x - decoded)^2) / (2 sigma^2) + D log sigma + D/2 log(2 pi)
    kl             = 1/2 sum(exp(log_var) + mean^2 - 1 - log_var)
    -ELBO          = reconstruction + kl                      (nats; an upper bound on -log p(x))

`bits_per_dim` moves it to 0..255 pixel units (the log-Jacobian of the scaling, D log 127.5)
and base 2.  No dequantisation noise: the number compares VAE runs on the same data with each
other, not with the discrete likelihoods papers report.
"""
from __future__ import annotations

import math

from keras import ops

PIXEL_SCALE = 127.5  # [0, 255] -> [-1, 1]


def reconstruction_nll(images, decoded, log_sigma):
    """(B,) Gaussian negative log-likelihood of `images` under N(decoded, sigma^2)."""
    dims = ops.cast(ops.prod(ops.shape(images)[1:]), "float32")
    squared = ops.sum(ops.reshape(ops.square(images - decoded), (ops.shape(images)[0], -1)), axis=1)
    return (squared * 0.5 * ops.exp(-2.0 * log_sigma) + dims * log_sigma
            + dims * 0.5 * math.log(2 * math.pi))


def kl_to_prior(mean, log_variance):
    """(B,) KL(N(mean, exp(log_variance)) || N(0, 1))."""
    return 0.5 * ops.sum(ops.exp(log_variance) + ops.square(mean) - 1.0 - log_variance, axis=1)


def bits_per_dim(negative_elbo, dims: int):
    """-ELBO in nats on [-1, 1] pixels -> bits per dimension on [0, 255] pixels."""
    return (negative_elbo + dims * math.log(PIXEL_SCALE)) / (dims * math.log(2.0))
