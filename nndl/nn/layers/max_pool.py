"""``MaxPool2d``: the maximum of every window (kernels: ``max_pool2d_forward`` / ``max_pool2d_backward``)."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import sliding_window
from nndl.nn.core.module import Module
from nndl.nn.functional._pool_geometry import pool_arguments, pool_geometry


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
        self.kernel_size, self.stride, self.padding, self.dilation = pool_arguments(
            kernel_size, stride, padding, dilation, "MaxPool2d")
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)
        self._cache = None

    def _geometry(self, shape):
        return pool_geometry(shape, self.kernel_size, self.stride, self.padding, self.dilation, self.describe(),
                             self.ceil_mode)

    def forward(self, x):
        x = self._check_input(x)
        self._geometry(x.shape)  # a bad input is reported with this layer's name
        k = kernels()
        # In evaluation mode nothing will be differentiated: the kernel may skip the winning-tap bookkeeping.
        out, cache = k.max_pool2d_forward(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                          self.ceil_mode, track_argmax=self.training or self.return_indices)
        self._cache = (k, cache)
        if self.return_indices:
            return out, k.max_pool2d_indices(cache)
        return out

    def backward(self, dout):
        if isinstance(dout, tuple):
            dout = dout[0]
        k, cache = self._saved()
        return k.max_pool2d_backward(dout, cache)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._geometry(tuple(input_shape)).out_size

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: pooling has no weights (comparisons are not multiply-accumulates)."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """The dilated kernel sliding with the stride."""
        return sliding_window(self.kernel_size, self.stride, self.dilation)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.return_indices:
            text += ", return_indices=True"
        if self.ceil_mode:
            text += ", ceil_mode=True"
        return text
