"""Fast pooling kernels: the pairs of :mod:`nndl.nn.functional.pooling` without the gathered window array.

The reference kernels stack every window's taps into one
``(N, C, H_out, W_out, kh·kw)`` array. These loop over the ``kh·kw`` taps
and work on one strided slice of the whole batch per tap: no Python loop
over pixels and no array the size of the windows. They keep the input's
memory layout (NCHW or channels-last: :func:`.windows.is_channels_last`);
max pooling splits its batch over nndl's threads (:mod:`.parallel`) and, in
inference (``track_argmax=False``), keeps only the running maximum.
Adaptive pooling is a reshape and a mean for equal bins, else one matrix product.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.parallel import split_batch, split_first_axis
from nndl.nn._fast.windows import WindowGeometry, empty_images, is_channels_last, pad_images, unpad_gradient
from nndl.nn.functional._pool_geometry import (adaptive_bins, adaptive_sizes, pool_arguments, pool_geometry,
                                               window_counts, window_indices)

__all__ = ["adaptive_avg_pool2d_backward", "adaptive_avg_pool2d_forward", "avg_pool2d_backward", "avg_pool2d_forward",
           "max_pool2d_backward", "max_pool2d_forward", "max_pool2d_indices"]


# ---------------------------------------------------------------------- max pooling
def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                       track_argmax: bool = True):
    """As :func:`nndl.nn.functional.max_pool2d_forward`; ``track_argmax=False`` skips the winning taps.

    The cache is a list ``[argmax, padded, out, geometry, x.shape]``;
    without ``track_argmax`` ``argmax`` is None and is recomputed from
    ``padded`` (and kept) if a backward pass or the indices are asked for.
    """
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, dilation, "max_pool2d_forward")
    geom = pool_geometry(x.shape, kernel, stride, padding, dilation, "max_pool2d_forward", ceil_mode)
    return _max_pool(x, geom, track_argmax)


def _max_pool(x: np.ndarray, geom: WindowGeometry, track_argmax: bool = True):
    """Running maximum over the taps; with ``track_argmax`` also the winning tap of each window.

    The winning tap is the *last* tap that strictly raised the running
    maximum, i.e. ``max_t (t · [tap t raised it])``: a cheap elementwise
    maximum on small integers instead of masked writes. A later tap equal
    to the running maximum does not raise it, so ties keep the first tap.
    """
    padded = pad_images(x, geom.pads, value=-np.inf)
    kh, kw = geom.kernel
    rows, cols = geom.tap_slices(0, 0)
    out = padded[:, :, rows, cols].copy(order="K")  # same memory layout as the input
    argmax = None
    if track_argmax:
        argmax = np.zeros_like(out, dtype=np.uint8 if kh * kw <= 256 else np.int32)
        raised = np.empty_like(out, dtype=bool)
        scratch = np.empty_like(argmax)

    def part(batch: slice) -> None:  # parts of the batch may run on nndl's threads
        for tap in range(1, kh * kw):
            rows, cols = geom.tap_slices(*divmod(tap, kw))
            candidate = padded[batch, :, rows, cols]
            if track_argmax:
                np.greater(candidate, out[batch], out=raised[batch])
                np.multiply(raised[batch], argmax.dtype.type(tap), out=scratch[batch])
                np.maximum(argmax[batch], scratch[batch], out=argmax[batch])
            np.maximum(out[batch], candidate, out=out[batch])

    split_first_axis(part, x)
    return out, [argmax, None if track_argmax else padded, out if not track_argmax else None, geom, x.shape]


def max_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """As :func:`nndl.nn.functional.max_pool2d_backward`: a masked write (or add) per tap, batch split over threads."""
    argmax, geom, x_shape = _argmax(cache), cache[3], cache[4]
    kh, kw = geom.kernel
    padded_shape = x_shape[:2] + geom.padded_size
    overlap = geom.windows_overlap()
    dpadded = empty_images(padded_shape, dout.dtype, channels_last=is_channels_last(argmax))  # the input's layout
    dpadded[...] = 0
    chosen = np.empty_like(argmax, dtype=bool)

    def part(batch: slice) -> None:
        for tap in range(kh * kw):
            rows, cols = geom.tap_slices(*divmod(tap, kw))
            np.equal(argmax[batch], tap, out=chosen[batch])
            target = dpadded[batch, :, rows, cols]
            if overlap:
                target += dout[batch] * chosen[batch]
            else:
                # Disjoint windows: every pixel is written by at most one tap of one window.
                np.multiply(dout[batch], chosen[batch], out=target)

    split_batch(part, x_shape[0], argmax.size * kh * kw)
    return unpad_gradient(dpadded, geom.pads, geom.in_size)


def _argmax(cache) -> np.ndarray:
    """The winning tap per window; recomputed (and kept) when forward ran without tracking it."""
    if cache[0] is None:
        _, padded, out, geom, x_shape = cache
        h, w = geom.in_size
        top, left = geom.pads[0], geom.pads[2]
        cache[0] = _max_pool(padded[:, :, top:top + h, left:left + w], geom)[1][0]
        cache[1] = cache[2] = None
    return cache[0]


def max_pool2d_indices(cache) -> np.ndarray:
    """As :func:`nndl.nn.functional.max_pool2d_indices` (flat per-channel int64 index of each maximum)."""
    return window_indices(_argmax(cache), cache[3], cache[4][3])


# ---------------------------------------------------------------------- average pooling
def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, count_include_pad: bool = True,
                       ceil_mode: bool = False):
    """As :func:`nndl.nn.functional.avg_pool2d_forward`: a sum over the taps, times ``1/D`` (a scalar when uniform)."""
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, 1, "avg_pool2d_forward")
    geom = pool_geometry(x.shape, kernel, stride, padding, dilation, "avg_pool2d_forward", ceil_mode)
    padded = pad_images(x, geom.pads)
    kh, kw = geom.kernel
    rows, cols = geom.tap_slices(0, 0)
    out = padded[:, :, rows, cols].copy(order="K")
    for tap in range(1, kh * kw):
        rows, cols = geom.tap_slices(*divmod(tap, kw))
        out += padded[:, :, rows, cols]
    symmetric = geom.pads == (padding[0], padding[0], padding[1], padding[1])  # no ceil_mode overhang
    if not geom.has_padding or (count_include_pad and symmetric):
        scale = np.asarray(1.0 / (kh * kw), dtype=x.dtype)
    else:
        scale = (1.0 / window_counts(geom, padding if count_include_pad else (0, 0))).astype(x.dtype)
    out *= scale
    return out, (scale, geom, x.shape)


def avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """As :func:`nndl.nn.functional.avg_pool2d_backward`."""
    scale, geom, x_shape = cache
    kh, kw = geom.kernel
    share = dout * scale
    dpadded = np.zeros(x_shape[:2] + geom.padded_size, dtype=dout.dtype)
    for tap in range(kh * kw):
        rows, cols = geom.tap_slices(*divmod(tap, kw))
        dpadded[:, :, rows, cols] += share
    return unpad_gradient(dpadded, geom.pads, geom.in_size)


# ---------------------------------------------------------------------- adaptive
def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """``A (out, size)`` with ``A[i, start_i:end_i] = 1 / (end_i − start_i)``: row ``i`` averages bin ``i``."""
    matrix = np.zeros((out, size), dtype=np.float64)
    for i, (start, end) in enumerate(adaptive_bins(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix.astype(dtype)


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size):
    """As :func:`nndl.nn.functional.adaptive_avg_pool2d_forward`, as one product per image.

    Averaging a rectangle is separable, so the layer is
    ``vec(out) = (A_H ⊗ A_W) vec(a)`` and its gradient the transpose,
    ``vec(dx) = (A_H ⊗ A_W)ᵀ vec(δ)``; equal, non-overlapping bins are a
    reshape and a mean instead.
    """
    ho, wo = adaptive_sizes(x.shape, output_size, "adaptive_avg_pool2d_forward")
    n, c, h, w = x.shape
    if h % ho == 0 and w % wo == 0:
        out = x.reshape(n, c, ho, h // ho, wo, w // wo).mean(axis=(3, 5))
        return out, (None, x.shape, (ho, wo))
    pool = np.kron(_averaging_matrix(h, ho, x.dtype), _averaging_matrix(w, wo, x.dtype))
    out = (x.reshape(n * c, h * w) @ pool.T).reshape(n, c, ho, wo)
    return out, (pool, x.shape, (ho, wo))


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """As :func:`nndl.nn.functional.adaptive_avg_pool2d_backward`."""
    pool, (n, c, h, w), (ho, wo) = cache
    if pool is None:
        share = dout * np.asarray(1.0 / ((h // ho) * (w // wo)), dtype=dout.dtype)
        dx = np.broadcast_to(share.reshape(n, c, ho, 1, wo, 1), (n, c, ho, h // ho, wo, w // wo))
        return dx.reshape(n, c, h, w)
    return (dout.reshape(n * c, ho * wo) @ pool).reshape(n, c, h, w)
