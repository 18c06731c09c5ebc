"""Convolution products over channels-last rows (:func:`windows.im2row`), for one group.

With many input channels these run closer to BLAS peak than the per-image
column products of :mod:`nndl.nn._fast.correlate`: the rows matrix ``(b·P, kh·kw·C)``
is the long, contiguous operand and each chunk is one large product, which
BLAS threads well (measured on the CIFAR benchmark's 32- and 64-channel 3x3
layers, benchmarks/RESULTS.md). ``correlate.py`` picks them from
``settings.row_layout_min_channels`` input channels on.

Everything here is channels-last: the product's ``(b·P, F)`` result *is*
the NHWC output, returned as an NCHW-shaped view (:func:`windows.is_channels_last`),
and a channels-last input or gradient is read in place. An NCHW operand is
copied channels-last one cache-sized chunk at a time.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.parallel import split_batch
from nndl.nn._fast.windows import WindowGeometry, row_chunks, scratch


def correlate_by_rows(padded: np.ndarray, weight: np.ndarray, geom: WindowGeometry,
                      bias: np.ndarray | None, pad: bool = False) -> np.ndarray:
    """Forward product (one group) as ``rows (b·P, kh·kw·C) @ W_r (kh·kw·C, F)`` per chunk.

    Parameters
    ----------
    padded : ndarray, shape (N, C, H_pad, W_pad), NCHW or channels-last
        (``(N, C, H, W)``, any layout, with ``pad=True``)
    weight : ndarray, shape (F, C, kh, kw)
    geom : WindowGeometry
    bias : ndarray, shape (F,), or None
    pad : bool
        Zero-pad each chunk by ``geom.pads`` on the fly (:func:`windows.row_chunks`).

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out), stored channels-last
        ``W_r`` is the weight with its taps ordered ``(i, j, c)`` like
        :func:`windows.im2row`; the bias is added to each chunk's rows while
        they are in cache.
    """
    n, c = padded.shape[:2]
    f = weight.shape[0]
    (kh, kw), (ho, wo) = geom.kernel, geom.out_size
    width, pixels = kh * kw * c, ho * wo
    w_rows = np.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(width, f))
    out = np.empty((n * pixels, f), dtype=padded.dtype)

    def part(batch: slice) -> None:
        for chunk, rows in row_chunks(padded, geom, batch, pad):
            result = out[chunk.start * pixels:chunk.stop * pixels]
            np.matmul(rows, w_rows, out=result)
            if bias is not None:
                result += bias

    split_batch(part, n, n * width * pixels)
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)


def weight_grad_by_rows(padded: np.ndarray, dout: np.ndarray, geom: WindowGeometry, pad: bool = False) -> np.ndarray:
    """``∂L/∂W`` (one group) as one product per chunk: ``δᵀ (F, b·P) @ rows (b·P, kh·kw·C)``.

    ``rows`` comes from :func:`windows.im2row` (taps ordered ``(i, j, c)``).
    A channels-last ``δ`` already is the ``(b·P, F)`` matrix, used through a
    transposed view (BLAS reads it as is); an NCHW ``δ`` is copied to
    ``(F, b, P)`` a chunk at a time (``C·kh·kw / F`` times smaller than the
    rows). Each thread sums its chunks into its own ``(F, kh·kw·C)``
    partial; the partials are added at the end. ``pad=True``: ``padded`` is
    the unpadded input, padded chunk by chunk as in :func:`correlate_by_rows`.
    """
    n, c = padded.shape[:2]
    f = dout.shape[1]
    (kh, kw), pixels = geom.kernel, geom.out_size[0] * geom.out_size[1]
    width = kh * kw * c
    delta_rows = dout.transpose(0, 2, 3, 1)
    delta_rows = delta_rows.reshape(n * pixels, f) if delta_rows.flags.c_contiguous else None

    def part(batch: slice) -> np.ndarray:
        grad = np.zeros((f, width), dtype=padded.dtype)
        delta_buffer = None
        for chunk, rows in row_chunks(padded, geom, batch, pad):
            b = chunk.stop - chunk.start
            if delta_rows is None and delta_buffer is None:  # sized for the first (largest) chunk
                delta_buffer = scratch("delta", f * b * pixels, padded.dtype).reshape(f, b, pixels)
            if delta_rows is not None:
                grad += delta_rows[chunk.start * pixels:chunk.stop * pixels].T @ rows
            else:
                delta_t = delta_buffer[:, :b]
                np.copyto(delta_t, dout[chunk].reshape(b, f, pixels).transpose(1, 0, 2))
                grad += delta_t.reshape(f, b * pixels) @ rows
        return grad

    grad = sum(split_batch(part, n, n * width * pixels))
    return np.ascontiguousarray(grad.reshape(f, kh, kw, c).transpose(0, 3, 1, 2))
