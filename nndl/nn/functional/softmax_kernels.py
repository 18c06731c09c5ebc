"""Reference kernels: softmax and log-softmax along one axis, by the log-sum-exp trick.

Both normalize along an axis (the classes), so unlike the element-wise
activations their Jacobian is not diagonal; backward applies it to ``δ`` as a
Jacobian-vector product in ``O(K)`` per row, never forming the ``K × K``
matrix.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.functional.activations import exp_limit

__all__ = ["log_softmax", "log_softmax_backward", "log_softmax_forward", "logsumexp", "softmax", "softmax_backward",
           "softmax_forward"]


def _exp_of_shifted(shifted: np.ndarray, axis: int) -> np.ndarray:
    """``e^{shifted}`` for exponents ``≤ 0`` (the max already subtracted), clamped so nothing underflows.

    Exponents are floored at ``−L + log K + 1`` (``L = exp_limit``, ``K`` the
    length of ``axis``): a term below that is off by less than the dtype's
    smallest normal number, and even divided by a sum of at most ``K`` it
    stays a normal number, so no finite input raises a floating-point warning.
    """
    floor = -exp_limit(shifted.dtype) + math.log(max(shifted.shape[axis], 1)) + 1.0
    return np.exp(np.maximum(shifted, floor))


def logsumexp(x, axis: int | None = -1, keepdims: bool = False, temperature: float = 1.0) -> np.ndarray:
    """Log-sum-exp ``T log Σ_j e^{x_j / T}``, a smooth maximum; keeps a float input's dtype.

    Parameters
    ----------
    x : array_like
    axis : int or None
        The axis summed over (None: every element).
    keepdims : bool
        Keep ``axis`` with length 1, as NumPy's reductions.
    temperature : float > 0
        ``T``; 1 gives the plain ``log Σ e^{x_j}``.

    Returns
    -------
    ndarray
        ``x``'s shape without ``axis`` (float64 for integer input).

    Notes
    -----
    With ``m = max_j x_j`` and ``n`` terms, ``e^{m/T} ≤ Σ_j e^{x_j/T} ≤ n e^{m/T}``, so

    .. math::
        m \\le T \\log \\sum_j e^{x_j / T} \\le m + T \\ln n,

    and the log-sum-exp tends to the maximum as ``T → 0`` (the gap is at
    most ``T ln n``). Its gradient is ``softmax(x / T)``, the smooth
    version of the max's one-hot gradient. Computed as
    ``m + T log Σ_j e^{(x_j − m)/T}``: every exponent is ``≤ 0``, so
    nothing overflows, and the largest term is 1, so the sum never
    underflows to 0.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if not temperature > 0:
        raise ValueError(f"logsumexp: temperature must be positive, got {temperature}")
    if x.size == 0:
        raise ValueError(f"logsumexp: empty input of shape {x.shape}")
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)  # all −∞ (or an ∞) along the axis: no shift
    t = x.dtype.type(temperature)
    # Terms far below the max underflow to 0, harmlessly; log 0 = −∞ when every entry is −∞.
    with np.errstate(under="ignore", divide="ignore"):
        out = m + t * np.log(np.sum(np.exp((x - m) / t), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log softmax(x)_k = x_k − log Σ_j e^{x_j}``; keeps ``x``'s dtype.

    With ``m = max_j x_j``, ``x_k − m − log Σ_j e^{x_j − m}`` is the same
    value, but every exponent is ``≤ 0`` (no exponential overflows) and the
    largest term is exactly 1 (the sum never underflows to 0, whose log
    would be −∞).
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(_exp_of_shifted(shifted, axis), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``softmax(x)_k = e^{x_k} / Σ_j e^{x_j}``, with the max subtracted first (see :func:`log_softmax`)."""
    exps = _exp_of_shifted(x - np.max(x, axis=axis, keepdims=True), axis)
    return exps / np.sum(exps, axis=axis, keepdims=True)


def softmax_forward(x: np.ndarray, axis: int = -1):
    """Softmax along ``axis``: ``s_k = e^{z_k} / Σ_j e^{z_j}``.

    Parameters
    ----------
    x : ndarray, any shape
    axis : int

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``; entries in (0, 1], summing to 1 along ``axis``
    cache : tuple ``(out, axis)``
    """
    out = softmax(x, axis)
    return out, (out, axis)


def softmax_backward(dout: np.ndarray, cache):
    """Jacobian-vector product of the softmax.

    With ``∂s_k/∂z_i = s_k (1[i = k] − s_i)``:

    .. math::
        ∂L/∂z_i = Σ_k δ_k s_k (1[i = k] − s_i) = s_i (δ_i − Σ_k δ_k s_k)
    """
    s, axis = cache
    return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


def log_softmax_forward(x: np.ndarray, axis: int = -1):
    """Log-softmax along ``axis``: ``z_k − log Σ_j e^{z_j}`` (see :func:`log_softmax`).

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : tuple ``(out, axis)``
    """
    out = log_softmax(x, axis)
    return out, (out, axis)


def log_softmax_backward(dout: np.ndarray, cache):
    """Jacobian-vector product of the log-softmax.

    With ``∂(log s_k)/∂z_i = 1[i = k] − s_i``:

    .. math::
        ∂L/∂z_i = δ_i − s_i Σ_k δ_k, \\qquad s = e^{\\text{out}}

    (``out ≤ 0``, so the exponential cannot overflow).
    """
    out, axis = cache
    return dout - np.exp(out) * np.sum(dout, axis=axis, keepdims=True)
