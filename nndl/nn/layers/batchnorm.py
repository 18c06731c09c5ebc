"""Batch normalization: kernels and the ``BatchNorm1d`` / ``BatchNorm2d`` modules.

Every channel ``c`` is normalized with statistics taken over all the other
axes (batch and, for ``(N, C, L)`` / ``(N, C, H, W)`` inputs, the positions),
then passed through a learned affine map (notes 000 §7, 004):

.. math::
    x̂ = (x − μ_c) / \\sqrt{σ_c² + ε}, \\qquad y = γ_c x̂ + β_c.

The kernels view any input as ``(N, C, L)`` (``L = 1`` for ``(N, C)``,
``L = H·W`` for images) and reduce over axes 0 and 2 of that view. Data is
never transposed: for NCHW images the per-channel sums are row sums of the
contiguous ``(N·C, L)`` view, which costs less than one element-wise pass;
channels-last images (:func:`nndl.nn._fast.windows.is_channels_last`, what
convolutions with many filters produce) are viewed as ``(N·H, W·C, 1)``:
their sums are column sums, folded over the ``W`` columns of each channel,
and the per-channel vectors are tiled ``W`` times so that every
element-wise pass runs over ``W·C``-long rows (``C``-long ones cost 1.5x:
NumPy's per-row overhead). The output keeps the input's layout.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nndl.nn.core.module import Module
from nndl.nn._fast.parallel import split_first_axis
from nndl.nn.core.parameter import Parameter
from nndl.nn._fast.windows import channels_last_block, is_channels_last


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Σ_l a[..., l] · b[..., l]`` without materializing the product (a dot per contiguous row)."""
    if hasattr(np, "vecdot"):
        return np.vecdot(a, b, axis=-1)
    return np.einsum("...i,...i->...", a, b)


def column_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Σ_n a[n, j] · b[n, j]`` for 2-D arrays (einsum: a strided ``vecdot`` is ~20× slower here)."""
    return np.einsum("ij,ij->j", a, b)


def channel_sum(a3: np.ndarray) -> np.ndarray:
    """``Σ_{n,l} a[n, c, l]`` for an ``(N, C, L)`` array; shape ``(C,)``.

    With ``L = 1`` the column sums are a matrix-vector product ``1ᵀ A``:
    measured 7x faster than ``sum(axis=0)`` on ``(65536, 32)`` and, summing
    in blocks, closer to the exact float64 sum (3e-6 vs 8e-6 relative).
    """
    if a3.shape[2] == 1 and a3.shape[0] > 1:
        return np.ones(a3.shape[0], dtype=a3.dtype) @ a3[:, :, 0]
    return a3.sum(axis=(0, 2))


def channel_dot(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """``Σ_{n,l} a[n, c, l] · b[n, c, l]`` for two ``(N, C, L)`` arrays; shape ``(C,)``."""
    if a3.shape[2] == 1:
        return column_dot(a3[:, :, 0], b3[:, :, 0])
    return row_dot(a3, b3).sum(axis=0)


#: Bytes of one slab of the batch in the training kernels: the slab's
#: temporaries stay in the (per-core) L2 cache between the passes over it.
SLAB_BYTES = 1 << 19


def _slabs(a3: np.ndarray) -> list[slice]:
    """Slices of axis 0 of ``a3`` covering about :data:`SLAB_BYTES` each."""
    per_row = max(1, a3[0].nbytes)
    step = max(1, SLAB_BYTES // per_row)
    return [slice(start, start + step) for start in range(0, a3.shape[0], step)]


def _as_ncl(x: np.ndarray, channels_last: bool = False) -> np.ndarray:
    """``x`` viewed as ``(N, C, L)``; with ``channels_last`` (images) as ``(N·H, W·C, 1)`` instead.

    In the second view column ``w·C + c`` belongs to channel ``c``; see
    :func:`_per_channel` and :func:`_per_column`.
    """
    if channels_last:
        n, c, h, w = x.shape
        return channels_last_block(x).reshape(n * h, w * c, 1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def _per_channel(column_values: np.ndarray, fold: int) -> np.ndarray:
    """Fold ``(fold·C,)`` per-column sums of the channels-last view into ``(C,)`` per-channel sums."""
    return column_values if fold == 1 else column_values.reshape(fold, -1).sum(axis=0)


def _per_column(channel_values: np.ndarray, fold: int) -> np.ndarray:
    """Tile a ``(C,)`` per-channel vector over the ``fold·C`` columns of the channels-last view."""
    return channel_values if fold == 1 else np.tile(channel_values, fold)


def _from_ncl(a3: np.ndarray, shape: tuple, channels_last: bool) -> np.ndarray:
    """Inverse of :func:`_as_ncl`: the array of ``shape`` (NCHW), channels-last if ``a3`` came from such."""
    if channels_last:
        n, c, h, w = shape
        return a3.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return a3.reshape(shape)


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs, plus the statistics used.

    ``x`` is the input viewed as ``(N, C, L)`` (``x̂ = (x − μ) · inv_std`` is
    rebuilt in backward, a slab at a time, rather than stored: one
    batch-sized array less in forward; the input must not be changed in
    place before backward). ``scale = γ · inv_std``.
    """

    x: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    inv_std: np.ndarray
    scale: np.ndarray
    affine: bool
    training: bool
    input_shape: tuple
    channels_last: bool = False
    fold: int = 1


def batchnorm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float = 1e-5,
                      running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None):
    """Normalize each channel of ``x`` and apply ``y = γ x̂ + β``.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
    weight, bias : ndarray, shape (C,), or None
        ``γ`` and ``β``; ``None`` for no affine map (``γ = 1, β = 0``).
    eps : float
        ``ε`` added to the variance.
    running_mean, running_var : ndarray, shape (C,), or None
        Given both, normalize with them (evaluation mode). Omitted, use the
        batch statistics (training mode): ``μ_c`` the mean and ``σ_c²`` the
        *biased* variance over the ``m = N·L`` values of channel ``c``.

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : BatchNormCache
        ``cache.mean`` and ``cache.var`` are the statistics used (the biased
        batch variance in training mode).

    Notes
    -----
    The variance is taken from the centred values ``x − μ``, which the
    normalization needs anyway: as cheap as the one-pass
    ``E[x²] − E[x]²`` but without its cancellation when ``|μ| ≫ σ`` in float32.
    """
    channels_last = is_channels_last(x) and x.shape[1] > 1
    fold = x.shape[3] if channels_last else 1
    x3 = _as_ncl(x, channels_last)
    out = np.empty_like(x3)
    if running_mean is None:
        count = x3.shape[0] * x3.shape[2] * fold
        if count < 2:
            raise ValueError(
                f"batchnorm_forward: expected more than 1 value per channel when training, got input shape {x.shape}")
        mean = _per_channel(sum(split_first_axis(lambda rows: channel_sum(x3[rows]), x3)), fold) / count
        mean_column = _per_column(mean, fold)[:, None]

        def center(rows: slice) -> np.ndarray:
            """x − μ into ``out`` (a cache-sized slab at a time), returning the part's square sums."""
            part, centered = x3[rows], out[rows]
            if x3.shape[2] == 1:
                np.subtract(part, mean_column, out=centered)
                return channel_dot(centered, centered)
            total = np.zeros(x3.shape[1], dtype=x3.dtype)
            for slab in _slabs(part):  # no batch-sized temporary; the square-sum reads the slab from cache
                np.subtract(part[slab], mean_column, out=centered[slab])
                total += row_dot(centered[slab], centered[slab]).sum(axis=0)
            return total

        var = _per_channel(sum(split_first_axis(center, x3)), fold) / count
        inv_std = 1.0 / np.sqrt(var + eps)
        scale = inv_std if weight is None else weight * inv_std
        shift = None if bias is None else _per_column(bias, fold)[:, None]
        training = True
    else:
        mean, var = running_mean, running_var
        inv_std = 1.0 / np.sqrt(var + eps)
        scale = inv_std if weight is None else weight * inv_std
        # y = x·scale + (β − μ·scale): two passes, x − μ is left to backward.
        shift = _per_column(-mean * scale if bias is None else bias - mean * scale, fold)[:, None]
        training = False
    scale_column = _per_column(scale, fold)[:, None]

    def affine(rows: slice) -> None:
        source = out[rows] if training else x3[rows]
        np.multiply(source, scale_column, out=out[rows])
        if shift is not None:
            out[rows] += shift

    split_first_axis(affine, x3)
    cache = BatchNormCache(x3, mean, var, inv_std, scale, weight is not None, training, x.shape, channels_last, fold)
    return _from_ncl(out, x.shape, channels_last), cache


def batchnorm_backward(dout: np.ndarray, cache: BatchNormCache):
    """Gradients of batch normalization.

    With ``δ = ∂L/∂y`` and, per channel, ``m`` values, ``σ = √(σ² + ε)``:

    .. math::
        ∂L/∂β = Σ_i δ_i, \\qquad ∂L/∂γ = Σ_i δ_i x̂_i.

    *Evaluation mode* (fixed μ, σ): ``y`` is affine in ``x``, so
    ``∂L/∂x_i = (γ/σ) δ_i``.

    *Training mode* (μ, σ depend on every ``x_j`` of the channel). Write
    ``g_i = ∂L/∂x̂_i = γ δ_i``. From ``∂μ/∂x_j = 1/m``,
    ``∂σ²/∂x_j = 2 (x_j − μ)/m`` and ``x̂_i = (x_i − μ)/σ``:

    .. math::
        ∂x̂_i/∂x_j = \\frac{1}{σ}\\Big(1[i=j] − \\frac{1}{m} − \\frac{x̂_i x̂_j}{m}\\Big)

    (the last term is ``(x_i − μ) · (−½ σ^{-3}) · 2(x_j − μ)/m``; the
    ``Σ_i (x_i − μ)`` term from ``∂μ`` inside ``σ²`` vanishes). Summing
    ``g_i ∂x̂_i/∂x_j`` over ``i`` gives the compact form

    .. math::
        ∂L/∂x_j = \\frac{γ}{σ}\\Big(δ_j − \\overline{δ} − x̂_j\\,\\overline{δ x̂}\\Big),
        \\qquad \\overline{δ} = \\tfrac{1}{m}Σ_i δ_i = \\tfrac{∂L/∂β}{m},
        \\quad \\overline{δ x̂} = \\tfrac{1}{m}Σ_i δ_i x̂_i = \\tfrac{∂L/∂γ}{m}.

    Parameters
    ----------
    dout : ndarray, shape of the forward input
    cache : BatchNormCache from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray, shape of the input
    dweight, dbias : ndarray, shape (C,), or None when there is no affine map
    """
    fold = cache.fold
    d3 = _as_ncl(dout, cache.channels_last)
    inv_std, scale = cache.inv_std, cache.scale
    x3, mean = cache.x, cache.mean
    mean_column = _per_column(mean, fold)[:, None]
    scale_column = _per_column(scale, fold)[:, None]
    dx = np.empty_like(d3)
    want_dweight = cache.training or cache.affine

    def sums(rows: slice):
        """Σ δ and Σ δ(x − μ) of a part; in training ``dx`` first holds x − μ (one batch-sized array)."""
        if cache.training:
            centered = np.subtract(x3[rows], mean_column, out=dx[rows])
        else:
            np.multiply(d3[rows], scale_column, out=dx[rows])   # evaluation: dx = (γ/σ) δ, done
            centered = x3[rows] - mean_column if want_dweight else None
        return channel_sum(d3[rows]), channel_dot(d3[rows], centered) if want_dweight else None

    parts = split_first_axis(sums, d3)
    dbias = _per_channel(sum(p[0] for p in parts), fold)
    dweight = _per_channel(sum(p[1] for p in parts), fold) * inv_std if want_dweight else None     # Σ δ x̂
    if cache.training:
        # dx = scale·(δ − mean(δ) − inv_std·mean(δx̂)·(x − μ)), in place over x − μ.
        count = d3.shape[0] * d3.shape[2] * fold
        slope = _per_column(-inv_std * dweight / count, fold)[:, None]
        offset = _per_column(dbias / count, fold)[:, None]

        def finish(rows: slice) -> None:
            part = dx[rows]
            part *= slope
            part += d3[rows]
            part -= offset
            part *= scale_column

        split_first_axis(finish, d3)
    dx = _from_ncl(dx, cache.input_shape, cache.channels_last)
    if not cache.affine:
        return dx, None, None
    return dx, dweight, dbias


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
            self.weight = Parameter(np.ones(self.num_features, dtype=self.dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=self.dtype))
        else:
            self.weight = None
            self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=self.dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=self.dtype))
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
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            if values_per_channel < 2:
                raise ValueError(f"{self.describe()}: expected more than 1 value per channel when training, "
                                 f"got input of shape {x.shape} (use a batch of at least 2, or eval())")
            out, self._cache = batchnorm_forward(x, weight, bias, self.eps)
        else:
            out, self._cache = batchnorm_forward(x, weight, bias, self.eps, self.running_mean, self.running_var)
        if self.training and self.track_running_stats:
            self._update_running_stats(self._cache, values_per_channel)
        return out

    def _update_running_stats(self, cache: BatchNormCache, count: int) -> None:
        """``x_run ← (1 − m) x_run + m x_batch``; the variance stored is the unbiased ``σ² · n/(n − 1)``."""
        self.num_batches_tracked += 1
        # momentum=None: the cumulative average of all batches so far, as PyTorch.
        factor = 1.0 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean *= 1.0 - factor
        self.running_mean += factor * cache.mean
        self.running_var *= 1.0 - factor
        self.running_var += (factor * count / (count - 1)) * cache.var

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._saved()
        if dout.shape != cache.input_shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape "
                             f"{cache.input_shape}")
        dx, dweight, dbias = batchnorm_backward(dout, cache)
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
