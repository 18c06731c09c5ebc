"""Fast linear and maxout kernels: large products split by weight columns over nndl's threads.

Same signatures and results as :mod:`nndl.nn.functional.linear`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.parallel import split_batch, splitting
from nndl.nn._fast.settings import settings
from nndl.nn.functional.linear import max_over_pieces, max_over_pieces_backward

__all__ = ["linear_backward", "linear_forward", "maxout_backward", "maxout_forward"]


def matmul_by_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` of shape ``(..., K)`` and a 2-D ``b``; large products split by columns of ``b`` over threads.

    Each thread multiplies all of ``a`` by its own slice of ``b`` (the
    weight side, usually the larger operand), so no thread packs more of it
    than its share (measured faster than splitting the rows of ``a``, with
    a single-threaded BLAS in each thread). Products below
    ``settings.linear_parallel_min_macs`` multiply-adds stay in one thread.
    """
    macs = a.size * b.shape[1]  # rows of a × K × columns of b
    if not splitting() or macs < settings.linear_parallel_min_macs:
        return a @ b  # outside a splitting scope the BLAS threads it (see nndl.nn._fast.parallel)
    a2 = a.reshape(-1, a.shape[-1])
    out = np.empty((a2.shape[0], b.shape[1]), dtype=np.result_type(a.dtype, b.dtype))

    def part(columns: slice) -> None:
        out[:, columns] = a2 @ b[:, columns]

    split_batch(part, b.shape[1], macs)
    return out.reshape(a.shape[:-1] + (b.shape[1],))


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None):
    """:func:`nndl.nn.functional.linear_forward` with the product split by :func:`matmul_by_columns`."""
    out = matmul_by_columns(x, weight.T)
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


def linear_backward(dout: np.ndarray, cache, need_input_grad: bool = True):
    """:func:`nndl.nn.functional.linear_backward` with the products split by :func:`matmul_by_columns`."""
    x, weight, has_bias = cache
    dx = matmul_by_columns(dout, weight) if need_input_grad else None
    dout_2d = dout.reshape(-1, dout.shape[-1])
    # ∂L/∂W (M, D) split by its columns: each thread writes its own block, nothing to add up.
    dweight = matmul_by_columns(dout_2d.T, x.reshape(-1, x.shape[-1]))
    dbias = dout_2d.sum(axis=0) if has_bias else None
    return dx, dweight, dbias


def maxout_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, pieces: int):
    """:func:`nndl.nn.functional.maxout_forward` with its affine maps computed by :func:`linear_forward` above."""
    z, linear_cache = linear_forward(x, weight, bias)
    out, max_cache = max_over_pieces(z, pieces)
    return out, (max_cache, linear_cache)


def maxout_backward(dout: np.ndarray, cache):
    """:func:`nndl.nn.functional.maxout_backward` with the affine map's gradients from :func:`linear_backward` above."""
    max_cache, linear_cache = cache
    return linear_backward(max_over_pieces_backward(dout, max_cache), linear_cache)
