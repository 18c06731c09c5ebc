"""Batch normalization: the ``BatchNorm1d`` / ``BatchNorm2d`` modules.

Every channel ``c`` is normalized with statistics taken over all the other
axes (batch and, for ``(N, C, L)`` / ``(N, C, H, W)`` inputs, the positions),
then passed through a learned affine map (notes 000 §7, 004):

.. math::
    x̂ = (x − μ_c) / \\sqrt{σ_c² + ε}, \\qquad y = γ_c x̂ + β_c.

The kernels (``batch_norm_forward`` / ``batch_norm_backward``, with the
derivation of the gradient) compute one batch; the module owns ``γ``, ``β``
and the running estimates used in evaluation mode, and updates them.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core import init
from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


class _BatchNorm(Module):
    """Shared implementation; subclasses fix the accepted input ranks."""

    _input_ndims: tuple[int, ...] = ()
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=np.float32):
        super().__init__(dtype)
        name = type(self).__name__
        if isinstance(num_features, bool) or int(num_features) != num_features or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(init.ones(self.num_features, dtype=self.dtype))
            self.bias = Parameter(init.zeros(self.num_features, dtype=self.dtype))
        else:
            self.weight = None
            self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", init.zeros(self.num_features, dtype=self.dtype))
            self.register_buffer("running_var", init.ones(self.num_features, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._cache = None

    def reset_running_stats(self) -> None:
        """``running_mean = 0``, ``running_var = 1``, ``num_batches_tracked = 0``."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset, ``γ = 1``, ``β = 0``."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def _check(self, x) -> np.ndarray:
        x = self._check_input(x, match_dtype=True)
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self.describe()}: expected input of shape {self._layout} with "
                             f"C = {self.num_features}, got {x.shape}")
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x)
        weight = self.weight.data if self.affine else None
        bias = self.bias.data if self.affine else None
        values_per_channel = x.size // x.shape[1]
        k = kernels()
        if self.training or not self.track_running_stats:
            if values_per_channel < 2:
                raise ValueError(f"{self.describe()}: expected more than 1 value per channel when training, "
                                 f"got input of shape {x.shape} (use a batch of at least 2, or eval())")
            out, cache = k.batch_norm_forward(x, weight, bias, self.eps)
        else:
            out, cache = k.batch_norm_forward(x, weight, bias, self.eps, self.running_mean, self.running_var)
        self._cache = (k, cache, x.shape)
        if self.training and self.track_running_stats:
            self._update_running_stats(cache, values_per_channel)
        return out

    def _update_running_stats(self, cache, count: int) -> None:
        """``x_run ← (1 − m) x_run + m x_batch``; the variance stored is the unbiased ``σ² · n/(n − 1)``."""
        self.num_batches_tracked += 1
        # momentum=None: the cumulative average of all batches so far, as PyTorch.
        factor = 1.0 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1.0 - factor
        self.running_mean += factor * cache.mean
        self.running_var *= 1.0 - factor
        self.running_var += (factor * count / (count - 1)) * cache.var

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, shape = self._saved()
        if dout.shape != shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        dx, dweight, dbias = k.batch_norm_backward(dout, cache)
        if self.affine:
            self.weight.accumulate_grad(dweight)
            self.bias.accumulate_grad(dbias)
        return dx

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) not in self._input_ndims or input_shape[1] != self.num_features:
            raise ValueError(f"{self.describe()}: expected input of shape {self._layout} with "
                             f"C = {self.num_features}, got {input_shape}")
        return input_shape

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")

    @property
    def train_eval_differs(self) -> bool:
        """Batch statistics in training, running statistics in evaluation; without running statistics, always the batch's."""
        return self.track_running_stats

    def macs(self, input_shape, output_shape) -> int:
        """0: a per-channel scale and shift, linear in the activation size (not counted, as torchvision)."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise in space."""
        return ELEMENTWISE


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` features or ``(N, C, L)`` sequences, as ``torch.nn.BatchNorm1d``.

    In training mode each channel is normalized with the mean and *biased*
    variance of its ``N`` (or ``N·L``) values in the batch, and the running
    estimates are updated as ``x_run ← (1 − momentum) x_run + momentum
    x_batch`` with the *unbiased* batch variance (``σ² · n/(n − 1)``). In
    evaluation mode the running estimates are used, and the layer is the
    fixed affine map ``y = γ (x − μ_run)/√(σ²_run + ε) + β``.

    Parameters
    ----------
    num_features : int
        Number of channels ``C``.
    eps : float
        ``ε`` added to the variance.
    momentum : float or None
        Weight of the new batch in the running estimates; ``None`` keeps the
        cumulative average over all batches seen.
    affine : bool
        Learn ``γ`` (``weight``, ones) and ``β`` (``bias``, zeros).
    track_running_stats : bool
        Keep running estimates. Without them the batch statistics are used in
        evaluation mode too, and the state dict has no buffers.
    dtype : float32 or float64

    Shapes
    ------
    input (N, C) or (N, C, L) -> output of the same shape. State dict:
    ``weight``, ``bias``, ``running_mean``, ``running_var`` (C,),
    ``num_batches_tracked`` () int64.

    Training on a single value per channel (batch size 1 for ``(N, C)``)
    raises ``ValueError``: its variance is 0 and ``x̂`` would be 0.
    """

    _input_ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of images ``(N, C, H, W)``, as ``torch.nn.BatchNorm2d``.

    Statistics per channel over the ``N·H·W`` values of the batch ("spatial"
    batch normalization: a convolution's feature map shares ``γ_c, β_c``
    across positions, so it shares the statistics too). Everything else as
    :class:`BatchNorm1d`; training with ``N·H·W = 1`` raises ``ValueError``.
    """

    _input_ndims = (4,)
    _layout = "(N, C, H, W)"
