"""The Softmax and LogSoftmax modules.

Both normalize along one axis (the classes), so unlike the element-wise
activations their Jacobian is not diagonal; their kernels (in
:mod:`nndl.nn.functional.softmax_kernels`) apply it to ``δ`` as a
Jacobian-vector product in ``O(K)`` per row, never forming the ``K × K``
matrix.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.activations.activation import Activation
from nndl.nn.core.facts import ELEMENTWISE, global_window


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

    def receptive_window(self, input_shape, output_shape):
        """Element-wise in space, unless normalized along a spatial axis (then the whole map)."""
        axis = self.axis % len(input_shape)
        return global_window(tuple(input_shape)) if len(input_shape) == 4 and axis >= 2 else ELEMENTWISE


class Softmax(_AlongAxis):
    """``softmax(z)_k = e^{z_k} / Σ_j e^{z_j}`` along ``axis`` (PyTorch's ``dim``).

    Backward: ``∂L/∂z = s ⊙ (δ − Σ_k δ_k s_k)``, the Jacobian-vector product.
    For training a classifier use ``SoftmaxCrossEntropy`` on the scores
    instead: it fuses the two, with the simpler gradient ``s − y``.
    """

    def _forward(self, k, x):
        return k.softmax_forward(x, self.axis)

    def _backward(self, k, dout, cache):
        return k.softmax_backward(dout, cache)


class LogSoftmax(_AlongAxis):
    """``log softmax(z)_k = z_k − log Σ_j e^{z_j}`` along ``axis`` (PyTorch's ``dim``).

    Backward: ``∂L/∂z = δ − softmax(z) Σ_k δ_k``. Followed by ``NLLLoss`` it
    gives the cross-entropy.
    """

    def _forward(self, k, x):
        return k.log_softmax_forward(x, self.axis)

    def _backward(self, k, dout, cache):
        return k.log_softmax_backward(dout, cache)
