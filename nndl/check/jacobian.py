"""Numerical Jacobian of a vector-valued function, by central differences.

For ``f : ℝⁿ → ℝᵐ`` the Jacobian is the ``m × n`` matrix
``J[i, j] = ∂f_i/∂x_j`` (the notes' numerator layout: one row per output).
Column ``j`` is estimated as ``(f(x + h e_j) − f(x − h e_j)) / 2h``, with
error ``O(h²)`` from truncation and ``O(ε_machine / h)`` from rounding.
Inputs and outputs of any shape are flattened in C order, so a matrix
argument ``A`` (``p × q``) gives columns indexed by ``A.ravel()``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_jacobian(f: Callable[[np.ndarray], np.ndarray], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian ``∂f(x)/∂x`` of shape ``(f(x).size, x.size)``.

    Parameters
    ----------
    f : callable ``x -> array`` (or a float)
        Called with a float64 copy of ``x`` of ``x``'s shape; must not modify it.
    x : array_like
        The point; converted to float64 (differences in float32 would lose
        half the digits).
    eps : float
        Step ``h``; 1e-6 balances truncation and rounding in float64.

    Returns
    -------
    ndarray of float64, shape (m, n)
        ``J[i, j] = ∂f_i/∂x_j`` with ``m = f(x).size``, ``n = x.size``. For a
        scalar ``f`` this is the gradient as a row, ``(1, n)``.
    """
    x = np.array(x, dtype=np.float64)
    if not eps > 0:
        raise ValueError(f"numerical_jacobian: eps must be positive, got {eps}")
    m = np.asarray(f(x.copy()), dtype=np.float64).size
    jacobian = np.empty((m, x.size))
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = eps
        step = step.reshape(x.shape)
        plus = np.asarray(f(x + step), dtype=np.float64).reshape(-1)
        minus = np.asarray(f(x - step), dtype=np.float64).reshape(-1)
        if plus.size != m or minus.size != m:
            raise ValueError(f"numerical_jacobian: f returned {m} values at x but {plus.size} and {minus.size} "
                             f"at x ± h e_{j}; the output size must not depend on x")
        jacobian[:, j] = (plus - minus) / (2 * eps)
    return jacobian
