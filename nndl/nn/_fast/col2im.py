"""The convolution's input gradient, fast: each window's ``Wᵀ δ`` added back onto the pixels it read.

.. math::
    ∂L/∂a[n, c, h s_h + i d_h, w s_w + j d_w] \\mathrel{+}= \\sum_f W[f, c, i, j] \\, δ[n, f, h, w]

This is also the transposed convolution's forward product. Two equivalent
algorithms, chosen by speed (benchmarks/RESULTS.md): *col2im* of ``Wᵀ δ``
(any stride), and, for stride 1, the *full correlation* of the padded ``δ``
with the flipped kernel, which reuses the fast forward product
(:mod:`nndl.nn._fast.correlate`). Both work one cache-sized chunk of the
batch at a time (``settings.column_chunk_bytes``, as the forward): only a
chunk of ``δ`` is ever padded, and ``∂L/∂a`` is written chunk by chunk into
the returned array, so the working memory does not grow with the batch.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.correlate import correlate, is_pointwise
from nndl.nn._fast.parallel import split_batch
from nndl.nn._fast.windows import WindowGeometry, batch_chunks, col2im_add, dense, scratch


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
    """``col2im(Wᵀ δ)`` chunk by chunk, each chunk's border cropped as it is written to the result.

    Each cache-sized chunk of the batch is built in per-thread scratch
    buffers (the products ``Wᵀ δ``, the chunk's padded gradient) and copied
    into the returned array, so the working memory is a few chunks, not a
    padded copy of the batch.
    """
    n, f = dout.shape[:2]
    c = weight.shape[1] * groups
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    w_t = weight.reshape(groups, f // groups, per_group).transpose(0, 2, 1)
    if is_pointwise(geom):  # a 1x1 kernel without padding has no border
        return np.matmul(w_t, dout.reshape(n, groups, f // groups, pixels)).reshape((n, c) + geom.padded_size)
    top, _, left, _ = geom.pads
    (h, w), (hp, wp) = geom.in_size, geom.padded_size
    rows, cols = (slice(top, top + h), slice(left, left + w)) if interior_only else (slice(0, hp), slice(0, wp))
    dx = np.empty((n, c, rows.stop - rows.start, cols.stop - cols.start), dtype=dout.dtype)
    add_chunk = _stride_one_adder(dout, w_t, geom, c) if geom.stride == (1, 1) else \
        _strided_adder(dout.reshape(n, groups, f // groups, pixels), w_t, geom, c)

    def part(batch: slice) -> None:
        for chunk, dpadded in add_chunk(batch):
            dx[chunk] = dpadded[:, :, rows, cols]

    split_batch(part, n, n * c * geom.taps * pixels)
    return dx


def _chunk_buffers(batch: slice, sizes: dict, dtype):
    """Yield ``(chunk, buffers)`` over cache-sized chunks of ``batch``: per-thread scratch ``buffers[name]``.

    ``sizes[name]`` is a buffer's size in items of ``dtype`` per image; a
    chunk's buffers together stay within ``settings.column_chunk_bytes``
    (or hold one image). They are sized for the first (largest) chunk and
    shared by all.
    """
    buffers = None
    item_bytes = sum(sizes.values()) * np.dtype(dtype).itemsize
    for chunk in batch_chunks(batch.stop - batch.start, item_bytes):
        chunk = slice(batch.start + chunk.start, batch.start + chunk.stop)
        b = chunk.stop - chunk.start
        if buffers is None:
            buffers = {name: scratch(name, b * size, dtype) for name, size in sizes.items()}
        yield chunk, {name: buffer[:b * sizes[name]] for name, buffer in buffers.items()}


def _strided_adder(delta, w_t, geom: WindowGeometry, c: int):
    """Any stride: per chunk, ``cols = Wᵀ δ`` and one strided add per tap onto the zeroed padded gradient.

    ``delta`` is ``(N, groups, F/groups, P)``. Returns ``add_chunk(batch)``
    yielding ``(chunk, padded gradient of the chunk)``, a scratch view valid
    until the next one.
    """
    groups, per_group, pixels = w_t.shape[0], w_t.shape[1], delta.shape[-1]
    padded_item = c * geom.padded_size[0] * geom.padded_size[1]

    def add_chunk(batch: slice):
        sizes = {"columns": groups * per_group * pixels, "padded-grad": padded_item}
        for chunk, buffers in _chunk_buffers(batch, sizes, delta.dtype):
            b = chunk.stop - chunk.start
            cols = np.matmul(w_t, delta[chunk], out=buffers["columns"].reshape(b, groups, per_group, pixels))
            dpadded = buffers["padded-grad"].reshape((b, c) + geom.padded_size)
            dpadded.fill(0)
            col2im_add(cols.reshape(b, c * geom.taps, pixels), dpadded, geom)
            yield chunk, dpadded

    return add_chunk


def _stride_one_adder(dout, w_t, geom: WindowGeometry, c: int):
    """Stride-1 col2im with one contiguous add per kernel tap; ``add_chunk`` as :func:`_strided_adder`.

    δ is laid out on a grid as wide as the padded image (``W_pad`` columns, the
    extra ones zero), so ``Wᵀ δ`` holds, for tap ``(i, j)``, a run of
    ``H_out·W_pad`` values that lands on the flattened padded gradient at
    offset ``i d_h W_pad + j d_w``: one long contiguous add per tap instead of
    ``H_out`` short rows (the zero columns add zeros where they wrap), at the
    price of a product ``W_pad/W_out`` times wider. Measured faster than the
    row-by-row adds on LeNet-5's second layer (6→16, 5x5) and a 16→48 3x3
    layer (benchmarks/RESULTS.md). The wide δ and the padded gradient are
    built one chunk at a time in scratch buffers.
    """
    f = dout.shape[1]
    groups, per_group = w_t.shape[:2]
    (ho, wo), (hp, wp) = geom.out_size, geom.padded_size
    (kh, kw), (dh, dw) = geom.kernel, geom.dilation
    run = ho * wp
    flat_item = hp * wp + dw * (kw - 1)   # the tail takes the last wrap

    def add_chunk(batch: slice):
        sizes = {"columns": groups * per_group * run, "wide-delta": f * run, "padded-grad": c * flat_item}
        for chunk, buffers in _chunk_buffers(batch, sizes, dout.dtype):
            b = chunk.stop - chunk.start
            wide = buffers["wide-delta"].reshape(b, f, ho, wp)
            wide[..., wo:] = 0
            wide[..., :wo] = dout[chunk]
            cols = np.matmul(w_t, wide.reshape(b, groups, f // groups, run),
                             out=buffers["columns"].reshape(b, groups, per_group, run))
            taps = cols.reshape(b, c, kh, kw, run)
            flat = buffers["padded-grad"].reshape(b, c, flat_item)
            flat.fill(0)
            for i in range(kh):
                for j in range(kw):
                    offset = i * dh * wp + j * dw
                    flat[:, :, offset:offset + run] += taps[:, :, i, j]
            yield chunk, flat[:, :, :hp * wp].reshape(b, c, hp, wp)

    return add_chunk


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
    # Negative padding crops: slice first (a view); what remains positive is padded chunk by chunk.
    delta = dout[:, :, max(0, -before_h):h_out - max(0, -after_h), max(0, -before_w):w_out - max(0, -after_w)]
    pads = (max(0, before_h), max(0, after_h), max(0, before_w), max(0, after_w))
    flipped = weight.reshape(groups, f_group, c_group, kh, kw).transpose(0, 2, 1, 3, 4)
    flipped = np.ascontiguousarray(flipped.reshape(groups * c_group, f_group, kh, kw)[:, :, ::-1, ::-1])
    full = WindowGeometry(geom.kernel, (1, 1), geom.dilation, pads, delta.shape[2:], (r1 - r0, c1 - c0))
    return correlate(delta if any(pads) else dense(delta), flipped, full, groups, pad=True)
