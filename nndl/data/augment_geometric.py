"""Geometric augmentation: random rotation, scale (zoom) and translation, through one affine resampler.

Each transform draws, per image, a 2 × 2 matrix ``A`` and a shift ``t`` and
resamples the image: output pixel ``o = (row, col)`` reads the input at

.. math::
    p = A (o − c) + c − t, \\qquad c = ((H − 1)/2, (W − 1)/2),

by bilinear interpolation between the four pixels around ``p``; pixels
outside the image count as ``fill`` (so borders blend into it smoothly,
``scipy.ndimage``'s ``mode='grid-constant'``). ``A`` is the *inverse* of the
visible motion: rotating the picture by θ reads it through the rotation by
−θ, zooming in by ``s`` reads it through ``A = I/s``.

As the other batch transforms (:mod:`nndl.data.augmentation`): NCHW float
batches, one draw per image from the ``rng`` given, no loop over images, the
input untouched and its dtype kept.
"""

from __future__ import annotations

import numpy as np

from nndl.random import as_generator


def _check_float_images(name: str, xb) -> np.ndarray:
    if not isinstance(xb, np.ndarray) or xb.ndim != 4 or xb.dtype not in (np.float32, np.float64):
        got = f"shape {xb.shape} dtype {xb.dtype}" if isinstance(xb, np.ndarray) else type(xb).__name__
        raise ValueError(f"{name}: expected a float32 or float64 batch of images (N, C, H, W), got {got}")
    return xb


def _range(value, name: str, owner: str, symmetric: bool, minimum=None) -> tuple[float, float]:
    """``(lo, hi)`` from a pair, or ``(−v, v)`` from one number when ``symmetric``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and symmetric:
        if value < 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
        lo, hi = -float(value), float(value)
    else:
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{owner}: {name} must be {'a number or ' if symmetric else ''}a pair (lo, hi), "
                             f"got {value!r}") from None
    if lo > hi or (minimum is not None and lo <= minimum):
        bound = f" with lo > {minimum}" if minimum is not None else ""
        raise ValueError(f"{owner}: {name} must satisfy lo <= hi{bound}, got {value!r}")
    return lo, hi


def affine_transform(xb: np.ndarray, matrices: np.ndarray, shifts: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Resample each image of ``xb`` through its own affine map (see the module docstring).

    Parameters
    ----------
    xb : ndarray, shape (N, C, H, W), float32 or float64
    matrices : ndarray, shape (N, 2, 2)
        ``A`` per image, acting on (row, col) offsets from the centre.
    shifts : ndarray, shape (N, 2)
        ``t`` per image in pixels (row, col): the content moves by ``t``.
    fill : float
        Value of the pixels outside the image.

    Returns
    -------
    ndarray, the shape and dtype of ``xb``

    Notes
    -----
    With ``p = (r, c)``, ``r₀ = ⌊r⌋``, ``a = r − r₀`` (and likewise ``c₀``, ``b``),
    the output is
    ``(1−a)(1−b) x[r₀, c₀] + (1−a) b x[r₀, c₀+1] + a(1−b) x[r₀+1, c₀] + ab x[r₀+1, c₀+1]``.
    """
    xb = _check_float_images("affine_transform", xb)
    n, _, h, w = xb.shape
    matrices, shifts = np.asarray(matrices, dtype=np.float64), np.asarray(shifts, dtype=np.float64)
    if matrices.shape != (n, 2, 2) or shifts.shape != (n, 2):
        raise ValueError(f"affine_transform: expected matrices ({n}, 2, 2) and shifts ({n}, 2), got "
                         f"{matrices.shape} and {shifts.shape}")
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), axis=-1) - centre  # (H, W, 2)
    points = np.einsum("nij,hwj->nhwi", matrices, grid) + centre - shifts[:, None, None, :]  # (N, H, W, 2)
    # One pixel of fill around the image; neighbours further out are clipped onto it.
    padded = np.pad(xb, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    base = np.floor(points)
    frac = (points - base).astype(xb.dtype)
    top, left = base[..., 0].astype(np.int64) + 1, base[..., 1].astype(np.int64) + 1  # indices into padded
    rows, rows1 = np.clip(top, 0, h + 1), np.clip(top + 1, 0, h + 1)
    cols, cols1 = np.clip(left, 0, w + 1), np.clip(left + 1, 0, w + 1)
    image = np.arange(n)[:, None, None]
    a, b = frac[..., 0][..., None], frac[..., 1][..., None]  # (N, H, W, 1): broadcast over channels
    # padded[image, :, rows, cols] puts the index axes first: (N, H, W, C)
    out = ((1 - a) * ((1 - b) * padded[image, :, rows, cols] + b * padded[image, :, rows, cols1])
           + a * ((1 - b) * padded[image, :, rows1, cols] + b * padded[image, :, rows1, cols1]))
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


class RandomRotation:
    """Rotate each image by an angle drawn uniformly from ``degrees`` (counterclockwise as displayed).

    Parameters
    ----------
    degrees : float or (float, float)
        ``d`` means ``U[−d, d]``; a pair ``(lo, hi)`` means ``U[lo, hi]``.
    fill : float
        Value of the corners uncovered by the rotation.

    Notes
    -----
    Rows grow downwards, so a counterclockwise turn by θ reads the input at
    ``A = [[cos θ, sin θ], [−sin θ, cos θ]]`` applied to (row, col) offsets:
    ``scipy.ndimage.rotate(image, θ, reshape=False)``'s convention.
    """

    def __init__(self, degrees, fill: float = 0.0):
        self.degrees = _range(degrees, "degrees", "RandomRotation", symmetric=True)
        self.fill = float(fill)

    @staticmethod
    def matrices(angles_degrees: np.ndarray) -> np.ndarray:
        theta = np.deg2rad(np.asarray(angles_degrees, dtype=np.float64))
        cos, sin = np.cos(theta), np.sin(theta)
        return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("RandomRotation", xb)
        angles = as_generator(rng).uniform(*self.degrees, size=len(xb))
        return affine_transform(xb, self.matrices(angles), np.zeros((len(xb), 2)), self.fill)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees}, fill={self.fill})"


class RandomScale:
    """Zoom each image about its centre by a factor drawn uniformly from ``scale`` (> 1 zooms in).

    Parameters
    ----------
    scale : (float, float)
        ``(lo, hi)`` with ``lo > 0``; e.g. ``(0.9, 1.1)``.
    fill : float
        Value of the border uncovered when zooming out.

    Notes
    -----
    The picture grows by ``s``, so the output reads the input at ``A = I/s``.
    """

    def __init__(self, scale=(0.9, 1.1), fill: float = 0.0):
        self.scale = _range(scale, "scale", "RandomScale", symmetric=False, minimum=0.0)
        self.fill = float(fill)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("RandomScale", xb)
        factors = as_generator(rng).uniform(*self.scale, size=len(xb))
        matrices = np.eye(2) / factors[:, None, None]
        return affine_transform(xb, matrices, np.zeros((len(xb), 2)), self.fill)

    def __repr__(self) -> str:
        return f"RandomScale(scale={self.scale}, fill={self.fill})"


class RandomTranslation:
    """Shift each image by up to a fraction of its height and width (sub-pixel shifts interpolated).

    Parameters
    ----------
    max_fraction : float or (float, float)
        Largest shift as a fraction of ``(H, W)``; the shift along each axis is
        drawn from ``U[−f·size, f·size]`` pixels.
    fill : float
        Value of the border uncovered by the shift.
    """

    def __init__(self, max_fraction=0.1, fill: float = 0.0):
        pair = (max_fraction, max_fraction) if np.ndim(max_fraction) == 0 else tuple(max_fraction)
        if len(pair) != 2 or not all(0.0 <= float(f) <= 1.0 for f in pair):
            raise ValueError(f"RandomTranslation: max_fraction must be in [0, 1] or a pair of them, got "
                             f"{max_fraction!r}")
        self.max_fraction = (float(pair[0]), float(pair[1]))
        self.fill = float(fill)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("RandomTranslation", xb)
        limits = np.array(self.max_fraction) * np.array(xb.shape[2:])
        shifts = as_generator(rng).uniform(-limits, limits, size=(len(xb), 2))
        return affine_transform(xb, np.broadcast_to(np.eye(2), (len(xb), 2, 2)), shifts, self.fill)

    def __repr__(self) -> str:
        return f"RandomTranslation(max_fraction={self.max_fraction}, fill={self.fill})"
