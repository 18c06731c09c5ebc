"""Reference kernels: pooling, unpooling and upsampling (no parameters).

Pooling downsamples each channel on its own by summarizing every window (the
notes' "aggregating values at places in the feature map"). Each kernel here
gathers the ``kh·kw`` taps of every window into one array
``(N, C, H_out, W_out, kh·kw)`` and reduces its last axis; backward sends each
window's δ back through the taps. Window geometry (sizes, padding,
``ceil_mode``) is in :mod:`._pool_geometry`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.functional._pool_geometry import (adaptive_bins, adaptive_sizes, check_unpool_indices, pool_arguments,
                                               pool_geometry, tap_slices, unpool_arguments, unpool_size,
                                               upsample_arguments, window_counts, window_indices)

__all__ = ["adaptive_avg_pool2d_backward", "adaptive_avg_pool2d_forward", "avg_pool2d_backward", "avg_pool2d_forward",
           "global_avg_pool2d_backward", "global_avg_pool2d_forward", "max_pool2d_backward", "max_pool2d_forward",
           "max_pool2d_indices", "max_unpool2d_backward", "max_unpool2d_forward", "upsample_backward",
           "upsample_forward"]


def _pad(x: np.ndarray, geom, value: float = 0.0) -> np.ndarray:
    top, bottom, left, right = geom.pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _windows(padded: np.ndarray, geom) -> np.ndarray:
    """Every window's taps, ``(N, C, H_out, W_out, kh·kw)``: ``[..., h, w, t]`` is tap ``t`` of window ``(h, w)``."""
    return np.stack([padded[:, :, rows, cols] for _, rows, cols in tap_slices(geom)], axis=-1)


def _unpad(dpadded: np.ndarray, geom) -> np.ndarray:
    """∂L/∂x from ∂L/∂(padded x): the border's gradient is dropped (padding is a constant)."""
    top, left = geom.pads[0], geom.pads[2]
    h, w = geom.in_size
    return np.ascontiguousarray(dpadded[:, :, top:top + h, left:left + w])


# ---------------------------------------------------------------------- max pooling
def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
                       track_argmax: bool = True):
    """Max over each window: ``out[n, c, h, w] = max_t a_pad[n, c, h·s + i·d, w·s + j·d]``, ``t = (i, j)``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size, padding, dilation : int or pair
        Padding is −∞: never the maximum.
    stride : int, pair or None (the kernel size)
    ceil_mode : bool
        Round the output size up (PyTorch's rule, see :func:`._pool_geometry.pool_geometry`).
    track_argmax : bool
        False tells a kernel that no backward will follow (inference); the
        result is the same. This kernel always keeps the winning taps.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple ``(argmax, geometry, x.shape)`` for :func:`max_pool2d_backward` and :func:`max_pool2d_indices`
        ``argmax`` holds, per window, the tap number ``t = i·kw + j`` of its maximum.

    Notes
    -----
    Ties go to the *first* maximal tap in row-major window order (top row
    first, left to right), as in PyTorch.
    """
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, dilation, "max_pool2d_forward")
    geom = pool_geometry(x.shape, kernel, stride, padding, dilation, "max_pool2d_forward", ceil_mode)
    windows = _windows(_pad(x, geom, -np.inf), geom)
    argmax = windows.argmax(axis=-1)  # the first maximal tap: ties as PyTorch
    out = windows.max(axis=-1)
    return out, (argmax, geom, x.shape)


def max_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Route each window's gradient to its maximum: ``∂L/∂a[p] = Σ_{windows w with argmax(w) = p} δ[w]``.

    Exactly one position per window receives the gradient; a pixel that is
    the maximum of several overlapping windows accumulates all of theirs.

    Returns ``dx`` of shape (N, C, H, W).
    """
    argmax, geom, x_shape = cache
    dpadded = np.zeros(x_shape[:2] + geom.padded_size, dtype=dout.dtype)
    for tap, rows, cols in tap_slices(geom):
        dpadded[:, :, rows, cols] += np.where(argmax == tap, dout, 0)  # δ[w] goes to tap t only if t won window w
    return _unpad(dpadded, geom)


def max_pool2d_indices(cache) -> np.ndarray:
    """Flat per-channel input index ``row·W + col`` of every window's maximum (int64, as PyTorch).

    ``max_unpool2d_forward`` takes these to put values back where they came from.
    """
    argmax, geom, x_shape = cache
    return window_indices(argmax, geom, x_shape[3])


# ---------------------------------------------------------------------- average pooling
def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, count_include_pad: bool = True,
                       ceil_mode: bool = False):
    """Mean over each window (zero padding): ``out[n, c, h, w] = (1/D_{hw}) Σ_t a_pad[n, c, tap t of (h, w)]``.

    ``D = kh·kw``, or with ``count_include_pad=False`` the number of
    non-padding pixels of that window (as PyTorch). With ``ceil_mode`` the
    last windows may overhang the border; the overhang is never counted in ``D``.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple ``(D as (H_out, W_out), geometry, x.shape)``
    """
    kernel, stride, padding, dilation = pool_arguments(kernel_size, stride, padding, 1, "avg_pool2d_forward")
    geom = pool_geometry(x.shape, kernel, stride, padding, dilation, "avg_pool2d_forward", ceil_mode)
    divisor = window_counts(geom, padding if count_include_pad else (0, 0)).astype(x.dtype)
    out = _windows(_pad(x, geom), geom).sum(axis=-1) / divisor
    return out, (divisor, geom, x.shape)


def avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂a[p] = Σ_{windows w ∋ p} δ[w] / D_w``: each window spreads its gradient evenly.

    Returns ``dx`` of shape (N, C, H, W).
    """
    divisor, geom, x_shape = cache
    share = dout / divisor  # δ[w] / D_w, the same for every tap of window w
    dpadded = np.zeros(x_shape[:2] + geom.padded_size, dtype=dout.dtype)
    for _, rows, cols in tap_slices(geom):
        dpadded[:, :, rows, cols] += share
    return _unpad(dpadded, geom)


# ---------------------------------------------------------------------- adaptive and global
def adaptive_avg_pool2d_forward(x: np.ndarray, output_size):
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output ``(i, j)`` is the mean of the input rows ``[⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉)``
    and columns ``[⌊jW/W_out⌋, ⌈(j+1)W/W_out⌉)`` (bins may overlap when upsampling).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    output_size : int or pair (an entry None keeps that input size)

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple ``(x.shape, row bins, column bins)``
    """
    ho, wo = adaptive_sizes(x.shape, output_size, "adaptive_avg_pool2d_forward")
    n, c, h, w = x.shape
    row_bins, col_bins = adaptive_bins(h, ho), adaptive_bins(w, wo)
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    for i, (top, bottom) in enumerate(row_bins):
        for j, (left, right) in enumerate(col_bins):
            out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(axis=(2, 3))
    return out, (x.shape, row_bins, col_bins)


def adaptive_avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂a[p] = Σ_{bins b ∋ p} δ[b] / |b|``: each bin spreads its gradient evenly over its pixels."""
    x_shape, row_bins, col_bins = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i, (top, bottom) in enumerate(row_bins):
        for j, (left, right) in enumerate(col_bins):
            dx[:, :, top:bottom, left:right] += dout[:, :, i, j, None, None] / ((bottom - top) * (right - left))
    return dx


def global_avg_pool2d_forward(x: np.ndarray):
    """Mean of each channel over all positions, ``(N, C, H, W) -> (N, C)``.

    ``out[n, c] = (1/HW) Σ_{h,w} a[n, c, h, w]``.

    Returns ``(out, x.shape)``.
    """
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d_forward: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    return x.mean(axis=(2, 3)), x.shape


def global_avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂a[n, c, h, w] = δ[n, c] / (H W)``."""
    n, c, h, w = cache
    share = dout * np.asarray(1.0 / (h * w), dtype=dout.dtype)
    return np.broadcast_to(share[:, :, None, None], (n, c, h, w)).copy()


# ---------------------------------------------------------------------- unpooling and upsampling
def max_unpool2d_forward(x: np.ndarray, indices: np.ndarray, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max pooling: each value back at its maximum's position, zeros elsewhere.

    ``out[n, c, indices[n, c, k]] = x[n, c, k]`` with the flat per-channel
    ``indices`` from :func:`max_pool2d_indices` (as ``torch.nn.functional.max_unpool2d``).

    Parameters
    ----------
    x, indices : ndarray, shape (N, C, H, W); integer indices
    kernel_size, stride, padding : the pooling's (stride None = kernel size)
    output_size : pair, (N, C, H, W) or None
        Default: ``H_out = (H − 1)s − 2p + k``; within one stride of it otherwise.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple ``(indices as (N, C, H·W), x.shape)``
    """
    owner = "max_unpool2d_forward"
    kernel, stride, padding = unpool_arguments(kernel_size, stride, padding, owner)
    h_out, w_out = unpool_size(x.shape, kernel, stride, padding, output_size, owner)
    indices = np.asarray(indices)
    check_unpool_indices(x.shape, indices, (h_out, w_out), owner)
    n, c = x.shape[:2]
    flat_indices = indices.reshape(n, c, -1)
    out = np.zeros((n, c, h_out * w_out), dtype=x.dtype)
    np.put_along_axis(out, flat_indices, x.reshape(n, c, -1), axis=2)
    return out.reshape(n, c, h_out, w_out), (flat_indices, x.shape)


def max_unpool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂x[n, c, k] = δ[n, c, indices[n, c, k]]`` (the indices are integers: no gradient)."""
    flat_indices, x_shape = cache
    n, c = x_shape[:2]
    return np.take_along_axis(dout.reshape(n, c, -1), flat_indices, axis=2).reshape(x_shape)


def upsample_forward(x: np.ndarray, scale_factor, mode: str = "nearest"):
    """Nearest-neighbour upsampling by integer factors: ``out[n, c, y, x] = a[n, c, ⌊y/s_h⌋, ⌊x/s_w⌋]``.

    Every pixel becomes an ``s_h × s_w`` block of copies. Returns ``(out, (x.shape, (s_h, s_w)))``.
    """
    sh, sw = upsample_arguments(scale_factor, mode, "upsample_forward")
    if x.ndim != 4:
        raise ValueError(f"upsample_forward: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    n, c, h, w = x.shape
    blocks = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))  # block (h, w) = sh × sw copies
    return blocks.reshape(n, c, h * sh, w * sw), (x.shape, (sh, sw))


def upsample_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂a[n, c, h, w] = Σ_{block (h, w)} δ``: the sum of the gradients of a pixel's copies."""
    (n, c, h, w), (sh, sw) = cache
    return dout.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5))
