"""Shape-only layers: ``Flatten`` and ``Identity``."""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.core.facts import ELEMENTWISE, global_window
from nndl.nn.core.module import Module
from nndl.nn._fast.windows import channels_last_block, is_channels_last


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one, as ``torch.nn.Flatten``.

    The default turns ``(N, C, H, W)`` into ``(N, C·H·W)``. Backward reshapes
    the gradient back to the input shape (flattening is a relabelling of
    entries, its Jacobian is a permutation-free identity), stored
    channels-last when the input was (:func:`nndl.nn._fast.windows.is_channels_last`),
    so the layers below keep reading one layout.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1, dtype=np.float32):
        super().__init__(dtype)
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)
        self._cache = None

    def _flat_shape(self, shape):
        ndim = len(shape)
        start = self.start_dim % ndim if ndim else 0
        end = self.end_dim % ndim if ndim else 0
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            raise ValueError(
                f"{self.describe()}: cannot flatten axes {self.start_dim}..{self.end_dim} of shape {tuple(shape)}")
        return tuple(shape[:start]) + (math.prod(shape[start:end + 1]),) + tuple(shape[end + 1:])

    def forward(self, x):
        x = self._check_input(x)
        self._cache = (x.shape, is_channels_last(x))
        return x.reshape(self._flat_shape(x.shape))

    def backward(self, dout):
        shape, channels_last = self._saved()
        dx = dout.reshape(shape)
        return channels_last_block(dx).transpose(0, 3, 1, 2) if channels_last else dx

    def output_shape(self, input_shape):
        return self._flat_shape(tuple(input_shape))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: a relabelling of entries."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """The whole map once the spatial axes are merged; element-wise otherwise."""
        spatial_merged = len(input_shape) == 4 and len(output_shape) < 4
        return global_window(tuple(input_shape)) if spatial_merged else ELEMENTWISE


class Identity(Module):
    """``y = x``; gradient passes through unchanged. A placeholder in containers."""

    def forward(self, x):
        return self._check_input(x)

    def backward(self, dout):
        return dout

    def output_shape(self, input_shape):
        return tuple(input_shape)

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise."""
        return ELEMENTWISE
