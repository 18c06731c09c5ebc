"""Sums and dot products over one axis without materializing the product (shared by the normalization kernels)."""

from __future__ import annotations

import numpy as np


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
