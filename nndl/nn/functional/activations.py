"""Reference kernels: element-wise activations (ReLU, leaky ReLU, ELU, PReLU, sigmoid, tanh, softplus, step).

Every activation ``a = f(z)`` acts entry by entry, so its Jacobian is diagonal
and backward is the element-wise product

.. math::
    δ_z = δ_a ⊙ f'(z)

(the notes' ``δ_l = f'(z_l) ⊙ (W_{l+1}ᵀ δ_{l+1})``, the second factor being
``dout``). Each kernel accepts any shape, keeps the input's dtype and never
writes into its arguments. At a kink (``z = 0``) the derivative is the
left-hand one, as in PyTorch: ``ReLU'(0) = 0``, ``LeakyReLU'(0) = slope``,
``ELU'(0) = α``, ``PReLU'(0) = a``.

Softmax and log-softmax, which normalize along an axis, are in
:mod:`nndl.nn.functional.softmax_kernels`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "elu_backward", "elu_forward", "leaky_relu_backward", "leaky_relu_forward", "prelu_backward", "prelu_forward",
    "relu_backward", "relu_forward", "sigmoid_backward", "sigmoid_forward", "softplus_backward", "softplus_forward",
    "step_backward", "step_forward", "tanh_backward", "tanh_forward",
]


def exp_limit(dtype) -> int:
    """Largest integer ``L`` with ``e^{-L}`` a normal number of ``dtype`` (so ``e^{L}`` is finite too).

    87 for float32, 708 for float64. Clamping an exponent to ``[-L, L]``
    keeps ``exp`` free of overflow *and* underflow: a result that would be
    smaller than ``e^{-L}`` is off by less than the dtype's smallest normal
    number, far below its resolution near any value of interest.
    """
    return math.floor(-math.log(np.finfo(dtype).tiny))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(z) = 1 / (1 + e^{−z})``, finite and warning-free for every finite input.

    The input is clamped to ``[−L, L]`` (``L = exp_limit``) so that ``e^{−z}``
    neither overflows nor underflows. Beyond the clamp ``σ`` is already 1 to
    the last bit on the right; on the left it returns ``σ(−L) ≈ e^{−L}``
    (1.6e-38 / 3.3e-308) for a true value that is smaller still. For ``z < 0``
    the formula stays accurate in relative terms (``1 / (1 + large)``),
    unlike ``(1 + tanh(z/2)) / 2``.
    """
    limit = exp_limit(x.dtype)
    return 1 / (1 + np.exp(-np.clip(x, -limit, limit)))


# ---------------------------------------------------------------------- rectifiers


def relu_forward(x: np.ndarray):
    """Rectified linear unit ``ReLU(z) = max(0, z)``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : ndarray, the output (``z > 0`` exactly where ``out > 0``)
    """
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ ⊙ 1[z > 0]`` (``ReLU'(0) = 0``), read off the saved output.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
    """
    out = cache
    return dout * (out > 0)


def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01):
    """Leaky ReLU ``f(z) = z`` for ``z > 0``, ``negative_slope · z`` otherwise.

    Parameters
    ----------
    x : ndarray, any shape
    negative_slope : float

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : tuple ``(z > 0, negative_slope)``
    """
    positive = x > 0
    out = np.where(positive, x, negative_slope * x)
    return out, (positive, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ`` where ``z > 0``, ``negative_slope · δ`` elsewhere (``z = 0`` included)."""
    positive, negative_slope = cache
    return np.where(positive, dout, negative_slope * dout)


def elu_forward(x: np.ndarray, alpha: float = 1.0):
    """Exponential linear unit ``ELU(z) = z`` for ``z > 0``, ``α (e^z − 1)`` otherwise.

    ELU is piecewise: the notes' ``max(α(e^z − 1), z)`` would pick the
    exponential for ``z > 0``, where ``e^z − 1 > z``.

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float >= 0

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : tuple ``(x, alpha)``
    """
    # expm1 is accurate near 0; its argument is min(z, 0) so that a large positive z
    # (whose branch is discarded) cannot overflow the exponential.
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, alpha)


def elu_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ`` where ``z > 0``, ``δ ⊙ α e^z`` elsewhere (``α e^0 = α`` at ``z = 0``).

    ``α e^z`` is evaluated directly rather than as ``ELU(z) + α``, which
    loses relative accuracy to cancellation for very negative ``z``.
    """
    x, alpha = cache
    return np.where(x > 0, dout, dout * (alpha * np.exp(np.minimum(x, 0))))


def _channel_slopes(weight: np.ndarray, ndim: int) -> np.ndarray:
    """PReLU's slopes shaped to broadcast against an input of ``ndim`` axes (one per channel, axis 1)."""
    if weight.shape[0] == 1:
        return weight.reshape(())
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def prelu_forward(x: np.ndarray, weight: np.ndarray):
    """Parametric ReLU ``f(z) = z`` for ``z > 0``, ``a_c z`` otherwise, with learned slopes ``a``.

    Parameters
    ----------
    x : ndarray, shape (N, C, ...), or any shape when ``weight`` has one entry
    weight : ndarray, shape (1,) or (C,)
        The slopes ``a``: one shared by every entry, or one per channel (axis 1).

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : tuple ``(x, weight)``
    """
    slope = _channel_slopes(weight, x.ndim)
    out = np.where(x > 0, x, slope * x)
    return out, (x, weight)


def prelu_backward(dout: np.ndarray, cache):
    """Gradients of the parametric ReLU.

    .. math::
        ∂L/∂z = δ ⊙ (1[z > 0] + a_c 1[z ≤ 0]), \\qquad
        ∂L/∂a_c = Σ_{\\text{entries of channel } c} δ ⊙ \\min(z, 0)

    (one sum over every entry for a shared slope).

    Returns
    -------
    dx : ndarray, the shape of ``dout``
    dweight : ndarray, the shape and dtype of ``weight``
    """
    x, weight = cache
    slope = _channel_slopes(weight, x.ndim)
    dx = np.where(x > 0, dout, slope * dout)
    dslope = dout * np.minimum(x, 0)  # ∂f/∂a = min(z, 0): z where z ≤ 0, 0 elsewhere
    if weight.shape[0] == 1:
        dweight = np.sum(dslope, dtype=weight.dtype).reshape(1)
    else:
        dweight = np.sum(dslope, axis=tuple(a for a in range(x.ndim) if a != 1), dtype=weight.dtype)
    return dx, dweight


# ---------------------------------------------------------------------- smooth activations


def sigmoid_forward(x: np.ndarray):
    """Logistic sigmoid ``σ(z) = 1 / (1 + e^{−z})`` (one set of notes prints ``e^{+z}``: the exponent is ``−z``).

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : ndarray, the output ``σ(z)`` (all backward needs)
    """
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ ⊙ σ(z)(1 − σ(z))``, from the saved output."""
    out = cache
    return dout * (out * (1 - out))


def tanh_forward(x: np.ndarray):
    """Hyperbolic tangent ``tanh(z) = 2σ(2z) − 1``: zero-centred, saturating at ±1.

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : ndarray, the output (all backward needs)
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ ⊙ (1 − tanh²(z))``, from the saved output."""
    out = cache
    return dout * (1 - np.square(out))


def softplus_forward(x: np.ndarray, beta: float = 1.0):
    """Softplus ``f(z) = (1/β) log(1 + e^{βz})``, a smooth ReLU.

    Computed as ``(max(t, 0) + log1p(e^{−|t|})) / β`` with ``t = βz``: the
    exponent is never positive (no overflow for large ``z``), and for very
    negative ``z`` the result ``log1p(e^{t}) ≈ e^{t}`` keeps its relative
    accuracy where ``log(1 + e^{t})`` would round to 0.

    Parameters
    ----------
    x : ndarray, any shape
    beta : float > 0

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : ndarray, ``t = βz``
    """
    t = x * beta if beta != 1.0 else x
    # The exponent is floored at −L (exp_limit) so that nothing underflows; with β > 1 the floor
    # is raised by ⌈log β⌉ so that the division by β cannot push e^{−L} below the smallest normal number.
    floor = -exp_limit(x.dtype) + (math.ceil(math.log(beta)) if beta > 1.0 else 0)
    out = np.maximum(t, 0) + np.log1p(np.exp(np.maximum(-np.abs(t), floor)))
    return (out / beta if beta != 1.0 else out), t


def softplus_backward(dout: np.ndarray, cache):
    """``∂L/∂z = δ ⊙ σ(βz)``, the derivative of ``log(1 + e^{βz})/β``."""
    t = cache
    return dout * sigmoid(t)


# ---------------------------------------------------------------------- step


def step_forward(x: np.ndarray):
    """Heaviside step ``H(z) = 1`` if ``z > 0`` else ``0``, the perceptron's activation.

    ``H(0) = 0`` (``np.heaviside(z, 0)``); NaN stays NaN.

    Returns
    -------
    out : ndarray, the shape and dtype of ``x``
    cache : tuple ``(shape, dtype)``
    """
    return np.heaviside(x, x.dtype.type(0)), (x.shape, x.dtype)


def step_backward(dout: np.ndarray, cache):
    """``∂L/∂z = 0`` everywhere: ``H'(z) = 0`` for ``z ≠ 0``, undefined (taken as 0) at 0.

    That is why a perceptron is trained by its own update rule and not by backprop.
    """
    shape, dtype = cache
    return np.zeros(shape, dtype=dtype)
