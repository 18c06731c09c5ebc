"""Fast batch normalization: the pair of :func:`nndl.nn.functional.batch_norm_forward`, in slabs and thread parts.

The kernels view any input as ``(N, C, L)`` (``L = 1`` for ``(N, C)``,
``L = H·W`` for images) and reduce over axes 0 and 2 of that view. Data is
never transposed: for NCHW images the per-channel sums are row sums of the
contiguous ``(N·C, L)`` view, which costs less than one element-wise pass;
channels-last images (:func:`.windows.is_channels_last`, what convolutions
with many filters produce) are viewed as ``(N·H, W·C, 1)``: their sums are
column sums, folded over the ``W`` columns of each channel, and the
per-channel vectors are tiled ``W`` times so that every element-wise pass
runs over ``W·C``-long rows (``C``-long ones cost 1.5x: NumPy's per-row
overhead). The output keeps the input's layout. The training passes work
through slabs of ``settings.batch_norm_slab_bytes`` so that each slab's
temporaries are reduced while in cache, and every pass splits its batch over
nndl's threads (:mod:`.parallel`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nndl.nn._fast.parallel import split_first_axis
from nndl.nn._fast.reductions import channel_dot, channel_sum, row_dot
from nndl.nn._fast.settings import settings
from nndl.nn._fast.windows import channels_last_block, is_channels_last

__all__ = ["batch_norm_backward", "batch_norm_forward"]


def _slabs(a3: np.ndarray) -> list[slice]:
    """Slices of axis 0 of ``a3`` covering about ``settings.batch_norm_slab_bytes`` each."""
    per_row = max(1, a3[0].nbytes)
    step = max(1, settings.batch_norm_slab_bytes // per_row)
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
    """What :func:`batch_norm_backward` needs, plus the statistics used.

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


def batch_norm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float = 1e-5,
                       running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None):
    """As :func:`nndl.nn.functional.batch_norm_forward` (same arguments, results and ``cache.mean``/``cache.var``).

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
                f"batch_norm_forward: expected more than 1 value per channel when training, got input shape {x.shape}")
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


def batch_norm_backward(dout: np.ndarray, cache: BatchNormCache):
    """As :func:`nndl.nn.functional.batch_norm_backward` (the derivation is there): ``(dx, dweight, dbias)``.

    In training ``dx`` is built in place over ``x − μ``:
    ``dx = (γ/σ)(δ − mean(δ) − (1/σ)·mean(δ x̂)·(x − μ))``.
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
