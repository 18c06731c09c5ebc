"""Element-wise activations without parameters: the shared base class, Step, Sigmoid, Tanh, Softplus.

Every activation ``a = f(z)`` acts entry by entry, so its Jacobian is diagonal
and backward is the element-wise product ``δ_z = δ_a ⊙ f'(z)`` (the notes'
``δ_l = f'(z_l) ⊙ (W_{l+1}ᵀ δ_{l+1})``, the second factor being ``dout``).
Each kernel pair keeps the input's dtype and accepts any shape; backward
never writes into ``dout`` (a container may still use it).

The rectifiers (ReLU, LeakyReLU, ELU) are in :mod:`nndl.nn.activations.rectifier`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from nndl.nn.core.module import Module

# ---------------------------------------------------------------------- helpers


def exp_limit(dtype) -> int:
    """Largest integer ``L`` with ``e^{-L}`` a normal number of ``dtype`` (and so ``e^{L}`` finite).

    87 for float32, 708 for float64. Clamping an exponent to ``[-L, L]``
    keeps ``exp`` free of overflow *and* underflow: a result that would be
    smaller than ``e^{-L}`` is off by less than the dtype's smallest normal
    number, far below its resolution near any value of interest.
    """
    return math.floor(-math.log(np.finfo(dtype).tiny))


def blend(mask: np.ndarray, if_true: np.ndarray, if_false) -> np.ndarray:
    """``np.where(mask, if_true, if_false)`` for *finite* operands, by arithmetic.

    ``if_true ⊙ mask + if_false ⊙ ¬mask`` is exact (one of the two terms is
    a product with 0) and several times faster than ``np.where`` on the
    random masks activations produce; an infinite operand would give NaN
    (``∞ · 0``), so callers only pass finite gradients.
    """
    out = np.multiply(if_true, mask)
    out += np.multiply(if_false, ~mask)
    return out


def real_argument(owner: str, name: str, value, minimum: float | None = None, strict: bool = False) -> float:
    """Validate a real-valued constructor argument; return it as a float.

    Raises ``TypeError`` for a non-number and ``ValueError`` for a
    non-finite value or one below ``minimum`` (``<=`` it when ``strict``).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{owner}: {name} must be {relation} {minimum}, got {value}")
    return value


class Activation(Module):
    """Base class of element-wise activations: input checks, cache, identity ``output_shape``.

    A subclass implements ``_forward(x) -> (out, cache)`` and
    ``_backward(dout, cache) -> dx`` by calling its kernel pair. ``forward``
    accepts a float32 or float64 array of any shape (even 0-d) and keeps its
    dtype; ``backward`` requires ``dout`` of the output's shape (no silent
    broadcasting).
    """

    def __init__(self, dtype=np.float32):
        super().__init__(dtype)
        self._cache = None
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=0)
        self._shape = x.shape
        if x.ndim == 0:  # kernels need an axis: NumPy returns 0-d results as scalars
            out, self._cache = self._forward(x.reshape(1))
            return out.reshape(())
        out, self._cache = self._forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._saved()
        if not isinstance(dout, np.ndarray):
            raise TypeError(f"{self.describe()}: dout must be a numpy array, got {type(dout).__name__}")
        if dout.shape != self._shape:
            raise ValueError(f"{self.describe()}: dout has shape {dout.shape}, expected the output's {self._shape}")
        if dout.ndim == 0:
            return self._backward(dout.reshape(1), cache).reshape(())
        return self._backward(dout, cache)

    def _forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")

    def _backward(self, dout, cache):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def output_shape(self, input_shape):
        return tuple(input_shape)


# ---------------------------------------------------------------------- Step


def step_forward(x: np.ndarray):
    """Binary threshold (Heaviside step) ``H(z) = 1 if z > 0 else 0``.

    The perceptron's activation. At ``z = 0`` the output is 0 (the
    convention ``H(0) = 0``, i.e. ``np.heaviside(z, 0)``); NaN stays NaN.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : tuple ``(shape, dtype)`` for :func:`step_backward`
    """
    return np.heaviside(x, x.dtype.type(0)), (x.shape, x.dtype)


def step_backward(dout: np.ndarray, cache):
    """Gradient of the step: ``∂L/∂z = 0`` everywhere.

    ``H'(z) = 0`` for ``z ≠ 0`` and is undefined at 0 (taken as 0), which is
    why a perceptron is trained by its own update rule and not by backprop.

    Returns
    -------
    dx : ndarray of zeros, the input's shape and dtype
    """
    shape, dtype = cache
    return np.zeros(shape, dtype=dtype)


class Step(Activation):
    """Binary threshold ``H(z) = 1`` for ``z > 0``, else ``0`` (so ``H(0) = 0``); gradient 0 everywhere."""

    def _forward(self, x):
        return step_forward(x)

    def _backward(self, dout, cache):
        return step_backward(dout, cache)


# ---------------------------------------------------------------------- Sigmoid


def sigmoid_forward(x: np.ndarray):
    """Logistic sigmoid ``σ(z) = 1 / (1 + e^{−z})``.

    (One set of notes prints ``1/(1+e^x)``: the exponent is ``−z``.) The
    input is first clamped to ``[−L, L]`` with ``L = exp_limit(dtype)`` (87 in
    float32, 708 in float64): then ``e^{−z}`` neither overflows nor
    underflows, so no finite input raises a floating-point warning. Beyond
    the clamp ``σ`` is already 1 to the last bit on the right, and on the
    left it returns ``σ(−L) ≈ e^{−L}`` (1.6e-38 / 3.3e-308) for a true value
    that is smaller still. For ``z < 0`` the formula stays accurate in
    relative terms (``1 / (1 + large)``), unlike ``(1 + tanh(z/2)) / 2``.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : ndarray, the output σ(z) (backward needs only that)
    """
    limit = exp_limit(x.dtype)
    out = np.clip(x, -limit, limit)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out, out


def sigmoid_backward(dout: np.ndarray, cache):
    """Gradient of the sigmoid from its saved output: ``∂L/∂z = δ ⊙ σ(z)(1 − σ(z))``.

    Returns
    -------
    dx : ndarray, shape of ``dout``
    """
    out = cache
    dx = 1 - out
    dx *= out
    dx *= dout
    return dx


class Sigmoid(Activation):
    """Logistic sigmoid ``σ(z) = 1 / (1 + e^{−z})``; ``σ'(z) = σ(z)(1 − σ(z))``.

    Finite and warning-free for every finite input in float32 and float64.
    """

    def _forward(self, x):
        return sigmoid_forward(x)

    def _backward(self, dout, cache):
        return sigmoid_backward(dout, cache)


# ---------------------------------------------------------------------- Tanh


def tanh_forward(x: np.ndarray):
    """Hyperbolic tangent ``tanh(z) = 2σ(2z) − 1``, zero-centred, saturating at ±1.

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : ndarray, the output (backward needs only that)
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache):
    """Gradient of tanh from its saved output: ``∂L/∂z = δ ⊙ (1 − tanh²(z))``."""
    out = cache
    dx = np.square(out)
    np.subtract(1, dx, out=dx)
    dx *= dout
    return dx


class Tanh(Activation):
    """``tanh(z)``; ``tanh'(z) = 1 − tanh²(z)``."""

    def _forward(self, x):
        return tanh_forward(x)

    def _backward(self, dout, cache):
        return tanh_backward(dout, cache)


# ---------------------------------------------------------------------- Softplus


def softplus_forward(x: np.ndarray, beta: float = 1.0):
    """Softplus ``f(z) = (1/β) log(1 + e^{βz})``, a smooth ReLU.

    Computed as ``max(t, 0) + log1p(e^{−|t|})`` with ``t = βz``: the exponent
    is never positive (no overflow for large ``z``), and for very negative
    ``z`` the result is ``log1p(e^{t}) ≈ e^{t}``, accurate in relative terms
    where ``log(1 + e^{t})`` would round to 0. The exponent is clamped at
    ``−L`` (see :func:`exp_limit`) so that nothing underflows.

    Parameters
    ----------
    x : ndarray, any shape
    beta : float > 0

    Returns
    -------
    out : ndarray, same shape and dtype
    cache : ndarray, ``t = βz`` for :func:`softplus_backward`
    """
    scaled = x if beta == 1.0 else x * beta
    # Dividing by β > 1 must not push e^{-L} below the smallest normal number.
    floor = -exp_limit(x.dtype) + (math.ceil(math.log(beta)) if beta > 1.0 else 0)
    tail = np.abs(scaled)
    np.negative(tail, out=tail)
    np.maximum(tail, floor, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    out = np.maximum(scaled, 0)
    out += tail
    if beta != 1.0:
        out /= beta
    return out, scaled


def softplus_backward(dout: np.ndarray, cache):
    """Gradient of softplus: ``∂L/∂z = δ ⊙ σ(βz)`` (the derivative of ``log(1 + e^{βz})/β``)."""
    scaled = cache
    dx, _ = sigmoid_forward(scaled)
    dx *= dout
    return dx


class Softplus(Activation):
    """``Softplus(z) = (1/β) log(1 + e^{βz})``; derivative ``σ(βz)``.

    Parameters
    ----------
    beta : float > 0
        Sharpness, as PyTorch's ``beta`` (default 1: the notes' ``log(1 + e^z)``).

    Notes
    -----
    PyTorch's ``Softplus(beta, threshold=20)`` returns ``z`` itself where
    ``βz > threshold``, to avoid overflow. Here the stable formula
    ``max(t, 0) + log1p(e^{−|t|})`` needs no switch, so there is no
    ``threshold``: above it the two differ by ``log1p(e^{−βz})/β <
    2.1e-9/β``, a relative difference below 1e-10.
    """

    def __init__(self, beta: float = 1.0, dtype=np.float32):
        super().__init__(dtype)
        self.beta = real_argument("Softplus", "beta", beta, minimum=0.0, strict=True)

    def _forward(self, x):
        return softplus_forward(x, self.beta)

    def _backward(self, dout, cache):
        return softplus_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"
