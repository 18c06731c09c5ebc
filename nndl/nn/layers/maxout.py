"""Maxout: the largest of ``k`` affine maps, unit by unit (kernels and the ``Maxout`` layer)."""

from __future__ import annotations

import numbers

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.layers.linear import linear_backward, linear_forward
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


def maxout_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, pieces: int):
    """Maxout ``y_j = max_k (w_{k,j}ᵀ x + b_{k,j})`` for ``k = 0 … pieces−1``.

    The ``pieces · M`` affine maps are one matrix product
    ``z = x Wᵀ + b``, whose columns are grouped piece-major: column
    ``k·M + j`` is piece ``k`` of unit ``j``.

    Parameters
    ----------
    x : ndarray, shape (N, ..., D)
    weight : ndarray, shape (pieces·M, D)
        Row ``k·M + j`` is ``w_{k,j}``; ``weight.reshape(pieces, M, D)[k]``
        is piece ``k``'s weight for all ``M`` units.
    bias : ndarray, shape (pieces·M,), or None
    pieces : int
        ``k``, the number of affine maps per unit.

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : tuple for :func:`maxout_backward`: the winning piece of every
        output (ties go to the lowest ``k``, ``np.argmax``'s rule), the
        grouped shape and the linear cache.
    """
    z, linear_cache = linear_forward(x, weight, bias)
    grouped = z.reshape(z.shape[:-1] + (pieces, z.shape[-1] // pieces))
    winner = np.argmax(grouped, axis=-2)[..., np.newaxis, :]
    out = np.take_along_axis(grouped, winner, axis=-2)[..., 0, :]
    return out, (winner, grouped.shape, linear_cache)


def maxout_backward(dout: np.ndarray, cache):
    """Gradients of maxout.

    The max passes the gradient to its arg-max piece only:
    ``∂L/∂z_{k,j} = δ_j · 1[k = k*_j]`` (``k*_j`` the winning piece, the
    lowest on a tie), and then the affine map's rule applies:
    ``∂L/∂x = δ_z W``, ``∂L/∂W = δ_zᵀ x``, ``∂L/∂b = Σ_n δ_z``.

    Returns
    -------
    dx : ndarray, shape (N, ..., D)
    dweight : ndarray, shape (pieces·M, D)
    dbias : ndarray, shape (pieces·M,), or None
    """
    winner, grouped_shape, linear_cache = cache
    dz = np.zeros(grouped_shape, dtype=dout.dtype)
    np.put_along_axis(dz, winner, dout[..., np.newaxis, :], axis=-2)
    return linear_backward(dz.reshape(grouped_shape[:-2] + (-1,)), linear_cache)


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
        out, self._cache = maxout_forward(
            x, self.weight.data, None if self.bias is None else self.bias.data, self.pieces)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._saved()
        expected = cache[1][:-2] + (self.out_features,)
        if dout.shape != expected:
            raise ValueError(f"{self.describe()}: dout has shape {dout.shape}, expected {expected}")
        dx, dweight, dbias = maxout_backward(dout, cache)
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
