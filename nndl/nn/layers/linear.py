"""The fully connected (affine) layer ``Linear``; its kernels are ``linear_forward``/``linear_backward``.

The formula and its gradients are in :mod:`nndl.nn.functional.linear`; the
layer owns the parameters and computes with the active kernel set.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE, rows
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


class Linear(Module):
    """Fully connected layer ``y = x Wᵀ + b``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes ``D`` and ``M``.
    bias : bool
        Learn the additive bias ``b``.
    init : str or callable
        Weight initialization, a name from ``nndl.nn.core.init.WEIGHT_INITS``.
        The default ``'he_uniform'`` draws ``W ~ U(±√(6/D))`` (He et al.:
        variance ``2/D`` keeps activation variance constant through ReLU
        layers) and sets ``b = 0``. Use ``'xavier_uniform'`` for tanh or
        sigmoid networks and ``'pytorch'`` to reproduce ``torch.nn.Linear``'s
        own initialization.
    rng : Generator, int or None
        Source of the initial weights.
    dtype : float32 or float64

    Shapes
    ------
    input (N, ..., D) -> output (N, ..., M). State dict: ``weight`` (M, D), ``bias`` (M,).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init="he_uniform",
                 rng=None, dtype=np.float32):
        super().__init__(dtype)
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"Linear: in_features and out_features must be >= 1, got {in_features}, {out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        weight, bias_value = init_weight_and_bias(
            init, (self.out_features, self.in_features), (self.out_features,) if bias else None, rng, self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=1, match_dtype=True)
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self.describe()}: expected input of shape (N, {self.in_features}), got {x.shape}")
        k = kernels()
        out, cache = k.linear_forward(x, self.weight.data, None if self.bias is None else self.bias.data)
        self._cache = (k, cache)
        return out

    can_skip_input_grad = True

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        k, cache = self._saved()
        dx, dweight, dbias = k.linear_backward(dout, cache, need_input_grad)
        self.weight.accumulate_grad(dweight)
        if self.bias is not None:
            self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        if input_shape[-1] != self.in_features:
            raise ValueError(f"{self.describe()}: expected input of shape (N, {self.in_features}), got {tuple(input_shape)}")
        return tuple(input_shape[:-1]) + (self.out_features,)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """``n_in · n_out`` per row (bias additions are not counted)."""
        return rows(output_shape) * self.in_features * self.out_features

    def receptive_window(self, input_shape, output_shape):
        """Element-wise on vectors; a Linear over a spatial axis has no clean window (None)."""
        return ELEMENTWISE if len(input_shape) <= 2 else None
