"""The notes' classic 3 × 3 image kernels, and true convolution next to cross-correlation.

Notes 003 §3.1: with a ``(2d + 1) × (2d + 1)`` kernel ``K`` indexed from
``−d`` to ``d``,

.. math::
    \\text{CONV}(x, y) = \\sum_{i, j} I(x - i, y - j)\\, K(i, j), \\qquad
    \\text{CrossCorrelation}(x, y) = \\sum_{i, j} I(x + i, y + j)\\, K(i, j).

Convolution is cross-correlation with the kernel flipped in both axes.
Deep-learning layers (``nn.Conv2d``) compute the cross-correlation; a
learned kernel is simply the flipped one, so nothing is lost. For the
symmetric kernels below (identity, blur, sharpen) the two agree; for the
edge and shift kernels they differ in sign or direction.

The kernels are float64 arrays of shape (3, 3), copies on every access.
"""

from __future__ import annotations

import numpy as np

_IDENTITY = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64)
_BOX = np.full((3, 3), 1.0 / 9.0)

_KERNELS = {
    "identity": _IDENTITY,
    # vertical edges: left column minus right column (a horizontal intensity change)
    "edge_vertical": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64),
    "edge_horizontal": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=np.float64),
    "blur": _BOX,
    # The notes print the first term only; sharpening adds back the detail a blur removes:
    # 2I − blur = I + (I − blur). The weights sum to 1, so flat regions keep their value.
    "sharpen": 2 * _IDENTITY - _BOX,
    # K(0, −1) = 1: cross-correlation reads I(x, y − 1), moving the image one pixel right;
    # convolution reads I(x, y + 1), moving it left.
    "shift": np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float64),
}

KERNEL_NAMES = tuple(_KERNELS)
"""Names accepted by :func:`kernel`."""


def kernel(name: str) -> np.ndarray:
    """The notes' kernel ``name`` (one of :data:`KERNEL_NAMES`), a fresh (3, 3) float64 array."""
    if name not in _KERNELS:
        raise ValueError(f"nndl.data.kernels: unknown kernel '{name}'; valid: {', '.join(KERNEL_NAMES)}")
    return _KERNELS[name].copy()


def _check(image, k, where: str):
    image, k = np.asarray(image), np.asarray(k)
    if image.ndim < 2 or image.dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected a numeric image (..., H, W), got shape {image.shape} dtype {image.dtype}")
    if k.ndim != 2 or k.dtype.kind not in "biuf":
        raise ValueError(f"{where}: expected a numeric 2-D kernel, got shape {k.shape}")
    if k.shape[0] > image.shape[-2] or k.shape[1] > image.shape[-1]:
        raise ValueError(f"{where}: kernel {k.shape} is larger than the image {image.shape[-2:]}")
    dtype = np.result_type(image.dtype, k.dtype, np.float32)
    return image.astype(dtype, copy=False), k.astype(dtype, copy=False)


def correlate2d(image, k, mode: str = "valid") -> np.ndarray:
    """Cross-correlation ``Σ_{i,j} I(x + i, y + j) K(i, j)`` over the last two axes of ``image``.

    Parameters
    ----------
    image : array_like, shape (..., H, W)
        One image or a stack (leading axes are kept).
    k : array_like, shape (kh, kw)
    mode : {'valid', 'same'}
        ``'valid'``: only positions where the kernel fits, ``(H − kh + 1, W − kw + 1)``
        (the notes' ``n − f + 1``). ``'same'``: zero padding keeping ``(H, W)``
        (the extra pixel of an even kernel goes after, as ``scipy.signal``).

    Returns
    -------
    ndarray, float (float64 unless both inputs are float32)
    """
    image, k = _check(image, k, "correlate2d")
    if mode == "same":
        kh, kw = k.shape
        pads = [(0, 0)] * (image.ndim - 2) + [((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)]
        image = np.pad(image, pads)
    elif mode != "valid":
        raise ValueError(f"correlate2d: mode must be 'valid' or 'same', got {mode!r}")
    windows = np.lib.stride_tricks.sliding_window_view(image, k.shape, axis=(-2, -1))
    return np.einsum("...ij,ij->...", windows, k)


def convolve2d(image, k, mode: str = "valid") -> np.ndarray:
    """True convolution ``Σ_{i,j} I(x − i, y − j) K(i, j)``: cross-correlation with ``K`` flipped in both axes.

    Same arguments as :func:`correlate2d`. In ``'same'`` mode the flipped
    kernel is placed as ``scipy.signal.convolve2d`` places it.
    """
    image, k = _check(image, k, "convolve2d")
    if mode == "same":
        kh, kw = k.shape
        pads = [(0, 0)] * (image.ndim - 2) + [(kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)]
        return correlate2d(np.pad(image, pads), k[::-1, ::-1], "valid")
    return correlate2d(image, k[::-1, ::-1], mode)
