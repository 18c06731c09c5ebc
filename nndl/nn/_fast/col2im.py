"""The convolution's input gradient, fast: each window's ``Wᵀ δ`` added back onto the pixels it read.

.. math::
    ∂L/∂a[n, c, h s_h + i d_h, w s_w + j d_w] \\mathrel{+}= \\sum_f W[f, c, i, j] \\, δ[n, f, h, w]

This is also the transposed convolution's forward product. Two equivalent
algorithms, chosen by speed (benchmarks/RESULTS.md): *col2im* of ``Wᵀ δ``
(any stride), and, for stride 1, the *full correlation* of the padded ``δ``
with the flipped kernel, which reuses the fast forward product
(:mod:`nndl.nn._fast.correlate`).
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.correlate import correlate, is_pointwise, uses_rows
from nndl.nn._fast.parallel import split_batch
from nndl.nn._fast.windows import WindowGeometry, batch_chunks, col2im_add, dense, pad_images, scratch


def correlate_input_grad(dout: np.ndarray, weight: np.ndarray, geom: WindowGeometry, groups: int = 1,
                         interior_only: bool = False) -> np.ndarray:
    """``∂L/∂a`` for the padded input: each window's ``Wᵀ δ[n, :, h, w]`` added onto the pixels it read.

    This is also the forward product of the transposed convolution.
    Two equivalent algorithms, chosen by measured speed:

    - *col2im*: ``cols = Wᵀ δ`` per image, then one strided add per kernel
      tap (any stride);
    - *full correlation* (stride 1, at most twice as many filters as input
      channels): ``∂L/∂a = δ_pad ⋆ W̃`` with ``δ`` zero-padded by
      ``d(k − 1)`` and ``W̃[c, f, i, j] = W[f, c, kh − 1 − i, kw − 1 − j]``
      (the flipped kernel), which reuses the fast forward product.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    weight : ndarray, shape (F, C/groups, kh, kw)
    geom : WindowGeometry of the convolution
    groups : int
    interior_only : bool
        Return only the gradient of the unpadded input ``(N, C, H, W)``
        (what zero padding needs) instead of the whole padded image
        ``(N, C, H_pad, W_pad)``.
    """
    f, c = dout.shape[1], weight.shape[1] * groups
    if geom.stride == (1, 1) and f <= 2 * c and not is_pointwise(geom):
        return _input_grad_by_correlation(dout, weight, geom, groups, interior_only)
    return _input_grad_by_col2im(dout, weight, geom, groups, interior_only)


def _input_grad_by_col2im(dout, weight, geom: WindowGeometry, groups: int, interior_only: bool):
    """``col2im(Wᵀ δ)`` chunk by chunk, then the border cropped if only the interior is wanted."""
    n, f = dout.shape[:2]
    c = weight.shape[1] * groups
    padded_shape = (n, c) + geom.padded_size
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    w_t = weight.reshape(groups, f // groups, per_group).transpose(0, 2, 1)
    delta = dout.reshape(n, groups, f // groups, pixels)
    if is_pointwise(geom):
        return np.matmul(w_t, delta).reshape(padded_shape)  # a 1x1 kernel without padding has no border
    if geom.stride == (1, 1):
        dpadded = _col2im_stride_one(dout, w_t, geom, groups, c)
    else:
        dpadded = np.zeros(padded_shape, dtype=dout.dtype)

        def part(rows: slice) -> None:
            for chunk, cols in _transposed_products(w_t, delta, rows):
                col2im_add(cols.reshape(-1, c * geom.taps, pixels), dpadded[chunk], geom)

        split_batch(part, n, n * c * geom.taps * pixels)
    if interior_only and geom.has_padding:
        top, _, left, _ = geom.pads
        h, w = geom.in_size
        return np.ascontiguousarray(dpadded[:, :, top:top + h, left:left + w])
    return dpadded


def _transposed_products(w_t: np.ndarray, delta: np.ndarray, rows: slice):
    """Yield ``(chunk, Wᵀ δ[chunk])`` over cache-sized chunks of the batch ``rows``, in one scratch buffer.

    ``w_t`` is ``(groups, C/groups·kh·kw, F/groups)``, ``delta`` ``(N, groups, F/groups, P)``.
    """
    groups, per_group, columns = w_t.shape[0], w_t.shape[1], delta.shape[-1]
    buffer = None
    for chunk in batch_chunks(rows.stop - rows.start, groups * per_group * columns * delta.itemsize):
        chunk = slice(rows.start + chunk.start, rows.start + chunk.stop)
        b = chunk.stop - chunk.start
        if buffer is None:  # sized for the first chunk, the largest
            buffer = scratch("columns", b * groups * per_group * columns, delta.dtype).reshape(b, groups, per_group,
                                                                                              columns)
        yield chunk, np.matmul(w_t, delta[chunk], out=buffer[:b])


def _col2im_stride_one(dout, w_t, geom: WindowGeometry, groups: int, c: int) -> np.ndarray:
    """Stride-1 col2im with one contiguous add per kernel tap.

    δ is laid out on a grid as wide as the padded image (``W_pad`` columns, the
    extra ones zero), so ``Wᵀ δ`` holds, for tap ``(i, j)``, a run of
    ``H_out·W_pad`` values that lands on the flattened padded gradient at
    offset ``i d_h W_pad + j d_w``: one long contiguous add per tap instead of
    ``H_out`` short rows (the zero columns add zeros where they wrap), at the
    price of a product ``W_pad/W_out`` times wider. Measured faster than the
    row-by-row adds on LeNet-5's second layer (6→16, 5x5) and a 16→48 3x3
    layer (benchmarks/RESULTS.md).

    Returns the padded gradient ``(N, C, H_pad, W_pad)``.
    """
    n, f = dout.shape[:2]
    (ho, wo), (hp, wp) = geom.out_size, geom.padded_size
    (kh, kw), (dh, dw) = geom.kernel, geom.dilation
    per_group = c // groups * kh * kw
    wide = np.zeros((n, f, ho, wp), dtype=dout.dtype)
    wide[..., :wo] = dout
    wide = wide.reshape(n, groups, f // groups, ho * wp)
    run = ho * wp
    flat = np.zeros((n, c, hp * wp + dw * (kw - 1)), dtype=dout.dtype)   # the tail takes the last wrap

    def part(rows: slice) -> None:
        for chunk, cols in _transposed_products(w_t, wide, rows):
            taps = cols.reshape(-1, c, kh, kw, run)
            for i in range(kh):
                for j in range(kw):
                    offset = i * dh * wp + j * dw
                    flat[chunk, :, offset:offset + run] += taps[:, :, i, j]

    split_batch(part, n, n * c * kh * kw * run)
    return flat[:, :, :hp * wp].reshape(n, c, hp, wp)


def _input_grad_by_correlation(dout, weight, geom: WindowGeometry, groups: int, interior_only: bool):
    """Stride-1 input gradient as a correlation of the padded δ with the flipped, transposed kernel.

    Padded pixel ``y`` receives ``Σ_i W[i] δ[y − i d]``; reading ``δ`` padded
    by ``d(k − 1)`` before, that is a correlation with the flipped kernel.
    For the interior only, the rows ``[top, top + H)`` are wanted, so ``δ``
    is padded by ``d(k − 1) − top`` before (a negative amount crops).
    """
    n, f, h_out, w_out = dout.shape
    f_group, c_group = weight.shape[:2]
    f_group //= groups
    kh, kw = geom.kernel
    dh, dw = geom.dilation
    top, _, left, _ = geom.pads
    if interior_only:
        (r0, r1), (c0, c1) = (top, top + geom.in_size[0]), (left, left + geom.in_size[1])
    else:
        (r0, r1), (c0, c1) = (0, geom.padded_size[0]), (0, geom.padded_size[1])
    before_h, before_w = dh * (kh - 1) - r0, dw * (kw - 1) - c0
    after_h = (r1 - r0) + dh * (kh - 1) - h_out - before_h
    after_w = (c1 - c0) + dw * (kw - 1) - w_out - before_w
    # Negative padding crops: slice first, then pad what remains positive.
    delta = dout[:, :, max(0, -before_h):h_out - max(0, -after_h), max(0, -before_w):w_out - max(0, -after_w)]
    pads = (max(0, before_h), max(0, after_h), max(0, before_w), max(0, after_w))
    if any(pads):  # the padded δ dies with this call: scratch memory
        n_delta, c_delta, h_delta, w_delta = delta.shape
        size = n_delta * c_delta * (h_delta + pads[0] + pads[1]) * (w_delta + pads[2] + pads[3])
        delta = pad_images(delta, pads, channels_last=uses_rows(f_group * groups, groups),
                           buffer=scratch("padded-delta", size, dout.dtype))
    delta = dense(delta)
    flipped = weight.reshape(groups, f_group, c_group, kh, kw).transpose(0, 2, 1, 3, 4)
    flipped = np.ascontiguousarray(flipped.reshape(groups * c_group, f_group, kh, kw)[:, :, ::-1, ::-1])
    full = WindowGeometry(geom.kernel, (1, 1), geom.dilation, (0, 0, 0, 0), delta.shape[2:], (r1 - r0, c1 - c0))
    return correlate(delta, flipped, full, groups)
