"""Maxout: the largest of ``k`` affine maps, unit by unit; its kernels are ``maxout_forward``/``maxout_backward``.

The formula and its gradients are in :mod:`nndl.nn.functional.linear`.
"""

from __future__ import annotations

import numbers

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE, rows
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


class Maxout(Module):
    """Maxout unit layer: ``y_j = max_k (w_{k,j}ᵀ x + b_{k,j})`` over ``pieces`` affine maps.

    A learned, piecewise-linear convex activation (with ``pieces=2``, one
    piece fixed at 0 gives ReLU, and ``w₂ = a·w₁`` gives leaky ReLU).

    Parameters
    ----------
    in_features, out_features : int
        ``D`` and ``M``.
    pieces : int >= 1
        ``k``, affine maps per output unit.
    bias : bool
    init : str or callable
        As :class:`~nndl.nn.Linear` (``fan_in = D``); the default
        ``'he_uniform'`` with zero biases.
    rng : Generator, int or None
    dtype : float32 or float64

    Shapes
    ------
    input (N, ..., D) -> output (N, ..., M).
    State dict: ``weight`` (pieces·M, D) and ``bias`` (pieces·M,), grouped
    piece-major: rows ``k·M … k·M + M − 1`` are piece ``k``. This is exactly
    ``torch.nn.Linear(D, pieces·M)`` followed by ``.view(..., pieces, M)`` and
    a max over the pieces axis, so the weights load into that.

    Notes
    -----
    The gradient reaches only the winning piece of each unit; when pieces
    tie exactly, the lowest-numbered one wins (``np.argmax``), a valid
    subgradient.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True, init="he_uniform",
                 rng=None, dtype=np.float32):
        super().__init__(dtype)
        for name, value in (("in_features", in_features), ("out_features", out_features), ("pieces", pieces)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"Maxout: {name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"Maxout: {name} must be >= 1, got {value}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.pieces = int(pieces)
        rows = self.pieces * self.out_features
        weight, bias_value = init_weight_and_bias(
            init, (rows, self.in_features), (rows,) if bias else None, rng, self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=1, match_dtype=True)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"{self.describe()}: expected input of shape (N, {self.in_features}), got {x.shape}")
        k = kernels()
        out, cache = k.maxout_forward(x, self.weight.data, None if self.bias is None else self.bias.data, self.pieces)
        self._cache = (k, cache, out.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, out_shape = self._saved()
        if dout.shape != out_shape:
            raise ValueError(f"{self.describe()}: dout has shape {dout.shape}, expected {out_shape}")
        dx, dweight, dbias = k.maxout_backward(dout, cache)
        self.weight.accumulate_grad(dweight)
        if self.bias is not None:
            self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        if input_shape[-1] != self.in_features:
            raise ValueError(
                f"{self.describe()}: expected input of shape (N, {self.in_features}), got {tuple(input_shape)}")
        return tuple(input_shape[:-1]) + (self.out_features,)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """``n_in · n_out · pieces`` per row."""
        return rows(output_shape) * self.in_features * self.out_features * self.pieces

    def receptive_window(self, input_shape, output_shape):
        """Element-wise: each output mixes features at one position."""
        return ELEMENTWISE
