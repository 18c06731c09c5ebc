"""Element-wise activations without parameters: the shared base class, Step, Sigmoid, Tanh, Softplus.

Every activation ``a = f(z)`` acts entry by entry, so its Jacobian is diagonal
and backward is the element-wise product ``δ_z = δ_a ⊙ f'(z)``. The formulas
and their derivatives are in :mod:`nndl.nn.functional.activations`; the
modules here check their input and compute with the active kernel set.

The rectifiers (ReLU, LeakyReLU, ELU) are in :mod:`nndl.nn.activations.rectifier`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from nndl.nn.core.facts import ELEMENTWISE, ActivationFacts
from nndl.nn.core.kernels import kernels
from nndl.nn.core.module import Module


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

    A subclass implements ``_forward(k, x) -> (out, cache)`` and
    ``_backward(k, dout, cache) -> dx`` by calling its kernel pair in the
    kernel set ``k``. ``forward`` accepts a float32 or float64 array of any
    shape (even 0-d) and keeps its dtype; ``backward`` requires ``dout`` of
    the output's shape (no silent broadcasting).
    """

    def __init__(self, dtype=np.float32):
        super().__init__(dtype)
        self._cache = None
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=0)
        self._shape = x.shape
        k = kernels()
        # Kernels need an axis: NumPy returns 0-d results as scalars.
        out, cache = self._forward(k, x.reshape(1) if x.ndim == 0 else x)
        self._cache = (k, cache)
        return out.reshape(()) if x.ndim == 0 else out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache = self._saved()
        if not isinstance(dout, np.ndarray):
            raise TypeError(f"{self.describe()}: dout must be a numpy array, got {type(dout).__name__}")
        if dout.shape != self._shape:
            raise ValueError(f"{self.describe()}: dout has shape {dout.shape}, expected the output's {self._shape}")
        if dout.ndim == 0:
            return self._backward(k, dout.reshape(1), cache).reshape(())
        return self._backward(k, dout, cache)

    def _forward(self, k, x):
        raise NotImplementedError(f"{type(self).__name__} does not implement _forward")

    def _backward(self, k, dout, cache):
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def output_shape(self, input_shape):
        return tuple(input_shape)

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: an element-wise function, no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise."""
        return ELEMENTWISE


class Step(Activation):
    """Binary threshold ``H(z) = 1`` for ``z > 0``, else ``0`` (so ``H(0) = 0``); gradient 0 everywhere."""

    def _forward(self, k, x):
        return k.step_forward(x)

    def _backward(self, k, dout, cache):
        return k.step_backward(dout, cache)


class Sigmoid(Activation):
    """Logistic sigmoid ``σ(z) = 1 / (1 + e^{−z})``; ``σ'(z) = σ(z)(1 − σ(z))``.

    Finite and warning-free for every finite input in float32 and float64.
    """

    activation_facts = ActivationFacts("saturating", low=0.01, high=0.99)

    def _forward(self, k, x):
        return k.sigmoid_forward(x)

    def _backward(self, k, dout, cache):
        return k.sigmoid_backward(dout, cache)


class Tanh(Activation):
    """``tanh(z)``; ``tanh'(z) = 1 − tanh²(z)``."""

    activation_facts = ActivationFacts("saturating", low=-0.99, high=0.99)

    def _forward(self, k, x):
        return k.tanh_forward(x)

    def _backward(self, k, dout, cache):
        return k.tanh_backward(dout, cache)


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

    def _forward(self, k, x):
        return k.softplus_forward(x, self.beta)

    def _backward(self, k, dout, cache):
        return k.softplus_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"
