"""Softmax and log-softmax: stable kernels (and, below them, the modules)."""

from __future__ import annotations

import numpy as np


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log softmax(x)_k = x_k − log Σ_j e^{x_j}``, by the log-sum-exp trick.

    Subtracting ``m = max_j x_j`` first gives the same value
    (``x_k − m − log Σ_j e^{x_j − m}``) while every exponent is ≤ 0, so no
    exponential overflows and the largest term is exactly 1 (no underflow of
    the whole sum). Keeps ``x``'s dtype.
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``softmax(x)_k = e^{x_k} / Σ_j e^{x_j}``, computed with the max subtracted (see :func:`log_softmax`)."""
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    exps /= np.sum(exps, axis=axis, keepdims=True)
    return exps
