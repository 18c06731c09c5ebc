"""``AvgPool2d``: the mean of every window (kernels: ``avg_pool2d_forward`` / ``avg_pool2d_backward``)."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import sliding_window
from nndl.nn.core.module import Module
from nndl.nn.functional._pool_geometry import pool_arguments, pool_geometry


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

    Notes
    -----
    Gradient: each window spreads its δ evenly, ``∂L/∂a[p] = Σ_{windows w ∋ p} δ[w] / D_w``.

    Shapes
    ------
    (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True, ceil_mode: bool = False,
                 dtype=np.float32):
        super().__init__(dtype)
        self.kernel_size, self.stride, self.padding, _ = pool_arguments(kernel_size, stride, padding, 1, "AvgPool2d")
        self.count_include_pad = bool(count_include_pad)
        self.ceil_mode = bool(ceil_mode)
        self._cache = None

    def _geometry(self, shape):
        return pool_geometry(shape, self.kernel_size, self.stride, self.padding, (1, 1), self.describe(),
                             self.ceil_mode)

    def forward(self, x):
        x = self._check_input(x)
        self._geometry(x.shape)  # a bad input is reported with this layer's name
        k = kernels()
        out, cache = k.avg_pool2d_forward(x, self.kernel_size, self.stride, self.padding, self.count_include_pad,
                                          self.ceil_mode)
        self._cache = (k, cache)
        return out

    def backward(self, dout):
        k, cache = self._saved()
        return k.avg_pool2d_backward(dout, cache)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._geometry(tuple(input_shape)).out_size

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: averaging has no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """The kernel sliding with the stride."""
        return sliding_window(self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if not self.count_include_pad:
            text += ", count_include_pad=False"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        return text
