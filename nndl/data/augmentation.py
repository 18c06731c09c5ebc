"""Data augmentation as batch transforms ``transform(xb, rng) -> xb``.

The notes: flip, crop, scale, rotate and inject noise to make more training
data out of the same images. Each transform here acts on a whole NCHW batch
at once (one random draw per image, no Python loop over images), never
modifies its input, keeps the input's dtype, and takes its randomness from
the ``rng`` it is called with, so ``DataLoader(x, y, transform=..., rng=seed)``
is reproducible. Apply augmentation to training batches only.

This file holds flips, crops, input noise and :class:`Compose`; rotation,
scale and translation are in :mod:`nndl.data.augment_geometric`; brightness,
contrast, blur, cutout and PCA colour jitter in
:mod:`nndl.data.augment_photometric`. Noise injected into hidden units is a
layer, ``nn.GaussianNoise``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from nndl.random import as_generator

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_images(name: str, xb) -> np.ndarray:
    if not isinstance(xb, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array, got {type(xb).__name__}")
    if xb.ndim != 4:
        raise ValueError(f"{name}: expected a batch of images (N, C, H, W), got shape {xb.shape}")
    return xb


def _check_prob(name: str, prob) -> float:
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"{name}: prob must be in [0, 1], got {prob}")
    return float(prob)


class RandomHorizontalFlip:
    """Mirror each image left-right (reverse the W axis) with probability ``prob``.

    Parameters
    ----------
    prob : float
        Probability that a given image is flipped; each image is decided
        independently.
    """

    def __init__(self, prob: float = 0.5):
        self.prob = _check_prob("RandomHorizontalFlip", prob)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_images("RandomHorizontalFlip", xb)
        flip = as_generator(rng).random(len(xb)) < self.prob
        out = xb.copy()
        out[flip] = xb[flip, :, :, ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(prob={self.prob})"


class RandomCrop:
    """Pad each image, then cut a ``size`` window at a random position (per image).

    Parameters
    ----------
    size : int or (int, int)
        Output height and width.
    padding : int or (int, int)
        Pixels added on each side of H and W before cropping (4 with size 32
        is the usual CIFAR-10 recipe: shifts of up to 4 pixels).
    padding_mode : {'constant', 'edge', 'reflect', 'symmetric'}
        How the border is filled (``np.pad`` modes, PyTorch's names).
    fill : float
        Value of the border for ``padding_mode='constant'``.

    Notes
    -----
    With padded image :math:`P` and offsets :math:`(t, l)` drawn uniformly
    from :math:`[0, H + 2p_h - h] \\times [0, W + 2p_w - w]`, the output is
    :math:`P[:, t:t+h, l:l+w]`. All crops of the batch are gathered in one
    fancy-indexing step on a strided window view.
    """

    def __init__(self, size: int | tuple[int, int], padding: int | tuple[int, int] = 0,
                 padding_mode: str = "constant", fill: float = 0.0):
        self.size = self._pair(size, "size", minimum=1)
        self.padding = self._pair(padding, "padding", minimum=0)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"RandomCrop: unknown padding_mode '{padding_mode}'; valid: {', '.join(PADDING_MODES)}")
        self.padding_mode = padding_mode
        self.fill = fill

    @staticmethod
    def _pair(value, what: str, minimum: int) -> tuple[int, int]:
        pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
        if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                                 for v in pair):
            raise ValueError(f"RandomCrop: {what} must be an int >= {minimum} or a pair of them, got {value!r}")
        return int(pair[0]), int(pair[1])

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        xb = _check_images("RandomCrop", xb)
        (h, w), (pad_h, pad_w) = self.size, self.padding
        widths = ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w))
        kwargs = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
        padded = np.pad(xb, widths, mode=self.padding_mode, **kwargs) if pad_h or pad_w else xb
        height, width = padded.shape[2:]
        if h > height or w > width:
            raise ValueError(f"RandomCrop: crop {self.size} larger than the padded image ({height}, {width}) "
                             f"from input {xb.shape}")
        rng = as_generator(rng)
        top = rng.integers(0, height - h + 1, size=len(xb))
        left = rng.integers(0, width - w + 1, size=len(xb))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
        # windows[n, c, t, l] is the (h, w) crop at (t, l); indexing axes 0, 2, 3
        # with arrays (separated by the channel slice) puts N first: (N, C, h, w).
        return windows[np.arange(len(xb)), :, top, left]

    def __repr__(self) -> str:
        return (f"RandomCrop(size={self.size}, padding={self.padding}, padding_mode='{self.padding_mode}', "
                f"fill={self.fill})")


class GaussianNoise:
    """Add independent zero-mean Gaussian noise: :math:`x' = x + \\sigma \\epsilon`, :math:`\\epsilon \\sim N(0, 1)`.

    Parameters
    ----------
    std : float
        Standard deviation :math:`\\sigma` of the noise.
    """

    def __init__(self, std: float):
        if not std >= 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        if not isinstance(xb, np.ndarray) or xb.dtype not in (np.float32, np.float64):
            got = xb.dtype if isinstance(xb, np.ndarray) else type(xb).__name__
            raise TypeError(f"GaussianNoise: expected a float32 or float64 array, got {got}")
        noise = as_generator(rng).standard_normal(xb.shape, dtype=xb.dtype)
        return xb + xb.dtype.type(self.std) * noise

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


class Compose:
    """Apply transforms in order, all drawing from the same ``rng``.

    Parameters
    ----------
    transforms : sequence of callables ``t(xb, rng) -> xb``
    """

    def __init__(self, transforms: Sequence[Callable[[np.ndarray, np.random.Generator], np.ndarray]]):
        transforms = list(transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable as t(xb, rng), got {type(t).__name__}")
        self.transforms = transforms

    def __call__(self, xb: np.ndarray, rng=None) -> np.ndarray:
        rng = as_generator(rng)
        for transform in self.transforms:
            xb = transform(xb, rng)
        return xb

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"
