"""Photometric augmentation: brightness, contrast, Gaussian blur, cutout and AlexNet's PCA colour jitter.

These change pixel values, not positions. As the other batch transforms
(:mod:`nndl.data.augmentation`): NCHW float batches, one draw per image from
the ``rng`` given, no loop over images, the input untouched and its dtype kept.
"""

from __future__ import annotations

import numpy as np

from nndl.data.augment_geometric import _check_float_images, _range
from nndl.random import as_generator


class RandomBrightness:
    """Add one offset per image: ``x' = x + δ``, ``δ ~ U[lo, hi]`` (``max_delta`` means ``U[−d, d]``)."""

    def __init__(self, max_delta):
        self.delta = _range(max_delta, "max_delta", "RandomBrightness", symmetric=True)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("RandomBrightness", xb)
        delta = as_generator(rng).uniform(*self.delta, size=(len(xb), 1, 1, 1))
        return xb + delta.astype(xb.dtype)

    def __repr__(self) -> str:
        return f"RandomBrightness(max_delta={self.delta})"


class RandomContrast:
    """Scale each channel's deviation from its mean: ``x' = μ + α (x − μ)``, ``α ~ U[lo, hi]`` per image.

    ``μ`` is the mean of the channel over the image's pixels (TensorFlow's
    ``adjust_contrast``), so the mean brightness is kept; ``α < 1`` flattens
    the image, ``α > 1`` sharpens its contrast.
    """

    def __init__(self, factor=(0.8, 1.2)):
        self.factor = _range(factor, "factor", "RandomContrast", symmetric=False)
        if self.factor[0] < 0:
            raise ValueError(f"RandomContrast: factor must be >= 0, got {factor!r}")

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("RandomContrast", xb)
        alpha = as_generator(rng).uniform(*self.factor, size=(len(xb), 1, 1, 1)).astype(xb.dtype)
        mean = xb.mean(axis=(2, 3), keepdims=True)
        return mean + alpha * (xb - mean)

    def __repr__(self) -> str:
        return f"RandomContrast(factor={self.factor})"


class GaussianBlur:
    """Blur each image with a Gaussian of standard deviation ``σ ~ U[lo, hi]`` pixels.

    Parameters
    ----------
    sigma : float or (float, float)
        A number is a fixed σ; a pair draws one σ per image.
    truncate : float
        The kernel spans ``r = ⌊truncate · σ_max + ½⌋`` pixels on each side
        (``scipy.ndimage.gaussian_filter``'s rule, for the largest σ).

    Notes
    -----
    The 2-D Gaussian factors into two 1-D ones, so the blur is a row pass and
    a column pass with ``g_k ∝ e^{−k²/2σ²}``, ``k = −r … r``, normalized to sum
    to 1. Borders are mirrored (``np.pad(mode='symmetric')``, scipy's
    ``'reflect'``), so a flat image stays flat.
    """

    def __init__(self, sigma=(0.1, 2.0), truncate: float = 4.0):
        pair = (sigma, sigma) if np.ndim(sigma) == 0 else sigma
        self.sigma = _range(pair, "sigma", "GaussianBlur", symmetric=False, minimum=0.0)
        if not truncate > 0:
            raise ValueError(f"GaussianBlur: truncate must be positive, got {truncate}")
        self.truncate = float(truncate)

    @property
    def radius(self) -> int:
        return int(self.truncate * self.sigma[1] + 0.5)

    def kernels(self, sigmas: np.ndarray) -> np.ndarray:
        """One normalized 1-D kernel per σ, shape ``(len(sigmas), 2r + 1)``."""
        k = np.arange(-self.radius, self.radius + 1)
        weights = np.exp(-0.5 * (k[None, :] / np.asarray(sigmas, dtype=np.float64)[:, None]) ** 2)
        return weights / weights.sum(axis=1, keepdims=True)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("GaussianBlur", xb)
        sigmas = as_generator(rng).uniform(*self.sigma, size=len(xb))
        g = self.kernels(sigmas).astype(xb.dtype)  # (N, 2r + 1)
        r = self.radius
        out = np.pad(xb, ((0, 0), (0, 0), (r, r), (0, 0)), mode="symmetric")
        rows = np.lib.stride_tricks.sliding_window_view(out, 2 * r + 1, axis=2)  # (N, C, H, W, 2r + 1)
        out = np.einsum("nchwk,nk->nchw", rows, g)
        out = np.pad(out, ((0, 0), (0, 0), (0, 0), (r, r)), mode="symmetric")
        cols = np.lib.stride_tricks.sliding_window_view(out, 2 * r + 1, axis=3)
        return np.einsum("nchwk,nk->nchw", cols, g)

    def __repr__(self) -> str:
        return f"GaussianBlur(sigma={self.sigma}, truncate={self.truncate})"


class Cutout:
    """Fill one ``size × size`` square per image, centred on a uniformly drawn pixel (DeVries & Taylor, 2017).

    The square may stick out of the image (then less is covered), so every
    pixel is equally likely to be hidden. Forces the network to use the whole
    object, not its single most telling part.

    Parameters
    ----------
    size : int
        Side of the square, in pixels.
    fill : float
        Value written into the square (0: the data's mean after standardization).
    """

    def __init__(self, size: int, fill: float = 0.0):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"Cutout: size must be a positive int, got {size!r}")
        self.size, self.fill = int(size), float(fill)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("Cutout", xb)
        n, _, h, w = xb.shape
        rng = as_generator(rng)
        centre_row, centre_col = rng.integers(0, h, size=n), rng.integers(0, w, size=n)
        top, left = centre_row - self.size // 2, centre_col - self.size // 2
        rows, cols = np.arange(h), np.arange(w)
        inside_rows = (rows >= top[:, None]) & (rows < top[:, None] + self.size)  # (N, H)
        inside_cols = (cols >= left[:, None]) & (cols < left[:, None] + self.size)  # (N, W)
        hidden = inside_rows[:, None, :, None] & inside_cols[:, None, None, :]  # (N, 1, H, W)
        return np.where(hidden, xb.dtype.type(self.fill), xb)

    def __repr__(self) -> str:
        return f"Cutout(size={self.size}, fill={self.fill})"


class PCAColorJitter:
    """AlexNet's colour augmentation: shift every pixel's colour along the principal components of the data.

    With ``λ_i, p_i`` the eigenvalues and eigenvectors of the ``C × C``
    covariance of the training pixels' colours (fitted by :meth:`fit`), each
    image gets ``α_i ~ N(0, std²)`` and every pixel of it

    .. math::
        x' = x + \\sum_i α_i λ_i p_i,

    (Krizhevsky et al., 2012, with ``std = 0.1``): natural images vary in the
    intensity and colour of the light along these directions, so the label is
    unchanged.

    Parameters
    ----------
    std : float
        Standard deviation of the ``α_i``.
    """

    def __init__(self, std: float = 0.1):
        if not std >= 0:
            raise ValueError(f"PCAColorJitter: std must be >= 0, got {std}")
        self.std = float(std)

    def fit(self, x: np.ndarray) -> "PCAColorJitter":
        """Learn ``eigenvalues_`` (C,) and ``eigenvectors_`` (C, C), one per column, from images (N, C, H, W)."""
        x = _check_float_images("PCAColorJitter.fit", x)
        pixels = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)
        eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pixels, rowvar=False).reshape(x.shape[1], x.shape[1]))
        self.eigenvalues_, self.eigenvectors_ = np.clip(eigenvalues, 0, None), eigenvectors
        return self

    def offsets(self, alphas: np.ndarray) -> np.ndarray:
        """``Σ_i α_i λ_i p_i`` for each row of ``alphas`` (N, C): shape (N, C)."""
        return (alphas * self.eigenvalues_) @ self.eigenvectors_.T

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_float_images("PCAColorJitter", xb)
        if not hasattr(self, "eigenvalues_"):
            raise RuntimeError("PCAColorJitter: call fit(training_images) first")
        if xb.shape[1] != len(self.eigenvalues_):
            raise ValueError(f"PCAColorJitter: fitted on {len(self.eigenvalues_)} channels, got input {xb.shape}")
        alphas = as_generator(rng).normal(0.0, self.std, size=(len(xb), xb.shape[1]))
        return xb + self.offsets(alphas).astype(xb.dtype)[:, :, None, None]

    def __repr__(self) -> str:
        return f"PCAColorJitter(std={self.std})"
