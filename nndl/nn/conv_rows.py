"""Convolution products over channels-last rows (:func:`windows.im2row`), for one group.

With many input channels these run closer to BLAS peak than the per-image
column products of :mod:`nndl.nn.conv`: the rows matrix ``(b·P, kh·kw·C)``
is the long, contiguous operand and each chunk is one large product, which
BLAS threads well (measured on the CIFAR benchmark's 32- and 64-channel 3x3
layers: weight gradient 1.3-1.4x, forward ~1.1x faster). ``conv.py`` picks
them from ``ROW_LAYOUT_MIN_CHANNELS`` input channels on.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.windows import WindowGeometry, batch_chunks, im2row, split_batch


def correlate_by_rows(padded: np.ndarray, weight: np.ndarray, geom: WindowGeometry,
                      bias: np.ndarray | None) -> np.ndarray:
    """Forward product (one group) as ``rows (b·P, kh·kw·C) @ W_r (kh·kw·C, F)`` per chunk.

    ``W_r`` is the weight with its taps ordered ``(i, j, c)`` like
    :func:`windows.im2row`; each chunk's ``(b, P, F)`` result is transposed
    into the NCHW output while still in cache.
    """
    n, c = padded.shape[:2]
    f = weight.shape[0]
    (kh, kw), (ho, wo) = geom.kernel, geom.out_size
    width, pixels = kh * kw * c, ho * wo
    w_rows = np.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(width, f))
    bias_column = None if bias is None else bias.reshape(f, 1)
    out = np.empty((n, f, pixels), dtype=padded.dtype)
    item_bytes = width * pixels * padded.itemsize

    def part(batch_rows: slice) -> None:
        rows_buffer = staging = product = None
        for chunk in batch_chunks(batch_rows.stop - batch_rows.start, item_bytes):
            chunk = slice(batch_rows.start + chunk.start, batch_rows.start + chunk.stop)
            b = chunk.stop - chunk.start
            if rows_buffer is None:
                rows_buffer = np.empty(b * pixels * width, dtype=padded.dtype)
                staging = np.empty(b * int(np.prod(padded.shape[1:])), dtype=padded.dtype)
                product = np.empty((b * pixels, f), dtype=padded.dtype)
            result = np.matmul(im2row(padded[chunk], geom, rows_buffer, staging), w_rows, out=product[:b * pixels])
            result = result.reshape(b, pixels, f).transpose(0, 2, 1)
            if bias is None:
                np.copyto(out[chunk], result)
            else:  # the bias is added during the transposing copy (one pass)
                np.add(result, bias_column, out=out[chunk])

    split_batch(part, n, n * width * pixels)
    return out.reshape(n, f, ho, wo)


def weight_grad_by_rows(padded: np.ndarray, dout: np.ndarray, geom: WindowGeometry) -> np.ndarray:
    """``∂L/∂W`` (one group) as one product per chunk: ``δ (F, b·P) @ rows (b·P, kh·kw·C)``.

    ``rows`` comes from :func:`windows.im2row` (taps ordered ``(i, j, c)``),
    ``δ`` of the chunk is copied to ``(F, b, P)`` (``C·kh·kw / F`` times
    smaller than the rows). Each thread sums its chunks into its own
    ``(F, kh·kw·C)`` partial; the partials are added at the end.
    """
    n, c = padded.shape[:2]
    f = dout.shape[1]
    (kh, kw), pixels = geom.kernel, geom.out_size[0] * geom.out_size[1]
    width = kh * kw * c
    delta = dout.reshape(n, f, pixels)
    item_bytes = width * pixels * padded.itemsize

    def part(batch_rows: slice) -> np.ndarray:
        grad = np.zeros((f, width), dtype=padded.dtype)
        rows_buffer = staging = delta_buffer = None
        for chunk in batch_chunks(batch_rows.stop - batch_rows.start, item_bytes):
            chunk = slice(batch_rows.start + chunk.start, batch_rows.start + chunk.stop)
            b = chunk.stop - chunk.start
            if rows_buffer is None:
                rows_buffer = np.empty(b * pixels * width, dtype=padded.dtype)
                staging = np.empty(b * int(np.prod(padded.shape[1:])), dtype=padded.dtype)
                delta_buffer = np.empty((f, b, pixels), dtype=padded.dtype)
            rows = im2row(padded[chunk], geom, rows_buffer, staging)
            delta_t = delta_buffer[:, :b]
            np.copyto(delta_t, delta[chunk].transpose(1, 0, 2))
            grad += delta_t.reshape(f, b * pixels) @ rows
        return grad

    grad = sum(split_batch(part, n, n * width * pixels))
    return np.ascontiguousarray(grad.reshape(f, kh, kw, c).transpose(0, 3, 1, 2))
