"""Upsampling layers: ``MaxUnpool2d`` (the notes' unpooling) and nearest-neighbour ``Upsample``."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import upsampling_window
from nndl.nn.core.module import Module
from nndl.nn.functional._pool_geometry import check_unpool_indices, unpool_arguments, unpool_size, upsample_arguments


class MaxUnpool2d(Module):
    """Partial inverse of ``MaxPool2d``: put each pooled value back at its maximum's position, zeros elsewhere.

    ``forward(x, indices, output_size=None)`` takes the flat per-channel
    indices returned by ``MaxPool2d(..., return_indices=True)``, as
    ``torch.nn.MaxUnpool2d``. ``backward(dout)`` returns ∂L/∂x only (the
    indices are integers): ``∂L/∂x[n, c, k] = δ[n, c, indices[n, c, k]]``
    (kernels: ``max_unpool2d_forward`` / ``max_unpool2d_backward``).

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None
        Defaults to ``kernel_size``.
    padding : int or pair

    Notes
    -----
    The default output size inverts the pooling size formula,
    ``H_out = (H − 1)s − 2p + k``; pass ``output_size`` (``(H, W)`` or a
    full ``(N, C, H, W)``) when the pooled input's size was not a multiple
    of the stride. If two entries share an index (overlapping pools that
    chose the same maximum) one of the values is kept, as in PyTorch, and
    the gradient check no longer applies.

    Shapes
    ------
    x, indices (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dtype=np.float32):
        super().__init__(dtype)
        self.kernel_size, self.stride, self.padding = unpool_arguments(kernel_size, stride, padding, "MaxUnpool2d")
        self._cache = None

    def _target_size(self, shape, output_size):
        return unpool_size(shape, self.kernel_size, self.stride, self.padding, output_size, self.describe())

    def forward(self, x, indices=None, output_size=None):
        x = self._check_input(x)
        if indices is None:
            raise TypeError(f"{self.describe()}: forward needs the pooling indices: forward(x, indices)")
        indices = np.asarray(indices)
        # Bad arguments are reported with this layer's name before the kernel sees them.
        check_unpool_indices(x.shape, indices, self._target_size(x.shape, output_size), self.describe())
        k = kernels()
        out, cache = k.max_unpool2d_forward(x, indices, self.kernel_size, self.stride, self.padding, output_size)
        self._cache = (k, cache)
        return out

    def backward(self, dout):
        k, cache = self._saved()
        return k.max_unpool2d_backward(dout, cache)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._target_size(tuple(input_shape), None)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: values are placed, not multiplied."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Step ``1/stride``; one output comes from at most ``⌈k/stride⌉`` inputs."""
        return upsampling_window(self.kernel_size, self.stride)


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer factor, as ``torch.nn.Upsample(scale_factor=s)``.

    Every pixel becomes an ``s_h × s_w`` block of copies:
    ``out[n, c, y, x] = a[n, c, ⌊y/s_h⌋, ⌊x/s_w⌋]``. The gradient sums each
    block: ``∂L/∂a[n, c, h, w] = Σ_{block} δ`` (kernels: ``upsample_forward`` /
    ``upsample_backward``).

    Parameters
    ----------
    size : None
        Only ``scale_factor`` is supported; kept first for PyTorch's argument order.
    scale_factor : int or pair of ints
    mode : {'nearest'}

    Shapes
    ------
    (N, C, H, W) -> (N, C, s_h H, s_w W).
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", dtype=np.float32):
        super().__init__(dtype)
        if size is not None:
            raise ValueError("Upsample: only scale_factor is supported, not size; pass scale_factor=...")
        self.scale_factor = upsample_arguments(scale_factor, mode, "Upsample")
        self.mode = mode
        self._cache = None

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")

    def forward(self, x):
        x = self._check_input(x)
        self._check_shape(x.shape)
        k = kernels()
        out, cache = k.upsample_forward(x, self.scale_factor, self.mode)
        self._cache = (k, cache)
        return out

    def backward(self, dout):
        k, cache = self._saved()
        return k.upsample_backward(dout, cache)

    def output_shape(self, input_shape):
        self._check_shape(input_shape)
        n, c, h, w = input_shape
        return (n, c, h * self.scale_factor[0], w * self.scale_factor[1])

    def extra_repr(self) -> str:
        sh, sw = self.scale_factor
        factor = sh if sh == sw else self.scale_factor
        return f"scale_factor={float(factor) if sh == sw else factor}, mode='{self.mode}'"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: copies."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Step ``1/scale_factor``, one input per output."""
        return upsampling_window((1, 1), self.scale_factor)

