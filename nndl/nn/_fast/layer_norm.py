"""Fast layer normalization: the pair of :func:`nndl.nn.functional.layer_norm_forward` on a 2-D view.

The input is viewed as ``(M, D)`` (samples by normalized entries); the
per-sample sums of squares and of products are dot products of contiguous
rows (:func:`.reductions.row_dot`) instead of materialized products, and
``x̂`` is built in place.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.nn._fast.reductions import column_dot, row_dot

__all__ = ["layer_norm_backward", "layer_norm_forward"]


def layer_norm_forward(x: np.ndarray, normalized_ndim: int, weight: np.ndarray | None, bias: np.ndarray | None,
                       eps: float = 1e-5):
    """As :func:`nndl.nn.functional.layer_norm_forward`.

    The cache is ``(x̂ as (M, D), inv_std (M, 1), weight, has_bias, normalized_shape, x.shape)``.
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


def layer_norm_backward(dout: np.ndarray, cache):
    """As :func:`nndl.nn.functional.layer_norm_backward`: ``(dx, dweight, dbias)``."""
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
