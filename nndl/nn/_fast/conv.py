"""Fast 2-D convolution pair: ``conv2d_forward`` / ``conv2d_backward`` of :mod:`nndl.nn.functional.conv`, for speed.

Same signatures, same numbers (to rounding) as the reference pair; the
products come from :mod:`nndl.nn._fast.correlate` (forward, ∂L/∂W) and
:mod:`nndl.nn._fast.col2im` (∂L/∂x). The padded input is kept for the
backward pass, channels-last when the rows path will read it. Outputs with
many channels are stored channels-last behind their NCHW shape
(:func:`nndl.nn._fast.windows.is_channels_last`); the modules make the
outermost result of a network C-contiguous again.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.col2im import correlate_input_grad
from nndl.nn._fast.correlate import channel_totals, correlate, correlate_weight_grad, uses_rows
from nndl.nn._fast.parallel import worker_count
from nndl.nn._fast.settings import settings
from nndl.nn._fast.windows import WindowGeometry, pad_images, unpad_gradient
from nndl.nn.functional._geometry import conv2d_geometry

__all__ = ["conv2d_forward", "conv2d_backward"]


def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                   dilation=1, groups: int = 1, padding_mode: str = "zeros"):
    """2-D cross-correlation ``z = W ⋆ a + b`` over an NCHW batch (the fast twin of the reference pair's forward).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), NCHW or channels-last
    weight : ndarray, shape (F, C/groups, kh, kw)
    bias : ndarray, shape (F,), or None
    stride, dilation : int or pair
    padding : int, pair, 'same' or 'valid'
    groups : int
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
        NCHW or stored channels-last (see :func:`nndl.nn._fast.correlate.correlate`).
    cache : tuple for :func:`conv2d_backward`

    Notes
    -----
    .. math::
        z[n, f, h, w] = b_f + \\sum_{c, i, j} W[f, c, i, j] \\, a[n, c, h s_h + i d_h, w s_w + j d_w]
    """
    geom = conv2d_geometry(x.shape, weight.shape, stride, padding, dilation, groups, padding_mode, "conv2d_forward")
    padded = pad_images(x, geom.pads, padding_mode, channels_last=uses_rows(x.shape[1], groups))
    out = correlate(padded, weight, geom, groups, bias)
    return out, (padded, weight, geom, groups, padding_mode, bias is not None)


def conv2d_backward(dout: np.ndarray, cache, need_input_grad: bool = True, need_weight_grad: bool = True):
    """Gradients of the cross-correlation, with δ = ∂L/∂z (fast; see :func:`nndl.nn.functional.conv2d_backward`).

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out), NCHW or channels-last
    cache : tuple from :func:`conv2d_forward`
    need_input_grad : bool
        ``False`` skips ∂L/∂x (returned as None).
    need_weight_grad : bool
        ``False`` skips ∂L/∂W and ∂L/∂b (returned as None).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dweight : ndarray, shape (F, C/groups, kh, kw), or None
    dbias : ndarray, shape (F,), or None

    Notes
    -----
    .. math::
        ∂L/∂W[f, c, i, j] = \\sum_{n, h, w} δ[n, f, h, w] \\, a[n, c, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂b_f = \\sum_{n, h, w} δ[n, f, h, w]

        ∂L/∂a[n, c, h s_h + i d_h, w s_w + j d_w] \\mathrel{+}= \\sum_f W[f, c, i, j] \\, δ[n, f, h, w]
    """
    padded, weight, geom, groups, padding_mode, has_bias = cache
    dweight = dbias = dx = None
    if need_weight_grad:
        dweight = correlate_weight_grad(padded, dout, geom, groups)
        dbias = channel_totals(dout) if has_bias else None
    if need_input_grad:
        dx = input_grad(dout, weight, geom, groups, padding_mode)
    return dx, dweight, dbias


def input_grad(dout, weight, geom: WindowGeometry, groups: int, padding_mode: str) -> np.ndarray:
    """∂L/∂x: zero padding drops the border's share; other modes add it back onto the pixels it copied.

    For the copying modes the padded gradient is built for one slab of the
    batch at a time (a few cache-sized chunks per thread), so only a slab's
    padded gradient is ever held besides the result.
    """
    if padding_mode == "zeros":
        return correlate_input_grad(dout, weight, geom, groups, interior_only=True)
    n, c = dout.shape[0], weight.shape[1] * groups
    item_bytes = c * geom.padded_size[0] * geom.padded_size[1] * dout.itemsize
    step = max(1, settings.column_chunk_bytes * max(2, worker_count()) // item_bytes)
    dx = np.empty((n, c) + geom.in_size, dtype=dout.dtype)
    for start in range(0, n, step):
        slab = slice(start, min(n, start + step))
        dpadded = correlate_input_grad(dout[slab], weight, geom, groups)
        dx[slab] = unpad_gradient(dpadded, geom.pads, geom.in_size, padding_mode)
    return dx
