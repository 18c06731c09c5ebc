"""Moving averages of a sequence: the exponential one the optimizers use and the simple one.

The notes (003, "Exponentially weighted averages") smooth a noisy sequence
``Y₁, Y₂, …`` by

.. math::
    V_1 = Y_1, \\qquad V_t = β V_{t-1} + (1 − β) Y_t,

an average over roughly the last ``1/(1 − β)`` values. Optimizers start
instead from ``V_0 = 0`` (momentum, Adam's moments), which biases the first
values towards 0 by the factor ``1 − β^t``; dividing by it is the *bias
correction* ``V̂_t = V_t / (1 − β^t)``.
"""

from __future__ import annotations

import numpy as np


def _sequence(values, where: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError(f"{where}: expected a non-empty sequence (axis 0 is time), got shape {values.shape}")
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{where}: expected numbers, got dtype {values.dtype}")
    return values if values.dtype.kind == "f" else values.astype(np.float64)


def ema(values, beta: float, bias_correction: bool = False) -> np.ndarray:
    """Exponential moving average of ``values`` along axis 0 (time).

    Parameters
    ----------
    values : array_like, shape (T, ...)
        ``Y₁ … Y_T``; each step may be a scalar or an array (a gradient).
    beta : float in [0, 1)
        Weight of the past, ``β``.
    bias_correction : bool
        False (default): the notes' convention ``V₁ = Y₁``, then
        ``V_t = βV_{t−1} + (1 − β)Y_t``.
        True: the optimizers' convention ``V₀ = 0`` followed by the correction
        ``V̂_t = V_t / (1 − β^t)``; this is Adam's ``m̂`` for ``β = β₁``.

    Returns
    -------
    ndarray, shape (T, ...)
        The average after each step (float64 for integer input, else the input's dtype).

    Notes
    -----
    Unrolled, ``V_t = (1 − β) Σ_{k=1}^{t} β^{t−k} Y_k`` from ``V₀ = 0``: the
    weights sum to ``1 − β^t``, which is why dividing by it gives an average.
    Both conventions agree once ``β^t`` is negligible.
    """
    values = _sequence(values, "ema")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"ema: beta must be in [0, 1), got {beta}")
    out = np.empty_like(values)
    if bias_correction:
        average = np.zeros_like(values[0])  # V₀ = 0
        for t, y in enumerate(values, start=1):
            average = beta * average + (1.0 - beta) * y
            out[t - 1] = average / (1.0 - beta ** t)
        return out
    out[0] = average = values[0]  # V₁ = Y₁
    for t in range(1, len(values)):
        average = beta * average + (1.0 - beta) * values[t]
        out[t] = average
    return out


def sma(values, window: int) -> np.ndarray:
    """Simple moving average: the mean of the last ``window`` values along axis 0.

    Parameters
    ----------
    values : array_like, shape (T, ...)
    window : int >= 1

    Returns
    -------
    ndarray, shape (T, ...)
        ``S_t = mean(Y_{max(1, t−w+1)} … Y_t)``: the first ``w − 1`` entries
        average the values seen so far (nothing is dropped or padded).
    """
    values = _sequence(values, "sma")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"sma: window must be a positive integer, got {window!r}")
    totals = np.cumsum(values, axis=0, dtype=np.float64)
    shifted = np.zeros_like(totals)
    shifted[window:] = totals[:-window]
    counts = np.minimum(np.arange(1, len(values) + 1), window).reshape((-1,) + (1,) * (values.ndim - 1))
    return ((totals - shifted) / counts).astype(values.dtype, copy=False)
