"""Transposed convolution (the notes' "upscale method"): the ``ConvTranspose2d`` layer.

A transposed convolution is the adjoint of ``Conv2d`` with respect to its
input: for the convolution ``z = W ⋆ y`` (``C_out → C_in`` channels, the
same stride, padding, dilation and groups) it computes ``y = Wᵀ z``. Each
input pixel scatters a ``kh × kw`` copy of the kernel, scaled by its value,
onto an output ``s`` times larger, overlapping copies adding up. The output
size is

.. math::
    H_{out} = (H − 1) s − 2p + d (k − 1) + p_{out} + 1

(the notes' ``s(n − 1) + f − 2p`` with dilation and ``output_padding``,
which picks among the ``s`` input sizes a stride-``s`` convolution maps to
``H``). The layer computes with the active kernel set: the readable pair
:func:`nndl.nn.functional.conv_transpose2d_forward` /
:func:`~nndl.nn.functional.conv_transpose2d_backward`, or its fast twin in
:mod:`nndl.nn._fast.conv_transpose`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.init import init_weight_and_bias
from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import per_sample, upsampling_window
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter
from nndl.nn.functional._geometry import WindowGeometry, as_pair, check_channels, check_output_padding, \
    conv_transpose_geometry
from nndl.nn.layers.conv import conv_extra_repr


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
        self.in_channels, self.out_channels, self.groups = check_channels(in_channels, out_channels, groups, owner)
        self.kernel_size = as_pair(kernel_size, "kernel_size", owner)
        self.stride = as_pair(stride, "stride", owner)
        self.padding = as_pair(padding, "padding", owner, minimum=0)
        self.output_padding = as_pair(output_padding, "output_padding", owner, minimum=0)
        self.dilation = as_pair(dilation, "dilation", owner)
        check_output_padding(self.output_padding, self.stride, self.dilation, owner)
        weight_shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        weight, bias_value = init_weight_and_bias(init, weight_shape, (self.out_channels,) if bias else None, rng,
                                                  self.dtype)
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias else None
        self._cache = None

    def _geometry(self, shape) -> WindowGeometry:
        return conv_transpose_geometry(tuple(shape), self.weight.shape, self.stride, self.padding,
                                       self.output_padding, self.dilation, self.groups, self.describe())

    can_skip_input_grad = True
    splits_batch = True  # networks holding it compute with nndl's threads (nndl.nn._fast.parallel)

    def forward(self, x):
        x = self._check_input(x, match_dtype=True)
        self._geometry(x.shape)  # a wrong shape is reported with this layer's name
        k = kernels()
        out, cache = k.conv_transpose2d_forward(x, self.weight.data, None if self.bias is None else self.bias.data,
                                                self.stride, self.padding, self.output_padding, self.groups,
                                                self.dilation)
        self._cache = (k, cache, out.shape)
        return out

    def backward(self, dout, need_input_grad: bool = True):
        k, cache, out_shape = self._saved()
        if dout.shape != out_shape:
            raise ValueError(f"{self.describe()}: expected a gradient of shape {out_shape}, got {dout.shape}")
        trainable = any(p.requires_grad for p in self.parameters())
        dx, dweight, dbias = k.conv_transpose2d_backward(dout, cache, need_input_grad=need_input_grad,
                                                         need_weight_grad=trainable)
        if trainable:
            self.weight.accumulate_grad(dweight)
            if self.bias is not None:
                self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        return (input_shape[0], self.out_channels) + self._geometry(tuple(input_shape)).in_size

    def extra_repr(self) -> str:
        return conv_extra_repr(self)

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """``C_in · H_in · W_in · (C_out/groups) · k_h · k_w``: every input pixel scatters one kernel per output channel."""
        kh, kw = self.kernel_size
        return per_sample(input_shape) * (self.out_channels // self.groups) * kh * kw

    def receptive_window(self, input_shape, output_shape):
        """Step ``1/stride``; one output sees at most ``⌈k/stride⌉`` inputs of the dilated kernel."""
        dilated = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
        return upsampling_window(dilated, self.stride)
