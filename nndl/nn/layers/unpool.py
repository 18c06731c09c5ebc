"""Upsampling layers: ``MaxUnpool2d`` (the notes' unpooling) and nearest-neighbour ``Upsample``."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module
from nndl.nn._fast.windows import as_pair


class MaxUnpool2d(Module):
    """Partial inverse of ``MaxPool2d``: put each pooled value back at its maximum's position, zeros elsewhere.

    ``forward(x, indices, output_size=None)`` takes the flat per-channel
    indices returned by ``MaxPool2d(..., return_indices=True)``, as
    ``torch.nn.MaxUnpool2d``. ``backward(dout)`` returns ∂L/∂x only (the
    indices are integers): ``∂L/∂x[n, c, k] = δ[n, c, indices[n, c, k]]``.

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
        self.kernel_size = as_pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = self.kernel_size if stride is None else as_pair(stride, "stride", "MaxUnpool2d")
        self.padding = as_pair(padding, "padding", "MaxUnpool2d", minimum=0)
        self._cache = None

    def _default_size(self, shape):
        return tuple((shape[2 + a] - 1) * self.stride[a] - 2 * self.padding[a] + self.kernel_size[a] for a in (0, 1))

    def _target_size(self, shape, output_size):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")
        default = self._default_size(shape)
        if output_size is None:
            return default
        size = tuple(int(v) for v in tuple(output_size)[-2:])
        if len(tuple(output_size)) not in (2, 4):
            raise ValueError(f"{self.describe()}: output_size must be (H, W) or (N, C, H, W), got {output_size}")
        for a in (0, 1):
            # The sizes a pooling with this geometry could have come from (PyTorch's rule).
            if not default[a] - self.stride[a] < size[a] < default[a] + self.stride[a]:
                raise ValueError(f"{self.describe()}: output_size {size} must be within one stride of the "
                                 f"default {default} for an input of shape {tuple(shape)}")
        return size

    def forward(self, x, indices=None, output_size=None):
        x = self._check_input(x)
        if indices is None:
            raise TypeError(f"{self.describe()}: forward needs the pooling indices: forward(x, indices)")
        indices = np.asarray(indices)
        if indices.shape != x.shape or indices.dtype.kind not in "iu":
            raise ValueError(f"{self.describe()}: indices must be integers of the input's shape {x.shape}, "
                             f"got shape {indices.shape} and dtype {indices.dtype}")
        n, c = x.shape[:2]
        h_out, w_out = self._target_size(x.shape, output_size)
        flat_indices = indices.reshape(n, c, -1)
        if flat_indices.size and (flat_indices.min() < 0 or flat_indices.max() >= h_out * w_out):
            raise ValueError(f"{self.describe()}: indices must lie in [0, {h_out * w_out}) for an output of "
                             f"{h_out}x{w_out}, got [{flat_indices.min()}, {flat_indices.max()}]")
        out = np.zeros((n, c, h_out * w_out), dtype=x.dtype)
        np.put_along_axis(out, flat_indices, x.reshape(n, c, -1), axis=2)
        self._cache = (flat_indices, x.shape)
        return out.reshape(n, c, h_out, w_out)

    def backward(self, dout):
        flat_indices, x_shape = self._saved()
        n, c = x_shape[:2]
        return np.take_along_axis(dout.reshape(n, c, -1), flat_indices, axis=2).reshape(x_shape)

    def output_shape(self, input_shape):
        return tuple(input_shape[:2]) + self._target_size(tuple(input_shape), None)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


UPSAMPLE_MODES = ("nearest",)


class Upsample(Module):
    """Nearest-neighbour upsampling by an integer factor, as ``torch.nn.Upsample(scale_factor=s)``.

    Every pixel becomes an ``s_h × s_w`` block of copies:
    ``out[n, c, y, x] = a[n, c, ⌊y/s_h⌋, ⌊x/s_w⌋]``. The gradient sums each
    block: ``∂L/∂a[n, c, h, w] = Σ_{block} δ``.

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
        if scale_factor is None:
            raise ValueError("Upsample: scale_factor is required (an int or a pair of ints)")
        if isinstance(scale_factor, float) and scale_factor.is_integer():
            scale_factor = int(scale_factor)
        self.scale_factor = as_pair(scale_factor, "scale_factor", "Upsample")
        if mode not in UPSAMPLE_MODES:
            raise ValueError(f"Upsample: unsupported mode '{mode}'; supported: {', '.join(UPSAMPLE_MODES)}")
        self.mode = mode
        self._cache = None

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")

    def forward(self, x):
        x = self._check_input(x)
        self._check_shape(x.shape)
        n, c, h, w = x.shape
        sh, sw = self.scale_factor
        self._cache = x.shape
        blocks = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))
        return blocks.reshape(n, c, h * sh, w * sw)

    def backward(self, dout):
        n, c, h, w = self._saved()
        sh, sw = self.scale_factor
        return dout.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5))

    def output_shape(self, input_shape):
        self._check_shape(input_shape)
        n, c, h, w = input_shape
        return (n, c, h * self.scale_factor[0], w * self.scale_factor[1])

    def extra_repr(self) -> str:
        sh, sw = self.scale_factor
        factor = sh if sh == sw else self.scale_factor
        return f"scale_factor={float(factor) if sh == sw else factor}, mode='{self.mode}'"
