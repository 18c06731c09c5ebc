"""``AdaptiveAvgPool2d`` (average to a fixed output size) and ``GlobalAvgPool2d`` (one mean per channel)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from nndl.nn.core.facts import global_window, spatial_size
from nndl.nn.core.kernels import kernels
from nndl.nn.core.module import Module
from nndl.nn.functional._pool_geometry import adaptive_output_size, adaptive_sizes


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, as ``torch.nn.AdaptiveAvgPool2d``.

    Output ``(i, j)`` is the mean of the input rows ``[⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉)``
    and columns ``[⌊jW/W_out⌋, ⌈(j+1)W/W_out⌉)`` (kernels:
    ``adaptive_avg_pool2d_forward`` / ``adaptive_avg_pool2d_backward``).

    Parameters
    ----------
    output_size : int, pair (entries may be None = keep that input size)

    Shapes
    ------
    (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, output_size, dtype=np.float32):
        super().__init__(dtype)
        self.output_size = adaptive_output_size(output_size, "AdaptiveAvgPool2d")
        self._cache = None

    def forward(self, x):
        x = self._check_input(x)
        adaptive_sizes(x.shape, self.output_size, self.describe())  # a bad input is reported with this layer's name
        k = kernels()
        out, cache = k.adaptive_avg_pool2d_forward(x, self.output_size)
        self._cache = (k, cache)
        return out

    def backward(self, dout):
        k, cache = self._saved()
        return k.adaptive_avg_pool2d_backward(dout, cache)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + adaptive_sizes(tuple(input_shape), self.output_size, self.describe())

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: averaging has no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """``n_in/n_out`` per axis when it divides; else the widest bin with a fractional step."""
        window = []
        for n_in, n_out in zip(spatial_size(tuple(input_shape)), spatial_size(tuple(output_shape))):
            if n_in % n_out == 0:
                window.append((n_in // n_out, Fraction(n_in // n_out)))
            else:  # overlapping bins
                widest = max(-(-((i + 1) * n_in) // n_out) - (i * n_in) // n_out for i in range(n_out))
                window.append((widest, Fraction(n_in, n_out)))
        return tuple(window)


class GlobalAvgPool2d(Module):
    """Mean of each channel over all positions: ``(N, C, H, W) -> (N, C)``.

    The output drops the spatial axes (it feeds a ``Linear`` directly, as in
    GoogLeNet and ResNet heads); ``AdaptiveAvgPool2d(1)`` is the same
    average keeping shape ``(N, C, 1, 1)``. Gradient: ``∂L/∂a[n, c, h, w] = δ[n, c] / (H W)``
    (kernels: ``global_avg_pool2d_forward`` / ``global_avg_pool2d_backward``).
    """

    def __init__(self, dtype=np.float32):
        super().__init__(dtype)
        self._cache = None

    def _check_shape(self, shape) -> None:
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")

    def forward(self, x):
        x = self._check_input(x)
        self._check_shape(x.shape)
        k = kernels()
        out, cache = k.global_avg_pool2d_forward(x)
        self._cache = (k, cache)
        return out

    def backward(self, dout):
        k, cache = self._saved()
        return k.global_avg_pool2d_backward(dout, cache)

    def output_shape(self, input_shape):
        self._check_shape(input_shape)
        return tuple(input_shape[:2])

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: averaging has no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """The whole map."""
        return global_window(tuple(input_shape))
