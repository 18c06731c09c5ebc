"""Rectifiers: ReLU, LeakyReLU and ELU (kernel pairs and modules).

All three are the identity for ``z > 0`` and differ on ``z ≤ 0``: zero
(ReLU), a fixed slope (LeakyReLU), a saturating exponential (ELU). At the
kink ``z = 0`` each takes the left-hand derivative, as PyTorch does:
``ReLU'(0) = 0``, ``LeakyReLU'(0) = slope``, ``ELU'(0) = α``.
The learned-slope variant, PReLU, is in :mod:`nndl.nn.activations.prelu`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.activations.activation import Activation, blend, real_argument
from nndl.nn._fast.parallel import split_first_axis

# ---------------------------------------------------------------------- ReLU


def relu_forward(x: np.ndarray):
    """Rectified linear unit ``ReLU(z) = max(0, z)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : ndarray, the output (``z > 0`` exactly where ``out > 0``)
    """
    # max against an array of zeros: NumPy's maximum with a scalar operand
    # takes a slower, non-vectorized path (about 2x here).
    out = np.empty_like(x)  # same memory layout as x

    def part(rows) -> None:
        out[rows] = 0
        np.maximum(x[rows], out[rows], out=out[rows])

    split_first_axis(part, x)
    return out, out


def relu_backward(dout: np.ndarray, cache):
    """Gradient of ReLU: ``∂L/∂z = δ ⊙ 1[z > 0]``.

    ``ReLU'(0) = 0`` (the subgradient PyTorch uses), read off the saved
    output: ``out > 0`` exactly where ``z > 0``.
    """
    out = cache
    if dout.shape != out.shape or dout.dtype != out.dtype:
        return np.multiply(dout, out > 0)  # NumPy's broadcasting and type rules, in one pass
    dx = np.empty_like(dout)

    def part(rows) -> None:
        np.multiply(dout[rows], out[rows] > 0, out=dx[rows])

    split_first_axis(part, out)
    return dx


class ReLU(Activation):
    """``ReLU(z) = max(0, z)``; derivative ``1[z > 0]`` (0 at ``z = 0``, as PyTorch)."""

    def _forward(self, x):
        return relu_forward(x)

    def _backward(self, dout, cache):
        return relu_backward(dout, cache)


# ---------------------------------------------------------------------- LeakyReLU


def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01):
    """Leaky ReLU ``f(z) = z`` for ``z > 0``, ``negative_slope · z`` otherwise.

    For a slope ``a ≤ 1`` this is ``max(z, a z)``, and for ``a > 1`` it is
    ``min(z, a z)`` (both exact and faster than a select).

    Parameters
    ----------
    x : ndarray, any shape
    negative_slope : float

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : tuple ``(positive, negative_slope)``, ``positive = (z > 0)``
    """
    scaled = x * negative_slope
    if negative_slope <= 1.0:
        out = np.maximum(x, scaled, out=scaled)
    else:
        out = np.minimum(x, scaled, out=scaled)
    return out, (x > 0, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache):
    """Gradient of leaky ReLU: ``∂L/∂z = δ`` where ``z > 0``, ``negative_slope · δ`` elsewhere (also at 0)."""
    positive, negative_slope = cache
    return blend(positive, dout, dout * negative_slope)


class LeakyReLU(Activation):
    """``LeakyReLU(z) = z`` for ``z > 0``, else ``negative_slope · z``.

    Parameters
    ----------
    negative_slope : float
        Slope for ``z ≤ 0`` (PyTorch's default 0.01). One set of notes writes
        ``max(0.1z, z)`` and another "0.01 for negative inputs": the slope is
        a hyperparameter (a learned one is :class:`~nndl.nn.PReLU`).

    Notes
    -----
    Derivative 1 for ``z > 0`` and ``negative_slope`` for ``z ≤ 0``.
    """

    def __init__(self, negative_slope: float = 0.01, dtype=np.float32):
        super().__init__(dtype)
        self.negative_slope = real_argument("LeakyReLU", "negative_slope", negative_slope)

    def _forward(self, x):
        return leaky_relu_forward(x, self.negative_slope)

    def _backward(self, dout, cache):
        return leaky_relu_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


# ---------------------------------------------------------------------- ELU


def elu_forward(x: np.ndarray, alpha: float = 1.0):
    """Exponential linear unit ``ELU(z) = z`` for ``z > 0``, ``α (e^z − 1)`` otherwise.

    Computed as ``max(z, 0) + α · expm1(min(z, 0))``: ``expm1`` is accurate
    near 0, and taking the exponential of ``min(z, 0)`` only means large
    positive ``z`` cannot overflow it. (ELU is piecewise: the notes'
    ``max(α(e^z − 1), z)`` would pick the exponential for ``z > 0``, where
    ``e^z − 1 > z``.)

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float >= 0

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : tuple ``(positive, min(z, 0), alpha)``
    """
    zero = np.zeros_like(x)
    out = np.maximum(x, zero)
    negative_part = np.minimum(x, zero, out=zero)
    out += alpha * np.expm1(negative_part)
    return out, (x > 0, negative_part, alpha)


def elu_backward(dout: np.ndarray, cache):
    """Gradient of ELU: ``∂L/∂z = δ`` where ``z > 0``, ``δ ⊙ α e^z`` elsewhere (``α e^0 = α`` at ``z = 0``).

    ``α e^{min(z, 0)}`` is evaluated directly rather than as ``ELU(z) + α``,
    which loses relative accuracy to cancellation for very negative ``z``;
    it lies in ``(0, α]``, finite as :func:`blend` needs.
    """
    positive, negative_part, alpha = cache
    negative_side = np.exp(negative_part)
    negative_side *= alpha
    negative_side *= dout
    return blend(positive, dout, negative_side)


class ELU(Activation):
    """``ELU(z) = z`` for ``z > 0``, else ``α (e^z − 1)``; derivative 1, resp. ``α e^z``.

    Parameters
    ----------
    alpha : float >= 0
        Value ``−α`` that the output saturates to for ``z → −∞``.
    """

    def __init__(self, alpha: float = 1.0, dtype=np.float32):
        super().__init__(dtype)
        self.alpha = real_argument("ELU", "alpha", alpha, minimum=0.0)

    def _forward(self, x):
        return elu_forward(x, self.alpha)

    def _backward(self, dout, cache):
        return elu_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
