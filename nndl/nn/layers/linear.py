"""The fully connected (affine) layer: kernels and the ``Linear`` module."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.module import Module
from nndl.nn._fast.parallel import split_batch, splitting
from nndl.nn.core.parameter import Parameter


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None):
    """Affine map ``z = x Wᵀ + b``.

    Parameters
    ----------
    x : ndarray, shape (N, ..., D)
        Inputs; leading axes are batch axes.
    weight : ndarray, shape (M, D)
        ``W``, PyTorch's layout (out_features, in_features).
    bias : ndarray, shape (M,), or None

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : tuple
        ``(x, weight, has_bias)`` for :func:`linear_backward`.
    """
    out = _matmul_by_columns(x, weight.T)
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


def _matmul_by_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` of shape ``(..., K)`` and a 2-D ``b``; large products split by columns of ``b`` over threads.

    Each thread multiplies all of ``a`` by its own slice of ``b`` (the
    weight side, usually the larger operand), so no thread packs more of it
    than its share: measured on the MLP's 128x784 @ 784x512, 0.79 ms vs
    0.89 ms splitting the rows of ``a`` (single-threaded BLAS in each).
    """
    if not splitting():
        return a @ b  # the BLAS threads it (see nndl.nn._fast.parallel)
    a2 = a.reshape(-1, a.shape[-1])
    out = np.empty((a2.shape[0], b.shape[1]), dtype=np.result_type(a.dtype, b.dtype))

    def part(columns: slice) -> None:
        out[:, columns] = a2 @ b[:, columns]

    # Counted in multiply-adds / 8: below ~8M of them (LeNet-5's layers) a thread hand-off costs more than it saves.
    split_batch(part, b.shape[1], out.size * b.shape[0] // 8)
    return out.reshape(a.shape[:-1] + (b.shape[1],))


def linear_backward(dout: np.ndarray, cache, need_input_grad: bool = True):
    """Gradients of the affine map.

    With δ = ∂L/∂z (``dout``) for every row ``z = W x + b``:

    .. math::
        ∂L/∂x = δ W, \\qquad ∂L/∂W = δᵀ x, \\qquad ∂L/∂b = Σ_n δ_n

    Parameters
    ----------
    dout : ndarray, shape (N, ..., M)
    cache : tuple from :func:`linear_forward`
    need_input_grad : bool
        ``False`` skips ``∂L/∂x`` (returned as None), e.g. for a first layer.

    Returns
    -------
    dx : ndarray, shape (N, ..., D), or None
    dweight : ndarray, shape (M, D)
    dbias : ndarray, shape (M,), or None
    """
    x, weight, has_bias = cache
    dx = _matmul_by_columns(dout, weight) if need_input_grad else None
    dout_2d = dout.reshape(-1, dout.shape[-1])
    # ∂L/∂W (M, D) split by its columns: each thread writes its own block, nothing to add up.
    dweight = _matmul_by_columns(dout_2d.T, x.reshape(-1, x.shape[-1]))
    dbias = dout_2d.sum(axis=0) if has_bias else None
    return dx, dweight, dbias


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
        out, self._cache = linear_forward(x, self.weight.data, None if self.bias is None else self.bias.data)
        return out

    can_skip_input_grad = True

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        dx, dweight, dbias = linear_backward(dout, self._saved(), need_input_grad)
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
