"""Reference kernels: additive Gaussian noise on hidden units (the notes' noise injection).

Training: ``y = x + σ ε``, ``ε ~ N(0, I)`` drawn afresh on every pass;
evaluation: ``y = x``. The noise does not depend on ``x``, so
``∂L/∂x = ∂L/∂y``: the same gradient as the identity.
"""

from __future__ import annotations

import numpy as np

from nndl.random import as_generator

__all__ = ["gaussian_noise_backward", "gaussian_noise_forward"]


def gaussian_noise_forward(x: np.ndarray, std: float, rng=None, training: bool = True):
    """``y = x + σ ε`` in training (``ε`` standard normal, drawn in ``x``'s dtype), ``y = x`` otherwise.

    Parameters
    ----------
    x : ndarray, any shape, float32 or float64
    std : float
        ``σ``.
    rng : Generator, int or None
        Source of ``ε``.
    training : bool

    Returns
    -------
    out : ndarray, the shape and dtype of ``x`` (``x`` itself when nothing is added)
    cache : None (backward needs nothing)
    """
    if not training or std == 0:
        return x, None
    noise = as_generator(rng).standard_normal(x.shape, dtype=x.dtype)
    return x + x.dtype.type(std) * noise, None


def gaussian_noise_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂x = ∂L/∂y``: the noise is added, not multiplied."""
    return dout
