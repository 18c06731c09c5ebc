"""Reference kernels: the affine map ``z = x Wᵀ + b`` and maxout, the largest of ``k`` affine maps."""

from __future__ import annotations

import numpy as np

__all__ = ["linear_backward", "linear_forward", "maxout_backward", "maxout_forward"]


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None):
    """Affine map ``z = x Wᵀ + b`` (the notes' ``z = W a + b``, one row per sample).

    Parameters
    ----------
    x : ndarray, shape (N, ..., D)
        Inputs; leading axes are batch axes.
    weight : ndarray, shape (M, D)
        ``W`` in PyTorch's layout (out_features, in_features).
    bias : ndarray, shape (M,), or None

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : tuple ``(x, weight, has_bias)``
    """
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    return out, (x, weight, bias is not None)


def linear_backward(dout: np.ndarray, cache, need_input_grad: bool = True):
    """Gradients of the affine map, with ``δ = ∂L/∂z`` (``dout``).

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
    dx = dout @ weight if need_input_grad else None  # ∂L/∂x = δ W
    # Every leading axis is a batch axis: flatten them into one row per sample.
    delta = dout.reshape(-1, dout.shape[-1])
    dweight = delta.T @ x.reshape(-1, x.shape[-1])  # ∂L/∂W = δᵀ x = Σ_n δ_n x_nᵀ
    dbias = delta.sum(axis=0) if has_bias else None  # ∂L/∂b = Σ_n δ_n
    return dx, dweight, dbias


def max_over_pieces(z: np.ndarray, pieces: int):
    """The second half of maxout: ``y_j = max_k z_{k,j}`` over the columns of ``z`` grouped piece-major.

    Column ``k·M + j`` of ``z`` is piece ``k`` of unit ``j``.

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : tuple ``(winner, grouped_shape)``: the winning piece of every
        output (ties go to the lowest ``k``, ``np.argmax``'s rule) and the
        shape (N, ..., pieces, M)
    """
    grouped = z.reshape(z.shape[:-1] + (pieces, z.shape[-1] // pieces))
    winner = np.argmax(grouped, axis=-2)[..., np.newaxis, :]
    out = np.take_along_axis(grouped, winner, axis=-2)[..., 0, :]
    return out, (winner, grouped.shape)


def max_over_pieces_backward(dout: np.ndarray, cache) -> np.ndarray:
    """The max passes ``δ`` to its arg-max piece only: ``∂L/∂z_{k,j} = δ_j · 1[k = k*_j]``; shape (N, ..., pieces·M)."""
    winner, grouped_shape = cache
    dz = np.zeros(grouped_shape, dtype=dout.dtype)
    np.put_along_axis(dz, winner, dout[..., np.newaxis, :], axis=-2)
    return dz.reshape(grouped_shape[:-2] + (-1,))


def maxout_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, pieces: int):
    """Maxout ``y_j = max_k (w_{k,j}ᵀ x + b_{k,j})`` for ``k = 0 … pieces−1``.

    The ``pieces · M`` affine maps are one product ``z = x Wᵀ + b``
    (:func:`linear_forward`), whose columns are grouped piece-major, then
    :func:`max_over_pieces`.

    Parameters
    ----------
    x : ndarray, shape (N, ..., D)
    weight : ndarray, shape (pieces·M, D)
        Row ``k·M + j`` is ``w_{k,j}``: ``weight.reshape(pieces, M, D)[k]``
        is piece ``k``'s weight for all ``M`` units.
    bias : ndarray, shape (pieces·M,), or None
    pieces : int
        ``k``, the number of affine maps per unit.

    Returns
    -------
    out : ndarray, shape (N, ..., M)
    cache : tuple ``(max cache, linear cache)``
    """
    z, linear_cache = linear_forward(x, weight, bias)
    out, max_cache = max_over_pieces(z, pieces)
    return out, (max_cache, linear_cache)


def maxout_backward(dout: np.ndarray, cache):
    """Gradients of maxout: the max's rule, then the affine map's.

    ``δ_z = δ_j`` at the winning piece ``k*_j`` of unit ``j`` (the lowest on a
    tie) and 0 at the others; then ``∂L/∂x = δ_z W``, ``∂L/∂W = δ_zᵀ x``,
    ``∂L/∂b = Σ_n δ_z``.

    Returns
    -------
    dx : ndarray, shape (N, ..., D)
    dweight : ndarray, shape (pieces·M, D)
    dbias : ndarray, shape (pieces·M,), or None
    """
    max_cache, linear_cache = cache
    return linear_backward(max_over_pieces_backward(dout, max_cache), linear_cache)
