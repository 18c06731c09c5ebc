"""Softmax and log-softmax: stable kernels, their backward passes and the modules.

Both normalize along one axis (the classes), so unlike the element-wise
activations their Jacobian is not diagonal; backward applies it to ``δ``
as a Jacobian-vector product in ``O(K)`` per row, never forming the
``K × K`` matrix.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.activations.activation import Activation, exp_limit


def _clamped_exp(shifted: np.ndarray, axis: int, in_place: bool = False) -> np.ndarray:
    """``e^{shifted}`` for exponents ``shifted ≤ 0``, clamped so nothing underflows.

    A new array, or ``shifted`` itself overwritten when ``in_place``.

    Exponents are clamped at ``−L + log K + 1`` (``L = exp_limit``, ``K``
    the length of ``axis``): a term below that is off by less than the
    dtype's smallest normal number, and even divided by a sum of at most
    ``K`` it stays a normal number, so no finite input raises a
    floating-point warning.
    """
    floor = -exp_limit(shifted.dtype) + math.log(max(shifted.shape[axis], 1)) + 1.0
    out = np.maximum(shifted, floor, out=shifted if in_place else None)
    np.exp(out, out=out)
    return out


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log softmax(x)_k = x_k − log Σ_j e^{x_j}``, by the log-sum-exp trick.

    Subtracting ``m = max_j x_j`` first gives the same value
    (``x_k − m − log Σ_j e^{x_j − m}``) while every exponent is ≤ 0, so no
    exponential overflows and the largest term is exactly 1 (no underflow of
    the whole sum; see :func:`_clamped_exp` for the tiny terms). Keeps
    ``x``'s dtype.
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    log_sum = np.log(np.sum(_clamped_exp(shifted, axis), axis=axis, keepdims=True))
    shifted -= log_sum
    return shifted


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``softmax(x)_k = e^{x_k} / Σ_j e^{x_j}``, computed with the max subtracted (see :func:`log_softmax`)."""
    exps = x - np.max(x, axis=axis, keepdims=True)
    exps = _clamped_exp(exps, axis, in_place=True)
    exps /= np.sum(exps, axis=axis, keepdims=True)
    return exps


def softmax_forward(x: np.ndarray, axis: int = -1):
    """Softmax along ``axis``: ``s_k = e^{z_k} / Σ_j e^{z_j}``.

    Parameters
    ----------
    x : ndarray, any shape
    axis : int

    Returns
    -------
    out : ndarray, same shape and dtype; entries in (0, 1], summing to 1 along ``axis``
    cache : tuple ``(out, axis)``
    """
    out = softmax(x, axis)
    return out, (out, axis)


def softmax_backward(dout: np.ndarray, cache):
    """Jacobian-vector product of the softmax.

    With ``∂s_k/∂z_i = s_k (1[i = k] − s_i)``:

    .. math::
        ∂L/∂z_i = Σ_k δ_k s_k (1[i = k] − s_i) = s_i (δ_i − Σ_k δ_k s_k),

    i.e. ``s ⊙ (δ − Σ δ ⊙ s)`` along ``axis``: two element-wise products and
    one sum, not a ``K × K`` Jacobian.
    """
    out, axis = cache
    dx = dout * out
    total = np.sum(dx, axis=axis, keepdims=True)
    dx -= out * total
    return dx


def log_softmax_forward(x: np.ndarray, axis: int = -1):
    """Log-softmax along ``axis``: ``z_k − log Σ_j e^{z_j}`` (stable, see :func:`log_softmax`).

    Returns
    -------
    out : ndarray, same shape and dtype
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
    dx = np.exp(out)
    dx *= -np.sum(dout, axis=axis, keepdims=True)
    dx += dout
    return dx


class _AlongAxis(Activation):
    """Shared by Softmax and LogSoftmax: the normalization axis and its validation."""

    def __init__(self, axis: int = -1, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: axis must be an int, got {type(axis).__name__}")
        self.axis = int(axis)

    def _check_axis(self, shape) -> None:
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"{self.describe()}: axis {self.axis} is out of range for input of shape {tuple(shape)}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=1)
        self._check_axis(x.shape)
        return super().forward(x)

    def output_shape(self, input_shape):
        self._check_axis(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Softmax(_AlongAxis):
    """``softmax(z)_k = e^{z_k} / Σ_j e^{z_j}`` along ``axis`` (PyTorch's ``dim``).

    Backward: ``∂L/∂z = s ⊙ (δ − Σ_k δ_k s_k)``, the Jacobian-vector product.
    For training a classifier use ``SoftmaxCrossEntropy`` on the scores
    instead: it fuses the two, with the simpler gradient ``s − y``.
    """

    def _forward(self, x):
        return softmax_forward(x, self.axis)

    def _backward(self, dout, cache):
        return softmax_backward(dout, cache)


class LogSoftmax(_AlongAxis):
    """``log softmax(z)_k = z_k − log Σ_j e^{z_j}`` along ``axis`` (PyTorch's ``dim``).

    Backward: ``∂L/∂z = δ − softmax(z) Σ_k δ_k``. Followed by ``NLLLoss`` it
    gives the cross-entropy.
    """

    def _forward(self, x):
        return log_softmax_forward(x, self.axis)

    def _backward(self, dout, cache):
        return log_softmax_backward(dout, cache)
