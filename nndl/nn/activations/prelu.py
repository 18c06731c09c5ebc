"""Parametric ReLU: a leaky ReLU whose negative slope is learned (``PReLU``; kernels in nn.functional.activations)."""

from __future__ import annotations

import numbers

import numpy as np

from nndl.nn.activations.activation import real_argument
from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core.kernels import kernels
from nndl.nn.core.init import constant
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


class PReLU(Module):
    """Leaky ReLU with a learned slope: ``PReLU(z) = z`` for ``z > 0``, else ``a z``.

    Parameters
    ----------
    num_parameters : int
        1 (the default): one slope shared by every entry. ``C``: one slope
        per channel, for inputs (N, C, ...) (channel axis 1, as PyTorch).
    init : float
        Initial slope (PyTorch's 0.25).
    dtype : float32 or float64

    Shapes
    ------
    input (N, C, ...) (any shape when ``num_parameters == 1``) -> output of
    the same shape. State dict: ``weight`` (num_parameters,), as PyTorch.

    Notes
    -----
    Derivatives: ``∂f/∂z = 1`` for ``z > 0`` and ``a`` for ``z ≤ 0``;
    ``∂f/∂a = min(z, 0)``, summed over every entry that shares the slope.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, numbers.Integral):
            raise TypeError(f"PReLU: num_parameters must be an int, got {type(num_parameters).__name__}")
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.init = real_argument("PReLU", "init", init)
        self.weight = Parameter(constant((self.num_parameters,), self.init, dtype=self.dtype))
        self._cache = None
        self._shape = None

    def _check_shape(self, shape) -> None:
        if self.num_parameters > 1 and (len(shape) < 2 or shape[1] != self.num_parameters):
            raise ValueError(
                f"{self.describe()}: expected input of shape (N, {self.num_parameters}, ...) with one slope "
                f"per channel, got {tuple(shape)}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=0, match_dtype=True)
        self._check_shape(x.shape)
        k = kernels()
        # Kernels need an axis: NumPy returns 0-d results as scalars.
        out, cache = k.prelu_forward(x.reshape(1) if x.ndim == 0 else x, self.weight.data)
        self._cache = (k, cache)
        self._shape = x.shape
        return out.reshape(x.shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache = self._saved()
        if not isinstance(dout, np.ndarray) or dout.shape != self._shape:
            shape = dout.shape if isinstance(dout, np.ndarray) else type(dout).__name__
            raise ValueError(f"{self.describe()}: dout has shape {shape}, expected {self._shape}")
        dx, dweight = k.prelu_backward(dout.reshape(1) if dout.ndim == 0 else dout, cache)
        self.weight.accumulate_grad(dweight)
        return dx.reshape(self._shape)

    def output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: one slope per channel, linear in the activation size (not counted)."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise."""
        return ELEMENTWISE
