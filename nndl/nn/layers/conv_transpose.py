"""Transposed convolution (the notes' "upscale method"): kernels and ``ConvTranspose2d``.

A transposed convolution is the adjoint of ``Conv2d`` with respect to its
input: for the convolution ``z = W ⋆ y`` (``C_out → C_in`` channels, the
same stride, padding, dilation and groups) it computes ``y = Wᵀ z``, i.e.
exactly the input gradient ``conv2d_backward`` computes. Each input pixel
scatters a ``kh × kw`` copy of the kernel, scaled by its value, onto an
output ``s`` times larger, overlapping copies adding up. So

- forward  = the convolution's input gradient (``col2im(Wᵀ x)``),
- ∂L/∂x    = the convolution's forward product applied to δ,
- ∂L/∂W    = the convolution's weight gradient with the roles of input and
  δ swapped,

and the kernels below reuse those of ``nndl.nn.layers.conv``. The output size is

.. math::
    H_{out} = (H − 1) s − 2p + d (k − 1) + p_{out} + 1

(the notes' ``s(n − 1) + f − 2p`` with dilation and ``output_padding``,
which picks among the ``s`` input sizes a stride-``s`` convolution maps to
``H``).
"""

from __future__ import annotations

import numpy as np

from nndl.nn.layers.conv import _check_channels, conv_extra_repr, correlate, correlate_input_grad, correlate_weight_grad
from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter
from nndl.nn._fast.windows import WindowGeometry, as_pair, pad_images


def conv_transpose_geometry(x_shape, weight_shape, stride, padding, output_padding, dilation, groups: int,
                            owner: str) -> WindowGeometry:
    """Check an NCHW input against a ``(C_in, C_out/groups, kh, kw)`` weight.

    Returns the geometry of the *adjoint convolution*, whose input is this
    layer's output: ``in_size`` is ``(H_out, W_out)`` and ``out_size`` this
    layer's input size ``(H, W)``.
    """
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    if x_shape[1] != weight_shape[0]:
        raise ValueError(f"{owner}: expected input of shape (N, {weight_shape[0]}, H, W), got {tuple(x_shape)}")
    kernel = tuple(weight_shape[2:])
    size = tuple((x_shape[2 + a] - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1)
                 + output_padding[a] + 1 for a in (0, 1))
    if min(size) < 1:
        raise ValueError(f"{owner}: input of shape {tuple(x_shape)} gives an empty output {size}: the padding "
                         f"{padding} crops more than the (dilated) kernel adds")
    pads = (padding[0], padding[0], padding[1], padding[1])
    # Built directly: with output_padding >= stride (allowed when the dilation
    # is larger) the size formula run backwards would give one window more.
    return WindowGeometry(kernel, tuple(stride), tuple(dilation), pads, size, tuple(x_shape[2:]))


def _check_output_padding(output_padding, stride, dilation, owner: str):
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(f"{owner}: output_padding {output_padding} must be smaller than the stride {stride} "
                             f"or the dilation {dilation}")


def conv_transpose2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                             output_padding=0, groups: int = 1, dilation=1):
    """Transposed 2-D convolution ``y = Wᵀ x + b`` (the adjoint of ``conv2d_forward`` in its input).

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_in, C_out/groups, kh, kw)  (PyTorch's layout)
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
    owner = "conv_transpose2d_forward"
    stride, dilation = as_pair(stride, "stride", owner), as_pair(dilation, "dilation", owner)
    padding = as_pair(padding, "padding", owner, minimum=0)
    output_padding = as_pair(output_padding, "output_padding", owner, minimum=0)
    _check_output_padding(output_padding, stride, dilation, owner)
    geom = conv_transpose_geometry(x.shape, weight.shape, stride, padding, output_padding, dilation, groups, owner)
    return _forward(x, weight, bias, geom, groups)


def _forward(x, weight, bias, geom: WindowGeometry, groups: int):
    # The full output is the adjoint convolution's padded input; ``padding`` crops its border.
    out = correlate_input_grad(x, weight, geom, groups, interior_only=True)
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out, (x, weight, geom, groups, bias is not None)


def conv_transpose2d_backward(dout: np.ndarray, cache):
    """Gradients of the transposed convolution, with δ = ∂L/∂y (``dout``).

    Because ``y = Wᵀ x`` is linear in ``x`` and ``⟨δ, Wᵀ x⟩ = ⟨W ⋆ δ, x⟩``:

    .. math::
        ∂L/∂x = W ⋆ δ  \\quad (\\text{the convolution's forward product on } δ)

        ∂L/∂W[c, o, i, j] = \\sum_{n, h, w} x[n, c, h, w] \\, δ_{pad}[n, o, h s_h + i d_h, w s_w + j d_w]

        ∂L/∂b_o = \\sum_{n, y, x} δ[n, o, y, x]

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dweight : ndarray, shape (C_in, C_out/groups, kh, kw)
    dbias : ndarray, shape (C_out,), or None
    """
    x, weight, geom, groups, has_bias = cache
    dpadded = pad_images(dout, geom.pads)
    dx = correlate(dpadded, weight, geom, groups)
    dweight = correlate_weight_grad(dpadded, x, geom, groups)
    dbias = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dweight, dbias


class ConvTranspose2d(Module):
    """Transposed 2-D convolution, as ``torch.nn.ConvTranspose2d``: the gradient of ``Conv2d`` w.r.t. its input.

    Parameters
    ----------
    in_channels, out_channels : int
        Both divisible by ``groups``.
    kernel_size, stride, dilation : int or pair
    padding : int or pair
        Rows/columns cropped from each border of the full output.
    output_padding : int or pair
        Extra rows/columns at the bottom/right (smaller than the stride or
        the dilation): picks which of the input sizes a strided convolution
        would map to ``H`` this layer should reproduce.
    groups : int
    bias : bool
    init : str or callable
        As ``Conv2d``; fan-in is computed from the weight's shape as PyTorch
        does (``C_out/groups · kh · kw``).
    rng : Generator, int or None
    dtype : float32 or float64

    Shapes
    ------
    input (N, C_in, H, W) -> output (N, C_out, H_out, W_out) with
    ``H_out = (H − 1)s − 2p + d(k − 1) + output_padding + 1``. State dict:
    ``weight`` (C_in, C_out/groups, kh, kw), ``bias`` (C_out,).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, init="he_uniform", rng=None, dtype=np.float32):
        super().__init__(dtype)
        owner = "ConvTranspose2d"
        self.in_channels, self.out_channels, self.groups = _check_channels(in_channels, out_channels, groups, owner)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.stride = as_pair(stride, "stride", owner)
        self.padding = as_pair(padding, "padding", owner, minimum=0)
        self.output_padding = as_pair(output_padding, "output_padding", owner, minimum=0)
        self.dilation = as_pair(dilation, "dilation", owner)
        _check_output_padding(self.output_padding, self.stride, self.dilation, owner)
        weight_shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        weight, bias_value = init_weight_and_bias(init, weight_shape, (self.out_channels,) if bias else None, rng,
                                                  self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        return conv_transpose_geometry(tuple(shape), self.weight.shape, self.stride, self.padding,
                                       self.output_padding, self.dilation, self.groups, self.describe())

    splits_batch = True  # networks holding it compute with nndl's threads (nndl.nn._fast.parallel)

    def forward(self, x):
        x = self._check_input(x, match_dtype=True)
        geom = self._geometry(x.shape)
        out, self._cache = _forward(x, self.weight.data, None if self.bias is None else self.bias.data, geom,
                                    self.groups)
        return out

    def backward(self, dout):
        x, weight, geom, groups, has_bias = self._saved()
        expected = (x.shape[0], self.out_channels) + geom.in_size
        if dout.shape != expected:
            raise ValueError(f"{self.describe()}: expected a gradient of shape {expected}, got {dout.shape}")
        dpadded = pad_images(dout, geom.pads)
        if self.weight.requires_grad:
            self.weight.accumulate_grad(correlate_weight_grad(dpadded, x, geom, groups))
        if self.bias is not None:
            self.bias.accumulate_grad(dout.sum(axis=(0, 2, 3)))
        return correlate(dpadded, weight, geom, groups)

    def output_shape(self, input_shape):
        return (input_shape[0], self.out_channels) + self._geometry(tuple(input_shape)).in_size

    def extra_repr(self) -> str:
        return conv_extra_repr(self)
