"""2-D convolution: the im2col kernels and the ``Conv2d`` module.

Like every deep-learning library (and as the notes remark), the layer
computes a *cross-correlation*: the kernel is slid over the image without
being flipped,

.. math::
    z[n, f, h, w] = b_f + \\sum_{c, i, j} W[f, c, i, j] \\; a[n, c, h s_h + i d_h, w s_w + j d_w]

(``a`` is the padded input, ``s`` the stride, ``d`` the dilation; with
``groups = G`` filter ``f`` only sees the ``C/G`` input channels of its group).
A flipped kernel would learn the same weights mirrored, so nothing is lost.

Speed: each batch chunk's windows are copied into a column matrix
(``windows.im2col``) sized to stay in the CPU cache, and the layer is one
batched matrix product ``W (F, C·kh·kw) @ cols (C·kh·kw, H_out·W_out)`` per
image, written straight into the output. With many input channels
(``ROW_LAYOUT_MIN_CHANNELS``) a chunk is instead one large product over
channels-last rows (:mod:`nndl.nn._fast.conv_rows`). Outputs with many filters are
stored channels-last behind their NCHW shape (``windows.is_channels_last``),
so the next convolution reads its rows without a transposing copy; large
batches are split over threads (:mod:`nndl.nn._fast.parallel`).
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter
from nndl.nn._fast.conv_rows import correlate_by_rows, weight_grad_by_rows
from nndl.nn._fast.parallel import split_batch
from nndl.nn._fast.windows import (PADDING_MODES, WindowGeometry, as_pair, batch_chunks, col2im_add, column_chunks, dense,
                             is_channels_last, make_geometry, pad_images, scratch, unpad_gradient)


# ---------------------------------------------------------------------- geometry
def resolve_padding(padding, kernel, stride, dilation, owner: str) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` for ``padding`` = int, pair, ``'valid'`` or ``'same'``.

    ``'same'`` (stride 1 only) pads ``d(k − 1)`` in total along each axis,
    half before and half after; an odd total puts the extra pixel after
    (bottom/right), as PyTorch does.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{owner}: padding='same' needs stride 1, got stride {stride}")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise ValueError(f"{owner}: padding must be an int, a pair, 'same' or 'valid', got '{padding}'")
    ph, pw = as_pair(padding, "padding", owner, minimum=0)
    return (ph, ph, pw, pw)


def conv_geometry(x_shape, weight_shape, stride, pads, dilation, groups: int, owner: str) -> WindowGeometry:
    """Check an NCHW input against a ``(F, C/groups, kh, kw)`` weight and return the window geometry."""
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    in_channels = weight_shape[1] * groups
    if x_shape[1] != in_channels:
        raise ValueError(f"{owner}: expected input of shape (N, {in_channels}, H, W), got {tuple(x_shape)}")
    return make_geometry(tuple(x_shape[2:]), tuple(weight_shape[2:]), stride, dilation, pads, owner, x_shape)


def _is_pointwise(geom: WindowGeometry) -> bool:
    """A 1x1 kernel with stride 1 and no padding: the input already is the column matrix."""
    return geom.kernel == (1, 1) and geom.stride == (1, 1) and not geom.has_padding


ROW_LAYOUT_MIN_CHANNELS = 16
"""Input channels (one group) from which the forward product and the weight gradient use the
channels-last rows of :mod:`nndl.nn._fast.conv_rows`.

Below it the ``C``-long contiguous runs are too short for the copy to pay
off (measured 3x slower at ``C = 3``, 1.3-1.4x faster at ``C = 32, 64``)."""

CHANNELS_LAST_MIN_FILTERS = 16
"""Filters (one group) from which the per-image column path also stores its output
channels-last (:func:`windows.is_channels_last`); the rows path always does.

The next layers then read ``F``-long contiguous runs, and a following
convolution with the rows layout needs no transposing copy."""


def uses_rows(channels: int, groups: int) -> bool:
    """True when a convolution over ``channels`` inputs takes the channels-last rows path."""
    return groups == 1 and channels >= ROW_LAYOUT_MIN_CHANNELS


def channel_totals(dout: np.ndarray) -> np.ndarray:
    """``Σ_{n,h,w} δ[n, f, h, w]`` (the bias gradient).

    A channels-last ``δ`` is read as ``(N·H·W, F)`` rows and summed by the
    matrix-vector product ``1ᵀ δ`` (BLAS: 6x faster than ``sum(axis=0)``
    on such rows, measured at 65536 x 32).
    """
    if is_channels_last(dout):
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])
        return np.ones(rows.shape[0], dtype=rows.dtype) @ rows
    return dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------------- the three products
def correlate(padded: np.ndarray, weight: np.ndarray, geom: WindowGeometry, groups: int = 1,
              bias: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlate an already padded batch with ``weight``: the convolution's forward product.

    Parameters
    ----------
    padded : ndarray, shape (N, C, H_pad, W_pad), NCHW or channels-last
    weight : ndarray, shape (F, C/groups, kh, kw)
    geom : WindowGeometry
    groups : int
    bias : ndarray, shape (F,), or None

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out), ``padded``'s dtype
        Stored channels-last with one group and either the rows path
        (``ROW_LAYOUT_MIN_CHANNELS`` input channels) or at least
        ``CHANNELS_LAST_MIN_FILTERS`` filters; NCHW otherwise.
    """
    n, c = padded.shape[:2]
    f = weight.shape[0]
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    if uses_rows(c, groups):
        return correlate_by_rows(padded, weight, geom, bias)
    padded = np.ascontiguousarray(padded)
    w_mat = weight.reshape(groups, f // groups, per_group)
    if _is_pointwise(geom):
        out = np.matmul(w_mat, padded.reshape(n, groups, per_group, pixels)).reshape(n, f, pixels)
        if bias is not None:
            out += bias.reshape(f, 1)
        return out.reshape(n, f, *geom.out_size)
    channels_last = groups == 1 and f >= CHANNELS_LAST_MIN_FILTERS
    # Channels-last: per image (P, F) = colsᵀ (P, C·kh·kw) @ Wᵀ, both operands read transposed by BLAS.
    out = np.empty((n, pixels, f) if channels_last else (n, f, pixels), dtype=padded.dtype)

    def part(batch: slice) -> None:
        for chunk, cols in column_chunks(padded, geom, batch):
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


def correlate_weight_grad(padded: np.ndarray, dout: np.ndarray, geom: WindowGeometry, groups: int = 1) -> np.ndarray:
    """``∂L/∂W[f, c, i, j] = Σ_{n,h,w} δ[n, f, h, w] · a[n, c, h s_h + i d_h, w s_w + j d_w]``.

    Per image this is ``δ (F, P) @ colsᵀ (P, C·kh·kw)``. The column
    matrices are rebuilt chunk by chunk rather than kept from the forward
    pass: measured as fast (the rebuild stays in cache) without holding
    ``C·kh·kw`` copies of the input between the passes.

    Returns ``dW`` of shape ``(F, C/groups, kh, kw)``.
    """
    n, c = padded.shape[:2]
    f = dout.shape[1]
    per_group = c // groups * geom.taps
    pixels = geom.out_size[0] * geom.out_size[1]
    kernel_shape = (f, c // groups) + geom.kernel
    if uses_rows(c, groups):
        return weight_grad_by_rows(padded, dout, geom)
    padded = np.ascontiguousarray(padded)
    if _is_pointwise(geom):
        delta = dout.reshape(n, groups, f // groups, pixels)
        cols = padded.reshape(n, groups, per_group, pixels)
        return np.matmul(delta, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(kernel_shape)
    # A channels-last δ is read as (P, F) per image: cols (K, P) @ δ gives ∂L/∂Wᵀ (K, F).
    delta_rows = groups == 1 and is_channels_last(dout)
    delta = dout.transpose(0, 2, 3, 1).reshape(n, pixels, f) if delta_rows else \
        dout.reshape(n, groups, f // groups, pixels)

    def part(batch: slice) -> np.ndarray:
        grad = np.zeros((per_group, f) if delta_rows else (groups, f // groups, per_group), dtype=padded.dtype)
        for chunk, cols in column_chunks(padded, geom, batch):
            b = cols.shape[0]
            if delta_rows:
                grad += np.matmul(cols, delta[chunk]).sum(axis=0)
            else:
                products = np.matmul(delta[chunk], cols.reshape(b, groups, per_group, pixels).transpose(0, 1, 3, 2))
                grad += products.sum(axis=0)
        return grad

    grad = sum(split_batch(part, n, n * c * geom.taps * pixels))
    return np.ascontiguousarray(grad.T).reshape(kernel_shape) if delta_rows else grad.reshape(kernel_shape)


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
    if geom.stride == (1, 1) and f <= 2 * c and not _is_pointwise(geom):
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
    if _is_pointwise(geom):
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
    price of a product ``W_pad/W_out`` times wider. Measured 1.5-2.3x faster
    than the row-by-row adds on LeNet-5's second layer (6→16, 5x5) and a
    16→48 3x3 layer.

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


# ---------------------------------------------------------------------- kernel pair
def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                   dilation=1, groups: int = 1, padding_mode: str = "zeros"):
    """2-D cross-correlation ``z = W ⋆ a + b`` over an NCHW batch.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (F, C/groups, kh, kw)
    bias : ndarray, shape (F,), or None
    stride, dilation : int or pair
    padding : int, pair, 'same' or 'valid'
    groups : int
        Channels and filters split into ``groups`` independent convolutions.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
        ``H_out = ⌊(H + p_top + p_bottom − d_h(kh − 1) − 1) / s_h⌋ + 1``, same for W.
    cache : tuple for :func:`conv2d_backward`

    Notes
    -----
    .. math::
        z[n, f, h, w] = b_f + \\sum_{c, i, j} W[f, c, i, j] \\, a[n, c, h s_h + i d_h, w s_w + j d_w]
    """
    owner = "conv2d_forward"
    stride = as_pair(stride, "stride", owner)
    dilation = as_pair(dilation, "dilation", owner)
    pads = resolve_padding(padding, weight.shape[2:], stride, dilation, owner)
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{owner}: unknown padding_mode '{padding_mode}'; valid: {', '.join(PADDING_MODES)}")
    geom = conv_geometry(x.shape, weight.shape, stride, pads, dilation, groups, owner)
    padded = pad_images(x, pads, padding_mode, channels_last=uses_rows(x.shape[1], groups))
    out = correlate(padded, weight, geom, groups, bias)
    return out, (padded, weight, geom, groups, padding_mode, bias is not None)


def conv2d_backward(dout: np.ndarray, cache, need_input_grad: bool = True):
    """Gradients of the cross-correlation, with δ = ∂L/∂z (``dout``).

    .. math::
        ∂L/∂W[f, c, i, j] = \\sum_{n, h, w} δ[n, f, h, w] \\, a[n, c, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂a[n, c, y, x] = \\sum_{f, i, j \\,:\\, y = h s_h + i d_h,\\; x = w s_w + j d_w} W[f, c, i, j] \\, δ[n, f, h, w]

        ∂L/∂b_f = \\sum_{n, h, w} δ[n, f, h, w]

    The input gradient is the *transposed convolution* of δ with the same
    weights (``col2im(Wᵀ δ)``); the padding border's share is then dropped
    (zero padding) or added back onto the pixels it copied.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : tuple from :func:`conv2d_forward`
    need_input_grad : bool
        ``False`` skips ∂L/∂x (returned as None), e.g. for a first layer.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dweight : ndarray, shape (F, C/groups, kh, kw)
    dbias : ndarray, shape (F,), or None
    """
    padded, weight, geom, groups, padding_mode, has_bias = cache
    dweight = correlate_weight_grad(padded, dout, geom, groups)
    dbias = channel_totals(dout) if has_bias else None
    dx = None
    if need_input_grad:
        dx = _input_grad(dout, weight, geom, groups, padding_mode)
    return dx, dweight, dbias


def _input_grad(dout, weight, geom: WindowGeometry, groups: int, padding_mode: str) -> np.ndarray:
    """∂L/∂x: zero padding drops the border's share; other modes add it back onto the pixels it copied."""
    if padding_mode == "zeros":
        return correlate_input_grad(dout, weight, geom, groups, interior_only=True)
    dpadded = correlate_input_grad(dout, weight, geom, groups)
    return unpad_gradient(dpadded, geom.pads, geom.in_size, padding_mode)


# ---------------------------------------------------------------------- module
class Conv2d(Module):
    """2-D convolution layer (a cross-correlation, as in every library; see the module docstring).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and the number of filters ``F``; both divisible by ``groups``.
    kernel_size, stride, dilation : int or pair
    padding : int, pair, 'same' or 'valid'
        ``'same'`` (stride 1) keeps ``H × W``; an odd total padding puts the
        extra row/column at the bottom/right, as PyTorch.
    groups : int
        ``groups = in_channels`` is a depthwise convolution.
    bias : bool
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}
    init : str or callable
        Weight initialization from ``nndl.nn.core.init.WEIGHT_INITS``; default
        ``'he_uniform'`` (``U(±√(6/fan_in))``, ``fan_in = C/groups · kh · kw``,
        bias 0), ``'pytorch'`` reproduces ``torch.nn.Conv2d``'s.
    rng : Generator, int or None
    dtype : float32 or float64

    Shapes
    ------
    input (N, C, H, W) -> output (N, F, H_out, W_out) with
    ``H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1``. State dict: ``weight``
    (F, C/groups, kh, kw), ``bias`` (F,). Parameters: ``F · (C/groups · kh · kw + 1)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", init="he_uniform", rng=None,
                 dtype=np.float32):
        super().__init__(dtype)
        owner = "Conv2d"
        self.in_channels, self.out_channels, self.groups = _check_channels(in_channels, out_channels, groups, owner)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.stride = as_pair(stride, "stride", owner)
        self.dilation = as_pair(dilation, "dilation", owner)
        self.padding = padding if isinstance(padding, str) else as_pair(padding, "padding", owner, minimum=0)
        self._pads = resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation, owner)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{owner}: unknown padding_mode '{padding_mode}'; valid: {', '.join(PADDING_MODES)}")
        self.padding_mode = padding_mode
        weight_shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        weight, bias_value = init_weight_and_bias(init, weight_shape, (self.out_channels,) if bias else None, rng,
                                                  self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        return conv_geometry(tuple(shape), self.weight.shape, self.stride, self._pads, self.dilation, self.groups,
                             self.describe())

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, match_dtype=True)
        geom = self._geometry(x.shape)
        padded = pad_images(x, self._pads, self.padding_mode, channels_last=uses_rows(self.in_channels, self.groups))
        bias = None if self.bias is None else self.bias.data
        out = correlate(padded, self.weight.data, geom, self.groups, bias)
        self._cache = (padded, self.weight.data, geom, self.groups, self.padding_mode, bias is not None)
        return out

    can_skip_input_grad = True
    splits_batch = True  # networks holding it compute with nndl's threads (nndl.nn._fast.parallel)

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        padded, weight, geom, groups, padding_mode, has_bias = self._saved()
        if dout.shape != (padded.shape[0], self.out_channels) + geom.out_size:
            raise ValueError(f"{self.describe()}: expected a gradient of shape "
                             f"{(padded.shape[0], self.out_channels) + geom.out_size}, got {dout.shape}")
        if self.weight.requires_grad:
            self.weight.accumulate_grad(correlate_weight_grad(padded, dout, geom, groups))
        if self.bias is not None:
            self.bias.accumulate_grad(channel_totals(dout))
        return _input_grad(dout, weight, geom, groups, padding_mode) if need_input_grad else None

    def output_shape(self, input_shape):
        geom = self._geometry(input_shape)
        return (input_shape[0], self.out_channels) + geom.out_size

    def extra_repr(self) -> str:
        return conv_extra_repr(self)


def _check_channels(in_channels, out_channels, groups, owner: str):
    values = []
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
        values.append(int(value))
    in_channels, out_channels, groups = values
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{owner}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                         f"divisible by groups ({groups})")
    return in_channels, out_channels, groups


def conv_extra_repr(layer) -> str:
    """PyTorch-style summary: only the arguments that differ from their defaults are shown."""
    text = f"{layer.in_channels}, {layer.out_channels}, kernel_size={layer.kernel_size}, stride={layer.stride}"
    if layer.padding != (0, 0):
        text += f", padding={layer.padding}"
    if layer.dilation != (1, 1):
        text += f", dilation={layer.dilation}"
    output_padding = getattr(layer, "output_padding", (0, 0))
    if output_padding != (0, 0):
        text += f", output_padding={output_padding}"
    if layer.groups != 1:
        text += f", groups={layer.groups}"
    if layer.bias is None:
        text += ", bias=False"
    if getattr(layer, "padding_mode", "zeros") != "zeros":
        text += f", padding_mode={layer.padding_mode}"
    return text
