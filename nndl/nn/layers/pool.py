"""Pooling: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``GlobalAvgPool2d`` and their kernels.

Pooling downsamples each channel on its own by summarizing every window
(the notes' "aggregating values at places in the feature map"); it has no
parameters. The windows follow ``windows.WindowGeometry``: output size
``⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1``, stride defaulting to the kernel size.

Every kernel loops over the ``kh·kw`` taps of the window and works on one
strided slice of the whole batch per tap: no Python loop over pixels, and
no mask the size of the input.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module
from nndl.nn._fast.parallel import split_batch, split_first_axis
from nndl.nn._fast.windows import (WindowGeometry, as_pair, empty_images, is_channels_last, make_geometry, pad_images,
                             unpad_gradient)


def _pool_geometry(x_shape, kernel, stride, padding, dilation, owner: str, ceil_mode: bool = False) -> WindowGeometry:
    """Window geometry of a pooling layer; ``ceil_mode`` adds the bottom/right padding its last windows need.

    With ``ceil_mode`` (PyTorch's rule) the output size rounds up,
    ``n_out = ⌈(n + 2p − d(k − 1) − 1)/s⌉ + 1``, less one if the last window
    would start in the right padding (``(n_out − 1)s ≥ n + p``): a window may
    overhang the border, never lie entirely outside the input. The overhang
    is padding like any other (−∞ for the max, excluded from averages).
    """
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    pads = [padding[0], padding[0], padding[1], padding[1]]
    if ceil_mode:
        for axis, (n, k, s, p, d) in enumerate(zip(x_shape[2:], kernel, stride, padding, dilation)):
            span = n + 2 * p - d * (k - 1) - 1
            if span < 0:
                continue  # make_geometry reports the kernel that does not fit
            out = -(-span // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            pads[2 * axis + 1] += max(0, (out - 1) * s - span)  # 0 when the rule gave back the floor size
    return make_geometry(tuple(x_shape[2:]), kernel, stride, dilation, tuple(pads), owner, x_shape)


def _pool_arguments(kernel_size, stride, padding, dilation, owner: str):
    kernel = as_pair(kernel_size, "kernel_size", owner)
    stride = kernel if stride is None else as_pair(stride, "stride", owner)
    padding = as_pair(padding, "padding", owner, minimum=0)
    dilation = as_pair(dilation, "dilation", owner)
    for p, k, d in zip(padding, kernel, dilation):
        # Beyond half the window a window could hold only padding (PyTorch's rule too).
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{owner}: padding {padding} must be at most half the (dilated) kernel size {kernel}")
    return kernel, stride, padding, dilation


# ---------------------------------------------------------------------- max pooling
def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
    """Max over each window; padding counts as −∞ (never selected).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size, padding, dilation : int or pair
    stride : int, pair or None (the kernel size)
    ceil_mode : bool
        Round the output size up (PyTorch's rule, see :func:`_pool_geometry`).

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple for :func:`max_pool2d_backward` and :func:`max_pool2d_indices`

    Notes
    -----
    The cache holds, per output, the tap number ``t = i·kw + j`` of the
    maximum. Ties go to the *first* maximal tap in row-major window order
    (top row first, left to right): a later tap replaces the running maximum
    only when strictly greater.
    """
    geom = _pool_geometry(x.shape, *_pool_arguments(kernel_size, stride, padding, dilation, "max_pool2d_forward"),
                          owner="max_pool2d_forward", ceil_mode=ceil_mode)
    return _max_pool(x, geom)


def _max_pool(x: np.ndarray, geom: WindowGeometry, track_argmax: bool = True):
    """Running maximum over the taps; with ``track_argmax`` also the winning tap of each window.

    The winning tap is the *last* tap that strictly raised the running
    maximum, i.e. ``max_t (t · [tap t raised it])``: a cheap elementwise
    maximum on small integers instead of masked writes. A later tap equal
    to the running maximum does not raise it, so ties keep the first tap.
    Without ``track_argmax`` (inference) only the maximum is computed; the
    tap is then recovered in the backward pass if one is ever asked for.
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

    def part(batch: slice) -> None:  # parts of the batch may run on nndl's threads (nndl.nn._fast.parallel)
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
    """Route each window's gradient to its maximum: ``∂L/∂a[p] = Σ_{windows w with argmax(w) = p} δ[w]``.

    Exactly one position per window receives the gradient (the first maximal
    tap, see :func:`max_pool2d_forward`); a pixel that is the maximum of
    several overlapping windows accumulates all of their gradients.

    Returns ``dx`` of shape (N, C, H, W).
    """
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
    """Flat per-channel input index ``row·W + col`` of every window's maximum (int64, as PyTorch).

    ``MaxUnpool2d`` takes these to put values back where they came from.
    """
    argmax, geom, x_shape = _argmax(cache), cache[3], cache[4]
    kh, kw = geom.kernel
    (sh, sw), (dh, dw), (ho, wo) = geom.stride, geom.dilation, geom.out_size
    top, left = geom.pads[0], geom.pads[2]
    tap_row, tap_col = np.divmod(argmax.astype(np.int64), kw)
    rows = np.arange(ho, dtype=np.int64)[:, None] * sh - top + tap_row * dh
    cols = np.arange(wo, dtype=np.int64)[None, :] * sw - left + tap_col * dw
    return rows * x_shape[3] + cols


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows, as ``torch.nn.MaxPool2d``.

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or pair
        Implicit −∞ border, at most half the kernel.
    dilation : int or pair
    return_indices : bool
        ``forward`` then returns ``(out, indices)`` with the flat per-channel
        index of each maximum, for :class:`MaxUnpool2d`.
    ceil_mode : bool
        Round the output size up: the last window may overhang the bottom or
        right border (never start beyond the padding), as PyTorch's
        ``ceil_mode`` (GoogLeNet uses it).

    Notes
    -----
    Gradient: each window's δ goes to exactly one input, its maximum; on a
    tie, the first maximal position in row-major window order. Overlapping
    windows (stride < kernel) that share a maximum add their gradients.
    ``backward`` takes the gradient of the pooled values (with
    ``return_indices`` a tuple ``(dout, ignored)`` is also accepted: the
    indices are piecewise constant).

    Shapes
    ------
    (N, C, H, W) -> (N, C, H_out, W_out), ``H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1``
    (``⌈·⌉`` with ``ceil_mode``).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False, dtype=np.float32):
        super().__init__(dtype)
        self.kernel_size, self.stride, self.padding, self.dilation = _pool_arguments(
            kernel_size, stride, padding, dilation, "MaxPool2d")
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        return _pool_geometry(shape, self.kernel_size, self.stride, self.padding, self.dilation, self.describe(),
                              self.ceil_mode)

    def forward(self, x):
        x = self._check_input(x)
        # In evaluation mode nothing will be differentiated: skip the winning-tap bookkeeping.
        track = self.training or self.return_indices
        out, self._cache = _max_pool(x, self._geometry(x.shape), track_argmax=track)
        if self.return_indices:
            return out, max_pool2d_indices(self._cache)
        return out

    def backward(self, dout):
        if isinstance(dout, tuple):
            dout = dout[0]
        return max_pool2d_backward(dout, self._saved())

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._geometry(tuple(input_shape)).out_size

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.return_indices:
            text += ", return_indices=True"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        return text


# ---------------------------------------------------------------------- average pooling
def _window_counts(geom: WindowGeometry, padding=(0, 0)) -> np.ndarray:
    """Pixels each window averages over, shape (H_out, W_out): those of the input widened by ``padding``.

    ``padding = (0, 0)`` counts real pixels only (``count_include_pad=False``);
    the layer's own padding counts the zero border too, but not the overhang
    of ``ceil_mode``'s last windows (PyTorch's divisor).
    """
    counts = []
    for axis in (0, 1):
        k, s, n_out, n_in = geom.kernel[axis], geom.stride[axis], geom.out_size[axis], geom.in_size[axis]
        start = np.arange(n_out) * s - geom.pads[2 * axis]
        counts.append(np.minimum(start + k, n_in + padding[axis]) - np.maximum(start, -padding[axis]))
    return np.outer(*counts)


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, count_include_pad: bool = True,
                       ceil_mode: bool = False):
    """Mean over each window (zero padding).

    Returns ``(out, cache)``; ``out[n, c, h, w] = Σ_{window} a / D`` with ``D = kh·kw``,
    or with ``count_include_pad=False`` ``D`` = the number of non-padding
    pixels of that window (as PyTorch). With ``ceil_mode`` the last windows
    may overhang the border; the overhang is never counted in ``D``.
    """
    kernel, stride, padding, dilation = _pool_arguments(kernel_size, stride, padding, 1, "avg_pool2d_forward")
    geom = _pool_geometry(x.shape, kernel, stride, padding, dilation, "avg_pool2d_forward", ceil_mode)
    return _avg_pool(x, geom, count_include_pad, padding)


def _avg_pool(x: np.ndarray, geom: WindowGeometry, count_include_pad: bool, padding=(0, 0)):
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
        scale = (1.0 / _window_counts(geom, padding if count_include_pad else (0, 0))).astype(x.dtype)
    out *= scale
    return out, (scale, geom, x.shape)


def avg_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂a[p] = Σ_{windows w ∋ p} δ[w] / D_w``: each window spreads its gradient evenly.

    Returns ``dx`` of shape (N, C, H, W).
    """
    scale, geom, x_shape = cache
    kh, kw = geom.kernel
    share = dout * scale
    dpadded = np.zeros(x_shape[:2] + geom.padded_size, dtype=dout.dtype)
    for tap in range(kh * kw):
        rows, cols = geom.tap_slices(*divmod(tap, kw))
        dpadded[:, :, rows, cols] += share
    return unpad_gradient(dpadded, geom.pads, geom.in_size)


class AvgPool2d(Module):
    """Average pooling over ``kernel_size`` windows, as ``torch.nn.AvgPool2d``.

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None
        Defaults to ``kernel_size``.
    padding : int or pair
        Implicit zero border, at most half the kernel.
    count_include_pad : bool
        Divide by ``kh·kw`` (True) or by the number of non-padding pixels
        in the window (False).
    ceil_mode : bool
        Round the output size up, as :class:`MaxPool2d`; the overhang of the
        last windows is never counted in the divisor (PyTorch's rule).

    Shapes
    ------
    (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True, ceil_mode: bool = False,
                 dtype=np.float32):
        super().__init__(dtype)
        self.kernel_size, self.stride, self.padding, _ = _pool_arguments(kernel_size, stride, padding, 1, "AvgPool2d")
        self.count_include_pad = bool(count_include_pad)
        self.ceil_mode = bool(ceil_mode)
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        return _pool_geometry(shape, self.kernel_size, self.stride, self.padding, (1, 1), self.describe(),
                              self.ceil_mode)

    def forward(self, x):
        x = self._check_input(x)
        out, self._cache = _avg_pool(x, self._geometry(x.shape), self.count_include_pad, self.padding)
        return out

    def backward(self, dout):
        return avg_pool2d_backward(dout, self._saved())

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._geometry(tuple(input_shape)).out_size

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if not self.count_include_pad:
            text += ", count_include_pad=False"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        return text


# ---------------------------------------------------------------------- adaptive and global
def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's bins: output ``i`` averages ``[⌊i·size/out⌋, ⌈(i+1)·size/out⌉)`` (bins may overlap)."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """``A (out, size)`` with ``A[i, start_i:end_i] = 1 / (end_i − start_i)``: row ``i`` averages bin ``i``."""
    matrix = np.zeros((out, size), dtype=np.float64)
    for i, (start, end) in enumerate(adaptive_bins(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix.astype(dtype)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d``.

    Output ``(i, j)`` is the mean of the input rows ``[⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉)``
    and columns ``[⌊jW/W_out⌋, ⌈(j+1)W/W_out⌉)``. Averaging a rectangle is
    separable, so the whole layer is one matrix product per image,
    ``vec(out) = (A_H ⊗ A_W) vec(a)``, and its gradient the transpose,
    ``vec(dx) = (A_H ⊗ A_W)ᵀ vec(δ)``.

    Parameters
    ----------
    output_size : int, pair (entries may be None = keep that input size)

    Shapes
    ------
    (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, output_size, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
            sizes = tuple(None if v is None else as_pair(v, "output_size", "AdaptiveAvgPool2d")[0]
                          for v in output_size)
        else:
            sizes = as_pair(output_size, "output_size", "AdaptiveAvgPool2d")
        self.output_size = sizes
        self._cache = None

    def _sizes(self, shape):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")
        return tuple(shape[2 + a] if s is None else s for a, s in enumerate(self.output_size))

    def forward(self, x):
        x = self._check_input(x)
        ho, wo = self._sizes(x.shape)
        n, c, h, w = x.shape
        if h % ho == 0 and w % wo == 0:
            # Equal, non-overlapping bins: a reshape and a mean.
            out = x.reshape(n, c, ho, h // ho, wo, w // wo).mean(axis=(3, 5))
            self._cache = (None, x.shape, (ho, wo))
            return out
        pool = np.kron(_averaging_matrix(h, ho, x.dtype), _averaging_matrix(w, wo, x.dtype))
        out = (x.reshape(n * c, h * w) @ pool.T).reshape(n, c, ho, wo)
        self._cache = (pool, x.shape, (ho, wo))
        return out

    def backward(self, dout):
        pool, (n, c, h, w), (ho, wo) = self._saved()
        if pool is None:
            share = dout * np.asarray(1.0 / ((h // ho) * (w // wo)), dtype=dout.dtype)
            dx = np.broadcast_to(share.reshape(n, c, ho, 1, wo, 1), (n, c, ho, h // ho, wo, w // wo))
            return dx.reshape(n, c, h, w)
        return (dout.reshape(n * c, ho * wo) @ pool).reshape(n, c, h, w)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._sizes(tuple(input_shape))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class GlobalAvgPool2d(Module):
    """Mean of each channel over all positions: ``(N, C, H, W) -> (N, C)``.

    The output drops the spatial axes (it feeds a ``Linear`` directly, as in
    GoogLeNet and ResNet heads); ``AdaptiveAvgPool2d(1)`` is the same
    average keeping shape ``(N, C, 1, 1)``. Gradient: ``∂L/∂a[n, c, h, w] = δ[n, c] / (H W)``.
    """

    def __init__(self, dtype=np.float32):
        super().__init__(dtype)
        self._cache = None

    def forward(self, x):
        x = self._check_input(x)
        if x.ndim != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        self._cache = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        n, c, h, w = self._saved()
        share = dout * np.asarray(1.0 / (h * w), dtype=dout.dtype)
        return np.broadcast_to(share[:, :, None, None], (n, c, h, w)).copy()

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(input_shape)}")
        return tuple(input_shape[:2])


__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "GlobalAvgPool2d", "MaxPool2d", "adaptive_bins", "avg_pool2d_backward",
           "avg_pool2d_forward", "max_pool2d_backward", "max_pool2d_forward", "max_pool2d_indices"]
