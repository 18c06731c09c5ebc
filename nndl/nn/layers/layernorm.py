"""Layer normalization: kernels and the ``LayerNorm`` module.

Where batch normalization takes statistics per channel over the batch, layer
normalization takes them per sample over its trailing ``normalized_shape``
axes, so it behaves the same in training and evaluation and for any batch size.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.layers.batchnorm import column_dot, row_dot
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


def layernorm_forward(x: np.ndarray, normalized_ndim: int, weight: np.ndarray | None, bias: np.ndarray | None,
                      eps: float = 1e-5):
    """Normalize every sample over its last ``normalized_ndim`` axes, then ``y = γ ⊙ x̂ + β``.

    .. math::
        μ = \\tfrac{1}{D} Σ_k x_k, \\quad σ² = \\tfrac{1}{D} Σ_k (x_k − μ)², \\quad
        x̂_k = (x_k − μ)/\\sqrt{σ² + ε}, \\quad y_k = γ_k x̂_k + β_k

    with ``k`` running over the ``D`` entries of the normalized axes (biased
    variance, as PyTorch).

    Parameters
    ----------
    x : ndarray, shape (*, *normalized_shape)
    normalized_ndim : int
        How many trailing axes to normalize over.
    weight, bias : ndarray, shape normalized_shape, or None
        ``γ`` and ``β`` (element-wise, not per channel); ``None`` for 1 and 0.
    eps : float

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : tuple
        ``(x̂ as (M, D), inv_std (M, 1), weight, has_bias, normalized_shape, x.shape)``.
    """
    rows = math.prod(x.shape[:x.ndim - normalized_ndim])
    x2 = x.reshape(rows, -1)
    width = x2.shape[1]
    mean = x2.sum(axis=1, keepdims=True) / width
    x_hat = x2 - mean
    var = row_dot(x_hat, x_hat)[:, None] / width
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std
    # A new array even without γ: the caller may modify ``out``, the cache must not change.
    out = x_hat.copy() if weight is None else x_hat * weight.reshape(-1)
    if bias is not None:
        out += bias.reshape(-1)
    param_shape = x.shape[x.ndim - normalized_ndim:]
    return out.reshape(x.shape), (x_hat, inv_std, weight, bias is not None, param_shape, x.shape)


def layernorm_backward(dout: np.ndarray, cache):
    """Gradients of layer normalization.

    Per sample, with ``δ = ∂L/∂y``, ``g = ∂L/∂x̂ = γ ⊙ δ`` and ``σ = √(σ² + ε)``
    (the same derivation as batch normalization's, over the ``D`` normalized
    entries instead of over the batch):

    .. math::
        ∂L/∂x_k = \\frac{1}{σ}\\Big(g_k − \\overline{g} − x̂_k\\,\\overline{g x̂}\\Big), \\qquad
        ∂L/∂γ = Σ_{samples} δ ⊙ x̂, \\qquad ∂L/∂β = Σ_{samples} δ

    where the bars are means over the ``D`` entries of one sample.

    Returns
    -------
    dx : ndarray, shape of the input
    dweight, dbias : ndarray, shape normalized_shape, or None
    """
    x_hat, inv_std, weight, has_bias, param_shape, input_shape = cache
    d2 = dout.reshape(x_hat.shape)
    width = x_hat.shape[1]
    dweight = column_dot(d2, x_hat).reshape(param_shape) if weight is not None else None
    dbias = d2.sum(axis=0).reshape(param_shape) if has_bias else None
    g = d2 * weight.reshape(-1) if weight is not None else d2
    g_mean = g.sum(axis=1, keepdims=True) / width
    gx_mean = row_dot(g, x_hat)[:, None] / width
    dx = g - g_mean
    dx -= x_hat * gx_mean
    dx *= inv_std
    return dx.reshape(input_shape), dweight, dbias


class LayerNorm(Module):
    """Layer normalization over the trailing axes, as ``torch.nn.LayerNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape normalized over, e.g. ``D`` for ``(N, D)`` features
        or ``(C, H, W)`` for whole images.
    eps : float
        ``ε`` added to the variance.
    elementwise_affine : bool
        Learn ``γ`` (``weight``, ones) and ``β`` (``bias``, zeros) of shape
        ``normalized_shape``.
    bias : bool
        With ``elementwise_affine``, also learn ``β``.
    dtype : float32 or float64

    Shapes
    ------
    input (*, *normalized_shape) -> output of the same shape.
    State dict: ``weight``, ``bias`` of shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=np.float32):
        super().__init__(dtype)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        shape = tuple(normalized_shape)
        if not shape or any(isinstance(s, bool) or int(s) != s or s < 1 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive integers, got {normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=self.dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=self.dtype)) if bias else None
        else:
            self.weight = None
            self.bias = None
        self._cache = None

    def _check_shape(self, shape) -> None:
        n = len(self.normalized_shape)
        if len(shape) < n or tuple(shape[len(shape) - n:]) != self.normalized_shape:
            trailing = ", ".join(map(str, self.normalized_shape))
            raise ValueError(f"{self.describe()}: expected input of shape (*, {trailing}), got {tuple(shape)}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, match_dtype=self.elementwise_affine)
        self._check_shape(x.shape)
        out, self._cache = layernorm_forward(
            x, len(self.normalized_shape), None if self.weight is None else self.weight.data,
            None if self.bias is None else self.bias.data, self.eps)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._saved()
        if dout.shape != cache[-1]:
            raise ValueError(
                f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {cache[-1]}")
        dx, dweight, dbias = layernorm_backward(dout, cache)
        if self.weight is not None:
            self.weight.accumulate_grad(dweight)
        if self.bias is not None:
            self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
