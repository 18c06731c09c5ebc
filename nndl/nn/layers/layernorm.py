"""Layer normalization: the ``LayerNorm`` module (kernels: ``layer_norm_forward`` / ``layer_norm_backward``).

Where batch normalization takes statistics per channel over the batch, layer
normalization takes them per sample over its trailing ``normalized_shape``
axes, so it behaves the same in training and evaluation and for any batch size.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core import init
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


class LayerNorm(Module):
    """Layer normalization over the trailing axes, as ``torch.nn.LayerNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape normalized over, e.g. ``D`` for ``(N, D)`` features
        or ``(C, H, W)`` for whole images.
    eps : float
        ``ε`` added to the variance.
    elementwise_affine : bool
        Learn ``γ`` (``weight``, ones) and ``β`` (``bias``, zeros) of shape
        ``normalized_shape``.
    bias : bool
        With ``elementwise_affine``, also learn ``β``.
    dtype : float32 or float64

    Shapes
    ------
    input (*, *normalized_shape) -> output of the same shape.
    State dict: ``weight``, ``bias`` of shape ``normalized_shape``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=np.float32):
        super().__init__(dtype)
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        shape = tuple(normalized_shape)
        if not shape or any(isinstance(s, bool) or int(s) != s or s < 1 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive integers, got {normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(init.ones(self.normalized_shape, dtype=self.dtype))
            self.bias = Parameter(init.zeros(self.normalized_shape, dtype=self.dtype)) if bias else None
        else:
            self.weight = None
            self.bias = None
        self._cache = None

    def _check_shape(self, shape) -> None:
        n = len(self.normalized_shape)
        if len(shape) < n or tuple(shape[len(shape) - n:]) != self.normalized_shape:
            trailing = ", ".join(map(str, self.normalized_shape))
            raise ValueError(f"{self.describe()}: expected input of shape (*, {trailing}), got {tuple(shape)}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, match_dtype=self.elementwise_affine)
        self._check_shape(x.shape)
        k = kernels()
        weight = None if self.weight is None else self.weight.data
        bias = None if self.bias is None else self.bias.data
        out, cache = k.layer_norm_forward(x, len(self.normalized_shape), weight, bias, self.eps)
        self._cache = (k, cache, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, shape = self._saved()
        if dout.shape != shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        dx, dweight, dbias = k.layer_norm_backward(dout, cache)
        if self.weight is not None:
            self.weight.accumulate_grad(dweight)
        if self.bias is not None:
            self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: a normalization with a per-feature scale and shift (not counted)."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise in space (as the summary has always treated it, whatever the normalized axes)."""
        return ELEMENTWISE
