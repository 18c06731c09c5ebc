"""Fast transposed 2-D convolution pair (:mod:`nndl.nn.functional.conv`'s ``conv_transpose2d_*``, for speed).

A transposed convolution is the adjoint of the convolution ``z = W ⋆ y``
(``C_out → C_in`` channels, same stride, padding, dilation and groups) in
its input, so the fast convolution products serve both ways:

- forward  = the convolution's input gradient (``col2im(Wᵀ x)``),
- ∂L/∂x    = the convolution's forward product applied to δ,
- ∂L/∂W    = the convolution's weight gradient with the roles of input and
  δ swapped.
"""

from __future__ import annotations

import numpy as np

from nndl.nn._fast.col2im import correlate_input_grad
from nndl.nn._fast.correlate import correlate, correlate_weight_grad
from nndl.nn.functional._geometry import conv_transpose2d_geometry

__all__ = ["conv_transpose2d_forward", "conv_transpose2d_backward"]


def conv_transpose2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                             output_padding=0, groups: int = 1, dilation=1):
    """Transposed 2-D convolution ``y = Wᵀ x + b`` (fast; see :func:`nndl.nn.functional.conv_transpose2d_forward`).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W), NCHW or channels-last
    weight : ndarray, shape (C_in, C_out/groups, kh, kw)
    bias : ndarray, shape (C_out,), or None
    stride, padding, output_padding, dilation : int or pair
    groups : int

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out), ``H_out = (H − 1)s − 2p + d(kh − 1) + p_out + 1``
    cache : tuple for :func:`conv_transpose2d_backward`

    Notes
    -----
    .. math::
        y[n, o, h s_h + i d_h − p_h, w s_w + j d_w − p_w] \\mathrel{+}= \\sum_c W[c, o, i, j] \\, x[n, c, h, w]

    (positions falling in the cropped border are dropped), then ``+ b_o``.
    """
    geom = conv_transpose2d_geometry(x.shape, weight.shape, stride, padding, output_padding, dilation, groups,
                                     "conv_transpose2d_forward")
    # The full output is the adjoint convolution's padded input; ``padding`` crops its border.
    out = correlate_input_grad(x, weight, geom, groups, interior_only=True)
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out, (x, weight, geom, groups, bias is not None)


def conv_transpose2d_backward(dout: np.ndarray, cache, need_input_grad: bool = True, need_weight_grad: bool = True):
    """Gradients of the transposed convolution, δ = ∂L/∂y (the fast twin of the reference pair's backward).

    .. math::
        ∂L/∂x = W ⋆ δ  \\quad (\\text{the convolution's forward product on } δ)

        ∂L/∂W[c, o, i, j] = \\sum_{n, h, w} x[n, c, h, w] \\, δ_{pad}[n, o, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂b_o = \\sum_{n, y, x} δ[n, o, y, x]

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W), or None
    dweight : ndarray, shape (C_in, C_out/groups, kh, kw), or None
    dbias : ndarray, shape (C_out,), or None
    """
    x, weight, geom, groups, has_bias = cache
    dx = dweight = dbias = None
    # δ is zero-padded by the adjoint convolution's padding one cache-sized chunk at a time (pad=True).
    if need_input_grad:
        dx = correlate(dout, weight, geom, groups, pad=True)
    if need_weight_grad:
        dweight = correlate_weight_grad(dout, x, geom, groups, pad=True)
        dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dweight, dbias
