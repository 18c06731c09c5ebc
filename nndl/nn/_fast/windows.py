"""Sliding windows for the fast kernels: memory layouts, padding, im2col/im2row, col2im, scratch buffers.

Shared by the fast convolution, transposed convolution and pooling kernels.
The window geometry itself (sizes, padding arguments) lives in
:mod:`nndl.nn.functional._geometry`, shared with the reference kernels, and
is re-exported here. A window of output position ``(h, w)`` starts at
``(h s, w s)`` in the padded image; its tap ``(i, j)`` reads row ``h s + i d``
and column ``w s + j d``.

*im2col* copies every window into a column so that a convolution becomes one
matrix product; *col2im* is its adjoint: it adds every column back onto the
pixels it was read from (overlapping windows add up). Also here: the memory
layouts an NCHW-shaped image may have (NCHW or channels-last), the
cache-sized batch chunks (``settings.column_chunk_bytes``) and the reusable
scratch buffers of the convolution kernels.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nndl.nn._fast.settings import settings
from nndl.nn.functional._geometry import (PADDING_MODES, WindowGeometry, as_pair, make_geometry,  # noqa: F401
                                          output_size, pad_sources)


# ---------------------------------------------------------------------- memory layout
# Images always have the NCHW *shape* (as PyTorch); their memory may be NCHW
# (C-contiguous) or channels-last, i.e. ``x.transpose(0, 2, 3, 1)`` is
# C-contiguous and ``x`` is that NHWC block seen through a transposed view
# (PyTorch's ``torch.channels_last``). Convolutions with many channels
# produce channels-last outputs: their matrix product yields ``(N·H·W, F)``
# rows directly, and the next convolution wants exactly those rows, so no
# transposing copy is made between the layers. Element-wise layers keep the
# layout of their input (NumPy's ``order='K'``).
def is_channels_last(x: np.ndarray) -> bool:
    """True when ``x`` (4-D) is stored channels-last: ``x.transpose(0, 2, 3, 1)`` is C-contiguous.

    An array with ``C = 1`` (or ``H = W = 1``) is both; C-contiguous arrays
    are reported as NCHW then.
    """
    return x.ndim == 4 and not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous


def channels_last_block(x: np.ndarray) -> np.ndarray:
    """The ``(N, H, W, C)`` C-contiguous block holding ``x`` (a view if ``x`` is channels-last, else a copy)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def empty_images(shape, dtype, channels_last: bool, buffer: np.ndarray | None = None) -> np.ndarray:
    """Uninitialized NCHW-shaped array, stored channels-last if asked (in ``buffer``'s memory if given)."""
    size = int(np.prod(shape))
    if buffer is not None and (buffer.dtype != dtype or buffer.size < size):
        raise ValueError(f"empty_images: buffer of {buffer.size} {buffer.dtype} cannot hold {shape} {np.dtype(dtype)}")
    if channels_last and len(shape) == 4:
        n, c, h, w = shape
        block = np.empty((n, h, w, c), dtype=dtype) if buffer is None else buffer[:size].reshape(n, h, w, c)
        return block.transpose(0, 3, 1, 2)
    return np.empty(shape, dtype=dtype) if buffer is None else buffer[:size].reshape(shape)


def dense(x: np.ndarray) -> np.ndarray:
    """``x`` if it is C-contiguous or channels-last, else a copy in its own stride order."""
    if x.flags.c_contiguous or is_channels_last(x):
        return x
    return x.copy(order="K")


# ---------------------------------------------------------------------- padding
def pad_images(x: np.ndarray, pads, mode: str = "zeros", value: float = 0.0,
               channels_last: bool | None = None, buffer: np.ndarray | None = None) -> np.ndarray:
    """Pad the last two axes of ``x`` by ``pads = (top, bottom, left, right)``.

    ``mode`` is a PyTorch ``padding_mode``: ``'zeros'`` (fill with ``value``),
    ``'reflect'``, ``'replicate'`` or ``'circular'``. Returns ``x`` itself
    when there is nothing to pad and no change of layout is asked for.
    ``channels_last`` chooses the memory layout of a 4-D result (default:
    ``x``'s own, see :func:`is_channels_last`). ``buffer`` (1-D, at least the
    padded size) receives the result instead of a new array.
    """
    top, bottom, left, right = pads
    own_layout = is_channels_last(x)
    channels_last = own_layout if channels_last is None or x.ndim != 4 else channels_last
    if not any(pads):
        if channels_last == own_layout:
            return x
        return channels_last_block(x).transpose(0, 3, 1, 2) if channels_last else np.ascontiguousarray(x)
    h, w = x.shape[-2:]
    rows, cols = (None, None) if mode == "zeros" else pad_sources(h, w, pads, mode)  # checks the sizes first
    # Faster than np.pad: one allocation in the asked layout, one block copy, then the border.
    padded = empty_images(x.shape[:-2] + (h + top + bottom, w + left + right), x.dtype, channels_last, buffer)
    padded[..., top:top + h, left:left + w] = x
    if mode == "zeros":
        _fill_border(padded, pads, value)
        return padded
    # Padded pixel (r, c) copies x[rows[r], cols[c]]: border rows first (interior columns), then border
    # columns from the padded image itself; one strided copy per border row or column.
    for r in list(range(top)) + list(range(top + h, top + h + bottom)):
        padded[..., r, left:left + w] = x[..., rows[r], :]
    for c in list(range(left)) + list(range(left + w, left + w + right)):
        padded[..., :, c] = padded[..., :, left + cols[c]]
    return padded


def unpad_gradient(dpadded: np.ndarray, pads, in_size, mode: str = "zeros") -> np.ndarray:
    """Adjoint of :func:`pad_images`: ∂L/∂x from ∂L/∂(padded x).

    Zero padding just drops the border. The other modes copy pixel
    ``source(r)`` to padded row ``r``, so the border's gradient is added back
    onto its source pixels: ``dx = Rᵀ · dpadded · C`` with the one-hot
    source matrices ``R`` (rows) and ``C`` (columns).
    """
    top, bottom, left, right = pads
    h, w = in_size
    if not any(pads):
        return dpadded
    if mode == "zeros":
        return dpadded[..., top:top + h, left:left + w].copy(order="K")
    rows, cols = pad_sources(h, w, pads, mode)
    row_matrix = np.zeros((rows.size, h), dtype=dpadded.dtype)
    row_matrix[np.arange(rows.size), rows] = 1
    col_matrix = np.zeros((cols.size, w), dtype=dpadded.dtype)
    col_matrix[np.arange(cols.size), cols] = 1
    return row_matrix.T @ dpadded @ col_matrix


def _fill_border(padded: np.ndarray, pads, value: float) -> None:
    """Set the ``pads`` border of the last two axes to ``value`` (the interior is left as is)."""
    top, bottom, left, right = pads
    hp, wp = padded.shape[-2:]
    for rows, cols in ((slice(0, top), slice(0, wp)), (slice(hp - bottom, hp), slice(0, wp)),
                       (slice(top, hp - bottom), slice(0, left)), (slice(top, hp - bottom), slice(wp - right, wp))):
        if rows.start != rows.stop and cols.start != cols.stop:
            padded[..., rows, cols] = value


# ---------------------------------------------------------------------- im2col / col2im
def window_view(padded: np.ndarray, geom: WindowGeometry) -> np.ndarray:
    """Read-only view ``(N, C, kh, kw, H_out, W_out)`` of every window tap (no copy).

    ``view[n, c, i, j, h, w] = padded[n, c, h·s_h + i·d_h, w·s_w + j·d_w]``.
    """
    n, c = padded.shape[:2]
    s_n, s_c, s_h, s_w = padded.strides
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    return as_strided(padded, shape=(n, c, kh, kw, ho, wo),
                      strides=(s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w), writeable=False)


def im2col(padded: np.ndarray, geom: WindowGeometry, out: np.ndarray | None = None) -> np.ndarray:
    """Columns ``(N, C·kh·kw, H_out·W_out)``: row ``(c, i, j)`` holds tap ``(i, j)`` of channel ``c``.

    The layout is the one the matrix product ``W (F, C·kh·kw) @ cols`` wants,
    giving the output directly in NCHW order. ``out`` (a C-contiguous buffer
    of at least that size) avoids an allocation.
    """
    n, c = padded.shape[:2]
    (kh, kw), (ho, wo) = geom.kernel, geom.out_size
    size = n * c * kh * kw * ho * wo
    cols = np.empty(size, dtype=padded.dtype) if out is None else out.reshape(-1)[:size]
    np.copyto(cols.reshape(n, c, kh, kw, ho, wo), window_view(padded, geom))
    return cols.reshape(n, c * kh * kw, ho * wo)


def im2row(padded: np.ndarray, geom: WindowGeometry, out: np.ndarray | None = None,
           staging: np.ndarray | None = None) -> np.ndarray:
    """Rows ``(N·H_out·W_out, kh·kw·C)``: row ``(n, h, w)`` holds window ``(h, w)``, taps ordered ``(i, j, c)``.

    The transpose of :func:`im2col`'s layout, with the channel innermost: an
    NCHW batch is first copied channels-last into ``staging`` (``(N, H_pad,
    W_pad, C)``; a channels-last batch is used as it is), so each window tap
    is one contiguous run of ``C`` values. For a pointwise kernel (1x1,
    stride 1, no padding) on channels-last data the rows are the data itself:
    a read-only view is returned, nothing is copied.
    Products with these rows as the long, contiguous operand run closer to
    BLAS peak than the per-image ``im2col`` ones when ``C`` is large
    (measured on the weight gradient of a 32→32 3x3 layer).
    ``out`` and ``staging`` are optional C-contiguous buffers, at least that big.
    """
    n, c, hp, wp = padded.shape
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    last = padded.transpose(0, 2, 3, 1)
    if not last.flags.c_contiguous:
        size = n * hp * wp * c
        staged = np.empty(size, dtype=padded.dtype) if staging is None else staging.reshape(-1)[:size]
        last = staged.reshape(n, hp, wp, c)
        np.copyto(last, padded.transpose(0, 2, 3, 1))
    if (kh, kw) == (1, 1) and (sh, sw) == (1, 1) and (ho, wo) == (hp, wp):
        return last.reshape(n * ho * wo, c)  # a pointwise kernel's rows are the channels-last block itself
    s_n, s_h, s_w, s_c = last.strides
    windows = as_strided(last, shape=(n, ho, wo, kh, kw, c),
                         strides=(s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, s_c), writeable=False)
    size = n * ho * wo * kh * kw * c
    rows = np.empty(size, dtype=padded.dtype) if out is None else out.reshape(-1)[:size]
    np.copyto(rows.reshape(n, ho, wo, kh, kw, c), windows)
    return rows.reshape(n * ho * wo, kh * kw * c)


def col2im_add(cols: np.ndarray, padded_grad: np.ndarray, geom: WindowGeometry) -> None:
    """Adjoint of :func:`im2col`: add every column entry onto the pixel it was read from.

    ``cols`` has shape ``(N, C·kh·kw, H_out·W_out)``; ``padded_grad``
    ``(N, C, H_pad, W_pad)`` is updated in place. One strided add per kernel
    tap (``np.add.at`` would be an order of magnitude slower).
    """
    n, c = padded_grad.shape[:2]
    (kh, kw), (ho, wo) = geom.kernel, geom.out_size
    taps = cols.reshape(n, c, kh, kw, ho, wo)
    for i in range(kh):
        for j in range(kw):
            rows, columns = geom.tap_slices(i, j)
            padded_grad[:, :, rows, columns] += taps[:, :, i, j]


# ---------------------------------------------------------------------- scratch buffers
# Temporaries that die inside one call (column/row buffers, staging copies,
# a chunk's padded δ or padded gradient) are taken from per-thread buffers
# kept between calls instead of fresh allocations; all are one cache-sized
# chunk of the batch (or one image), never the whole batch. Fresh
# memory above glibc's mmap threshold comes back from the kernel on every
# call, and on a virtual machine each first touch of a page is expensive:
# in the CIFAR benchmark a conv input gradient took about twice as long when
# it faulted its pages as when it faulted none (benchmarks/RESULTS.md).
_SCRATCH = threading.local()


def scratch(name: str, size: int, dtype) -> np.ndarray:
    """A 1-D buffer of ``size`` items of ``dtype`` that stays allocated for later calls (one per thread and name).

    The caller owns it until its next request under the same ``name``; never
    return it (or a view of it) to the user. Contents are undefined.
    """
    buffers = _SCRATCH.__dict__.setdefault("buffers", {})
    key = (name, np.dtype(dtype))
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = buffers[key] = np.empty(size, dtype=dtype)
    return buffer[:size]


def batch_chunks(batch: int, bytes_per_item: int, budget: int | None = None):
    """Yield ``slice``s splitting ``range(batch)`` so each chunk's buffer stays within ``budget`` bytes.

    ``budget`` defaults to ``settings.column_chunk_bytes`` (read at call
    time): small enough that a chunk's column matrix stays in the CPU cache
    between its copy and the product that reads it, large enough that the
    Python loop over chunks costs nothing. A single item larger than the
    budget gets a chunk of its own.
    """
    budget = settings.column_chunk_bytes if budget is None else budget
    step = max(1, budget // max(1, bytes_per_item))
    for start in range(0, batch, step):
        yield slice(start, min(batch, start + step))


def column_chunks(images: np.ndarray, geom: WindowGeometry, batch: slice, pad: bool = False):
    """Yield ``(chunk, im2col(padded[chunk]))`` over cache-sized chunks of the batch slice ``batch``.

    ``chunk`` indexes the whole batch. The column matrices share one
    per-thread scratch buffer, sized for the first (largest) chunk: each is
    valid until the next one is yielded. ``images`` is the padded batch, or
    with ``pad=True`` the unpadded one (any layout): each chunk is then
    zero-padded by ``geom.pads`` into a scratch buffer first, so no padded
    copy of the whole batch is ever made.
    """
    per_item = images.shape[1] * geom.taps * geom.out_size[0] * geom.out_size[1]
    pad = pad and geom.has_padding
    buffer = padded_buffer = None
    for chunk in batch_chunks(batch.stop - batch.start, per_item * images.itemsize):
        chunk = slice(batch.start + chunk.start, batch.start + chunk.stop)
        b = chunk.stop - chunk.start
        if buffer is None:
            buffer = scratch("columns", b * per_item, images.dtype)
            if pad:
                padded_buffer = scratch("padded-chunk", b * images.shape[1] * int(np.prod(geom.padded_size)),
                                        images.dtype)
        padded = pad_images(images[chunk], geom.pads, channels_last=False, buffer=padded_buffer) if pad \
            else images[chunk]
        yield chunk, im2col(padded, geom, buffer)


def row_chunks(images: np.ndarray, geom: WindowGeometry, batch: slice, pad: bool = False):
    """Yield ``(chunk, im2row(padded[chunk]))`` over cache-sized chunks of ``batch``; as :func:`column_chunks`.

    With ``pad=True`` each chunk is zero-padded straight into the
    channels-last staging buffer :func:`im2row` would copy an NCHW chunk to
    anyway.
    """
    per_item = images.shape[1] * geom.taps * geom.out_size[0] * geom.out_size[1]
    pad = pad and geom.has_padding
    padded_item = images.shape[1] * int(np.prod(geom.padded_size if pad else images.shape[2:]))
    rows_buffer = staging = None
    for chunk in batch_chunks(batch.stop - batch.start, per_item * images.itemsize):
        chunk = slice(batch.start + chunk.start, batch.start + chunk.stop)
        if rows_buffer is None:
            b = chunk.stop - chunk.start
            rows_buffer = scratch("rows", b * per_item, images.dtype)
            staging = scratch("staging", b * padded_item, images.dtype)
        if pad:
            padded = pad_images(images[chunk], geom.pads, channels_last=True, buffer=staging)
            yield chunk, im2row(padded, geom, rows_buffer)
        else:
            yield chunk, im2row(images[chunk], geom, rows_buffer, staging)
