"""Reference kernels: 2-D convolution and transposed convolution, written as the notes' formulas.

Like every deep-learning library (and as the notes remark), a convolution
layer computes a *cross-correlation*: the kernel slides over the image
without being flipped,

.. math::
    z[n, f, h, w] = b_f + \\sum_{c, i, j} W[f, c, i, j] \\; a[n, c, h s_h + i d_h, w s_w + j d_w]

(``a`` is the padded input, ``s`` the stride, ``d`` the dilation; with
``groups = G`` filter ``f`` only sees the ``C/G`` input channels of its
group). A flipped kernel would learn the same weights mirrored, so nothing
is lost. The transposed convolution is the same sum read the other way: its
forward pass is the convolution's input gradient.

Each kernel pads, takes a window *view* of the padded image (no copy) and
contracts it with the weight, one ``einsum`` per group. Outputs are
C-contiguous NCHW arrays, whatever the layout of the input.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nndl.nn.functional._geometry import (WindowGeometry, conv2d_geometry, conv_transpose2d_geometry,
                                          pad_sources)

__all__ = ["conv2d_forward", "conv2d_backward", "conv_transpose2d_forward", "conv_transpose2d_backward"]


# ---------------------------------------------------------------------- helpers
def pad(x: np.ndarray, pads, mode: str = "zeros") -> np.ndarray:
    """``a``: ``x`` padded by ``pads = (top, bottom, left, right)`` in a PyTorch ``padding_mode``.

    ``'zeros'`` fills the border with 0; the other modes copy input pixels:
    padded pixel ``(r, q)`` is ``x[rows[r], cols[q]]`` (:func:`pad_sources`).
    """
    top, bottom, left, right = pads
    if mode == "zeros":
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    rows, cols = pad_sources(x.shape[2], x.shape[3], pads, mode)
    return x[:, :, rows[:, None], cols[None, :]]


def unpad(da: np.ndarray, geom: WindowGeometry, mode: str = "zeros") -> np.ndarray:
    """∂L/∂x from ∂L/∂a: the adjoint of :func:`pad`.

    Zero padding drops the border's gradient. The other modes made padded
    pixel ``(r, q)`` a copy of ``x[rows[r], cols[q]]``, so its gradient is
    added back onto that pixel (several padded pixels may share one source).
    """
    top, _, left, _ = geom.pads
    h, w = geom.in_size
    if mode == "zeros":
        return da[:, :, top:top + h, left:left + w].copy()
    rows, cols = pad_sources(h, w, geom.pads, mode)
    dx = np.zeros(da.shape[:2] + (h, w), dtype=da.dtype)
    np.add.at(dx, (slice(None), slice(None), rows[:, None], cols[None, :]), da)
    return dx


def window_view(a: np.ndarray, geom: WindowGeometry) -> np.ndarray:
    """Read-only view ``(N, C, H_out, W_out, kh, kw)`` of every window of the padded ``a`` (no copy).

    ``view[n, c, h, w, i, j] = a[n, c, h s_h + i d_h, w s_w + j d_w]``: every
    window of the dilated kernel's span, then every ``s``-th window and
    every ``d``-th tap of each.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(a, span, axis=(2, 3))
    return windows[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :ho, :wo]


def group_slices(groups: int, channels: int, filters: int):
    """``(channels of group g, filters of group g)`` as two slices, for ``g = 0 .. groups − 1``."""
    c, f = channels // groups, filters // groups
    return [(slice(g * c, (g + 1) * c), slice(g * f, (g + 1) * f)) for g in range(groups)]


# ---------------------------------------------------------------------- convolution
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
        ``'same'``: ``H_out = ⌈H/s⌉`` with the least padding, the odd pixel
        at the bottom/right (TensorFlow's rule; PyTorch's for stride 1).
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
    geom = conv2d_geometry(x.shape, weight.shape, stride, padding, dilation, groups, padding_mode, "conv2d_forward")
    a = pad(x, geom.pads, padding_mode)
    windows = window_view(a, geom)  # windows[n, c, h, w, i, j] = a[n, c, h s + i d, w s + j d]
    f = weight.shape[0]
    z = np.empty((x.shape[0], f) + geom.out_size, dtype=x.dtype)
    for channels, filters in group_slices(groups, x.shape[1], f):
        # z[n, f, h, w] = Σ_{c,i,j} W[f, c, i, j] a[n, c, h s + i d, w s + j d]
        z[:, filters] = np.einsum("fcij,nchwij->nfhw", weight[filters], windows[:, channels], optimize=True)
    if bias is not None:
        z += bias.reshape(f, 1, 1)
    return z, (a, weight, geom, groups, padding_mode, bias is not None)


def conv2d_backward(dout: np.ndarray, cache, need_input_grad: bool = True, need_weight_grad: bool = True):
    """Gradients of the cross-correlation, with ``δ = ∂L/∂z`` (``dout``).

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    cache : tuple from :func:`conv2d_forward`
    need_input_grad : bool
        ``False`` skips ∂L/∂x (returned as None), e.g. for a first layer.
    need_weight_grad : bool
        ``False`` skips ∂L/∂W and ∂L/∂b (returned as None), e.g. for a frozen layer.

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

    The last line scatters each window's ``Wᵀ δ`` back onto the pixels it
    read (overlapping windows add up); the padding border's share is then
    dropped (zero padding) or added back onto the pixels it copied.
    """
    a, weight, geom, groups, padding_mode, has_bias = cache
    windows = window_view(a, geom)
    f = weight.shape[0]
    slices = group_slices(groups, a.shape[1], f)
    dweight = dbias = dx = None
    if need_weight_grad:
        dweight = np.empty(weight.shape, dtype=weight.dtype)
        for channels, filters in slices:
            # ∂L/∂W[f, c, i, j] = Σ_{n,h,w} δ[n, f, h, w] a[n, c, h s + i d, w s + j d]
            dweight[filters] = np.einsum("nfhw,nchwij->fcij", dout[:, filters], windows[:, channels],
                                         optimize=True)
        dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None  # ∂L/∂b_f = Σ_{n,h,w} δ[n, f, h, w]
    if need_input_grad:
        da = np.zeros(a.shape, dtype=a.dtype)
        for channels, filters in slices:
            # (Wᵀ δ)[n, c, i, j, h, w] = Σ_f W[f, c, i, j] δ[n, f, h, w]: what tap (i, j) of window (h, w) owes
            owed = np.einsum("fcij,nfhw->ncijhw", weight[filters], dout[:, filters], optimize=True)
            for i in range(geom.kernel[0]):
                for j in range(geom.kernel[1]):
                    rows, cols = geom.tap_slices(i, j)  # rows h s + i d, columns w s + j d
                    da[:, channels, rows, cols] += owed[:, :, i, j]
        dx = unpad(da, geom, padding_mode)
    return dx, dweight, dbias


# ---------------------------------------------------------------------- transposed convolution
def conv_transpose2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                             output_padding=0, groups: int = 1, dilation=1):
    """Transposed 2-D convolution ``y = Wᵀ x + b``: the adjoint of ``conv2d_forward`` in its input.

    Each input pixel scatters a ``kh × kw`` copy of its kernel, scaled by
    its value, onto an output ``s`` times larger; overlapping copies add up.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_in, C_out/groups, kh, kw)  (PyTorch's layout)
    bias : ndarray, shape (C_out,), or None
    stride, padding, output_padding, dilation : int or pair
        ``padding`` crops rows/columns from each border of the full output;
        ``output_padding`` adds rows/columns at the bottom/right.
    groups : int

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out), ``H_out = (H − 1)s − 2p + d(kh − 1) + p_out + 1``
    cache : tuple for :func:`conv_transpose2d_backward`

    Notes
    -----
    .. math::
        y_{full}[n, o, h s_h + i d_h, w s_w + j d_w] \\mathrel{+}= \\sum_c W[c, o, i, j] \\, x[n, c, h, w]

    then ``y = y_full`` without its ``p`` border rows/columns, ``+ b_o``.
    """
    geom = conv_transpose2d_geometry(x.shape, weight.shape, stride, padding, output_padding, dilation, groups,
                                     "conv_transpose2d_forward")
    # ``geom`` is the adjoint convolution's: its padded input is the full output, its windows sit on x's pixels.
    c_out = weight.shape[1] * groups
    full = np.zeros((x.shape[0], c_out) + geom.padded_size, dtype=x.dtype)
    for channels, outputs in group_slices(groups, x.shape[1], c_out):
        # (Wᵀ x)[n, o, i, j, h, w] = Σ_c W[c, o, i, j] x[n, c, h, w]: input pixel (h, w)'s scaled kernel copy
        copies = np.einsum("coij,nchw->noijhw", weight[channels], x[:, channels], optimize=True)
        for i in range(geom.kernel[0]):
            for j in range(geom.kernel[1]):
                rows, cols = geom.tap_slices(i, j)  # rows h s + i d, columns w s + j d
                full[:, outputs, rows, cols] += copies[:, :, i, j]
    top, _, left, _ = geom.pads
    (h_out, w_out) = geom.in_size
    y = full[:, :, top:top + h_out, left:left + w_out].copy()
    if bias is not None:
        y += bias.reshape(-1, 1, 1)
    return y, (x, weight, geom, groups, bias is not None)


def conv_transpose2d_backward(dout: np.ndarray, cache, need_input_grad: bool = True, need_weight_grad: bool = True):
    """Gradients of the transposed convolution, with ``δ = ∂L/∂y`` (``dout``).

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
    cache : tuple from :func:`conv_transpose2d_forward`
    need_input_grad, need_weight_grad : bool
        ``False`` skips ∂L/∂x, or ∂L/∂W and ∂L/∂b (returned as None).

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W), or None
    dweight : ndarray, shape (C_in, C_out/groups, kh, kw), or None
    dbias : ndarray, shape (C_out,), or None

    Notes
    -----
    With ``δ_full`` the gradient padded back to the full output (zeros where
    the crop dropped positions), every output position the forward pass
    wrote to is read back:

    .. math::
        ∂L/∂x[n, c, h, w] = \\sum_{o, i, j} W[c, o, i, j] \\, δ_{full}[n, o, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂W[c, o, i, j] = \\sum_{n, h, w} x[n, c, h, w] \\, δ_{full}[n, o, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂b_o = \\sum_{n, y, x} δ[n, o, y, x]

    so ∂L/∂x is the convolution's forward product applied to δ.
    """
    x, weight, geom, groups, has_bias = cache
    top, bottom, left, right = geom.pads
    delta_full = np.pad(dout, ((0, 0), (0, 0), (top, bottom), (left, right)))
    windows = window_view(delta_full, geom)  # windows[n, o, h, w, i, j] = δ_full[n, o, h s + i d, w s + j d]
    slices = group_slices(groups, x.shape[1], dout.shape[1])
    dx = dweight = dbias = None
    if need_input_grad:
        dx = np.empty(x.shape, dtype=x.dtype)
        for channels, outputs in slices:
            # ∂L/∂x[n, c, h, w] = Σ_{o,i,j} W[c, o, i, j] δ_full[n, o, h s + i d, w s + j d]
            dx[:, channels] = np.einsum("coij,nohwij->nchw", weight[channels], windows[:, outputs], optimize=True)
    if need_weight_grad:
        dweight = np.empty(weight.shape, dtype=weight.dtype)
        for channels, outputs in slices:
            # ∂L/∂W[c, o, i, j] = Σ_{n,h,w} x[n, c, h, w] δ_full[n, o, h s + i d, w s + j d]
            dweight[channels] = np.einsum("nchw,nohwij->coij", x[:, channels], windows[:, outputs], optimize=True)
        dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None  # ∂L/∂b_o = Σ_{n,y,x} δ[n, o, y, x]
    return dx, dweight, dbias
