"""The convolution's two forward-side products, fast: ``z = W ⋆ a + b`` and ``∂L/∂W``.

Each batch chunk's windows are copied into a column matrix
(:func:`nndl.nn._fast.windows.im2col`) sized to stay in the CPU cache
(``settings.column_chunk_bytes``), and the layer is one batched matrix
product ``W (F, C·kh·kw) @ cols (C·kh·kw, H_out·W_out)`` per image, written
straight into the output. With many input channels
(``settings.row_layout_min_channels``) a chunk is instead one large product
over channels-last rows (:mod:`nndl.nn._fast.conv_rows`). Outputs with many
filters (``settings.channels_last_min_filters``) are stored channels-last
behind their NCHW shape (:func:`nndl.nn._fast.windows.is_channels_last`), so
the next convolution reads its rows without a transposing copy; large
batches are split over threads (:mod:`nndl.nn._fast.parallel`).

The formulas are those of the reference kernels
(:mod:`nndl.nn.functional.conv`); only the path to the numbers differs.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.conv_rows import correlate_by_rows, weight_grad_by_rows
from nndl.nn._fast.parallel import split_batch
from nndl.nn._fast.settings import settings
from nndl.nn._fast.windows import WindowGeometry, column_chunks, is_channels_last


def is_pointwise(geom: WindowGeometry) -> bool:
    """A 1x1 kernel with stride 1 and no padding: the input already is the column matrix."""
    return geom.kernel == (1, 1) and geom.stride == (1, 1) and not geom.has_padding


def uses_rows(channels: int, groups: int) -> bool:
    """True when a convolution over ``channels`` inputs takes the channels-last rows path.

    From ``settings.row_layout_min_channels`` input channels (one group) on;
    below it the ``C``-long contiguous runs are too short for the copy to
    pay off (benchmarks/RESULTS.md).
    """
    return groups == 1 and channels >= settings.row_layout_min_channels


def channel_totals(dout: np.ndarray) -> np.ndarray:
    """``Σ_{n,h,w} δ[n, f, h, w]`` (the bias gradient).

    A channels-last ``δ`` is read as ``(N·H·W, F)`` rows and summed by the
    matrix-vector product ``1ᵀ δ`` (BLAS: several times faster than
    ``sum(axis=0)`` on such rows).
    """
    if is_channels_last(dout):
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])
        return np.ones(rows.shape[0], dtype=rows.dtype) @ rows
    return dout.sum(axis=(0, 2, 3))


def correlate(padded: np.ndarray, weight: np.ndarray, geom: WindowGeometry, groups: int = 1,
              bias: np.ndarray | None = None, pad: bool = False) -> np.ndarray:
    """Cross-correlate an already padded batch with ``weight``: the convolution's forward product.

    Parameters
    ----------
    padded : ndarray, shape (N, C, H_pad, W_pad), NCHW or channels-last
        (``(N, C, H, W)``, any layout, with ``pad=True``)
    weight : ndarray, shape (F, C/groups, kh, kw)
    geom : WindowGeometry
    groups : int
    bias : ndarray, shape (F,), or None
    pad : bool
        Zero-pad ``padded`` by ``geom.pads`` one cache-sized chunk at a
        time, into a scratch buffer (the backward passes use this: their
        padded δ is never held whole).

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out), ``padded``'s dtype
        Stored channels-last with one group and either the rows path
        (``settings.row_layout_min_channels`` input channels) or at least
        ``settings.channels_last_min_filters`` filters; NCHW otherwise.
    """
    n, c = padded.shape[:2]
    f = weight.shape[0]
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    pad = pad and geom.has_padding
    if uses_rows(c, groups):
        return correlate_by_rows(padded, weight, geom, bias, pad)
    if not pad:
        padded = np.ascontiguousarray(padded)
    w_mat = weight.reshape(groups, f // groups, per_group)
    if is_pointwise(geom):
        out = np.matmul(w_mat, padded.reshape(n, groups, per_group, pixels)).reshape(n, f, pixels)
        if bias is not None:
            out += bias.reshape(f, 1)
        return out.reshape(n, f, *geom.out_size)
    channels_last = groups == 1 and f >= settings.channels_last_min_filters
    # Channels-last: per image (P, F) = colsᵀ (P, C·kh·kw) @ Wᵀ, both operands read transposed by BLAS.
    out = np.empty((n, pixels, f) if channels_last else (n, f, pixels), dtype=padded.dtype)

    def part(batch: slice) -> None:
        for chunk, cols in column_chunks(padded, geom, batch, pad):
            b = cols.shape[0]
            if channels_last:
                np.matmul(cols.transpose(0, 2, 1), w_mat[0].T, out=out[chunk])
                if bias is not None:
                    out[chunk] += bias  # while the chunk is still in cache
            else:
                np.matmul(w_mat, cols.reshape(b, groups, per_group, pixels),
                          out=out[chunk].reshape(b, groups, f // groups, pixels))
                if bias is not None:
                    out[chunk] += bias.reshape(f, 1)

    split_batch(part, n, n * c * geom.taps * pixels)
    if channels_last:
        return out.reshape(n, *geom.out_size, f).transpose(0, 3, 1, 2)
    return out.reshape(n, f, *geom.out_size)


def correlate_weight_grad(padded: np.ndarray, dout: np.ndarray, geom: WindowGeometry, groups: int = 1,
                          pad: bool = False) -> np.ndarray:
    """``∂L/∂W[f, c, i, j] = Σ_{n,h,w} δ[n, f, h, w] · a[n, c, h s_h + i d_h, w s_w + j d_w]``.

    Per image this is ``δ (F, P) @ colsᵀ (P, C·kh·kw)``. The column
    matrices are rebuilt chunk by chunk rather than kept from the forward
    pass: measured as fast (the rebuild stays in cache) without holding
    ``C·kh·kw`` copies of the input between the passes. With ``pad=True``
    ``padded`` is the unpadded input, zero-padded chunk by chunk (see
    :func:`correlate`).

    Returns ``dW`` of shape ``(F, C/groups, kh, kw)``.
    """
    n, c = padded.shape[:2]
    f = dout.shape[1]
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    kernel_shape = (f, c // groups) + geom.kernel
    pad = pad and geom.has_padding
    if uses_rows(c, groups):
        return weight_grad_by_rows(padded, dout, geom, pad)
    if not pad:
        padded = np.ascontiguousarray(padded)
    if is_pointwise(geom):
        delta = dout.reshape(n, groups, f // groups, pixels)
        cols = padded.reshape(n, groups, per_group, pixels)
        return np.matmul(delta, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(kernel_shape)
    # A channels-last δ is read as (P, F) per image: cols (K, P) @ δ gives ∂L/∂Wᵀ (K, F).
    delta_rows = groups == 1 and is_channels_last(dout)
    delta = dout.transpose(0, 2, 3, 1).reshape(n, pixels, f) if delta_rows else \
        dout.reshape(n, groups, f // groups, pixels)

    def part(batch: slice) -> np.ndarray:
        grad = np.zeros((per_group, f) if delta_rows else (groups, f // groups, per_group), dtype=padded.dtype)
        for chunk, cols in column_chunks(padded, geom, batch, pad):
            b = cols.shape[0]
            if delta_rows:
                grad += np.matmul(cols, delta[chunk]).sum(axis=0)
            else:
                products = np.matmul(delta[chunk], cols.reshape(b, groups, per_group, pixels).transpose(0, 1, 3, 2))
                grad += products.sum(axis=0)
        return grad

    grad = sum(split_batch(part, n, n * c * geom.taps * pixels))
    return np.ascontiguousarray(grad.T).reshape(kernel_shape) if delta_rows else grad.reshape(kernel_shape)
