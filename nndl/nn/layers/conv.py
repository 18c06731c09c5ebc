"""2-D convolution layer ``Conv2d``: parameters and shapes here, the arithmetic in the kernels.

Like every deep-learning library (and as the notes remark), the layer
computes a *cross-correlation*: the kernel is slid over the image without
being flipped,

.. math::
    z[n, f, h, w] = b_f + \\sum_{c, i, j} W[f, c, i, j] \\; a[n, c, h s_h + i d_h, w s_w + j d_w]

(``a`` is the padded input, ``s`` the stride, ``d`` the dilation; with
``groups = G`` filter ``f`` only sees the ``C/G`` input channels of its group).
A flipped kernel would learn the same weights mirrored, so nothing is lost.

The layer computes with the active kernel set (:func:`nndl.nn.core.kernels.kernels`):
the readable pair :func:`nndl.nn.functional.conv2d_forward` /
:func:`~nndl.nn.functional.conv2d_backward`, or its fast twin in
:mod:`nndl.nn._fast.conv` (im2col chunks, channels-last rows, threads).
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import per_sample, sliding_window
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter
from nndl.nn.functional._geometry import (WindowGeometry, as_pair, check_channels, check_padding_mode, conv_geometry,
                                          resolve_padding)


class Conv2d(Module):
    """2-D convolution layer (a cross-correlation, as in every library; see the module docstring).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and the number of filters ``F``; both divisible by ``groups``.
    kernel_size, stride, dilation : int or pair
    padding : int, pair, 'same' or 'valid'
        ``'same'`` gives ``H_out = ⌈H/s⌉`` (``H`` itself for stride 1), the
        odd pixel of padding at the bottom/right, as TensorFlow and PyTorch.
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
        self.in_channels, self.out_channels, self.groups = check_channels(in_channels, out_channels, groups, owner)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.stride = as_pair(stride, "stride", owner)
        self.dilation = as_pair(dilation, "dilation", owner)
        self.padding = padding if isinstance(padding, str) else as_pair(padding, "padding", owner, minimum=0)
        self._pads = resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation, owner)
        self.padding_mode = check_padding_mode(padding_mode, owner)
        weight_shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        weight, bias_value = init_weight_and_bias(init, weight_shape, (self.out_channels,) if bias else None, rng,
                                                  self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        pads = self._pads
        if pads is None and len(shape) == 4:  # 'same' with a stride: the padding depends on the input size
            pads = resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation, self.describe(),
                                   in_size=tuple(shape[2:]))
        return conv_geometry(tuple(shape), self.weight.shape, self.stride, pads, self.dilation, self.groups,
                             self.describe())

    can_skip_input_grad = True
    splits_batch = True  # networks holding it compute with nndl's threads (nndl.nn._fast.parallel)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, match_dtype=True)
        self._geometry(x.shape)  # a wrong shape is reported with this layer's name
        k = kernels()
        out, cache = k.conv2d_forward(x, self.weight.data, None if self.bias is None else self.bias.data,
                                      self.stride, self.padding, self.dilation, self.groups, self.padding_mode)
        self._cache = (k, cache, out.shape)
        return out

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        k, cache, out_shape = self._saved()
        if dout.shape != out_shape:
            raise ValueError(f"{self.describe()}: expected a gradient of shape {out_shape}, got {dout.shape}")
        trainable = any(p.requires_grad for p in self.parameters())
        dx, dweight, dbias = k.conv2d_backward(dout, cache, need_input_grad=need_input_grad,
                                               need_weight_grad=trainable)
        if trainable:
            self.weight.accumulate_grad(dweight)
            if self.bias is not None:
                self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        geom = self._geometry(input_shape)
        return (input_shape[0], self.out_channels) + geom.out_size

    def extra_repr(self) -> str:
        return conv_extra_repr(self)

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """``F · H_out · W_out · (C_in/groups) · k_h · k_w``: one product per weight per output position."""
        kh, kw = self.kernel_size
        return per_sample(output_shape) * (self.in_channels // self.groups) * kh * kw

    def receptive_window(self, input_shape, output_shape):
        """The dilated kernel ``d(k − 1) + 1`` sliding with the stride."""
        return sliding_window(self.kernel_size, self.stride, self.dilation)


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
