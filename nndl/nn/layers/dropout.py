"""Inverted dropout: kernels and the ``Dropout`` / ``Dropout2d`` modules.

Notes 000 §8.6: in training, every unit is dropped with probability
``drop_prob`` and the kept ones are scaled by ``1/(1 − drop_prob)`` so that
the expected activation is unchanged; at test time the layer is the identity
(no rescaling needed, which is why *inverted* dropout is the usual form).

``drop_prob`` is PyTorch's ``p``: the probability of *dropping* a unit. (The
notes' and CS231n's ``p`` is the probability of *keeping* it; the name here
avoids the ambiguity.)
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module
from nndl.random import as_generator


def dropout_mask(shape: tuple[int, ...], drop_prob: float, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """The scaled mask ``m = 1[u ≥ drop_prob] / (1 − drop_prob)``, ``u ~ U[0, 1)`` i.i.d.

    Each entry is ``1/(1 − drop_prob)`` with probability ``1 − drop_prob``
    and ``0`` otherwise, so ``E[m] = 1``. Uniforms are drawn in ``dtype``
    (float32 draws are cheaper). ``drop_prob = 1`` gives an all-zero mask.
    """
    if drop_prob >= 1.0:
        return np.zeros(shape, dtype=dtype)
    mask = (rng.random(shape, dtype=dtype) >= drop_prob).astype(dtype)
    mask *= 1.0 / (1.0 - drop_prob)
    return mask


def dropout_forward(x: np.ndarray, mask: np.ndarray):
    """``y = x ⊙ m`` with a scaled mask from :func:`dropout_mask` (broadcast over the axes where it has size 1).

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : ndarray
        The mask.
    """
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """``∂L/∂x = δ ⊙ m``: a dropped unit passes no gradient, a kept one is scaled like its output."""
    return dout * cache


class _DropoutBase(Module):
    def __init__(self, drop_prob: float = 0.5, rng=None, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(drop_prob, bool) or not isinstance(drop_prob, (int, float, np.floating, np.integer)) \
                or not 0.0 <= drop_prob <= 1.0:
            raise ValueError(f"{type(self).__name__}: drop_prob (the probability of dropping a unit) must be in "
                             f"[0, 1], got {drop_prob!r}")
        self.drop_prob = float(drop_prob)
        self.rng = as_generator(rng)
        self._cache = None

    def _mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=1)
        self._check_shape(x.shape)
        if not self.training or self.drop_prob == 0.0:
            self._cache = (None, x.shape)
            return x
        mask = dropout_mask(self._mask_shape(x), self.drop_prob, self.rng, x.dtype)
        out, mask = dropout_forward(x, mask)
        self._cache = (mask, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        mask, shape = self._saved()
        if dout.shape != shape:
            # The mask would broadcast against a wrongly shaped gradient without complaint.
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        return dout if mask is None else dropout_backward(dout, mask)

    def _check_shape(self, shape) -> None:
        pass

    def output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Dropout(_DropoutBase):
    """Inverted dropout, as ``torch.nn.Dropout`` (``drop_prob`` is its ``p``).

    Training: ``y = x ⊙ m / (1 − drop_prob)`` with ``m_i ~ Bernoulli(1 − drop_prob)``
    drawn afresh on every forward pass; backward multiplies by the same mask.
    Evaluation: ``y = x``.

    Parameters
    ----------
    drop_prob : float in [0, 1]
        Probability of zeroing each unit. ``1`` zeroes everything (and every
        gradient), as PyTorch does, instead of dividing by zero.
    rng : Generator, int or None
        Source of the masks (the module's own Generator, ``self.rng``): the
        same seed gives the same sequence of masks.
    dtype : float32 or float64

    Shapes
    ------
    any input -> output of the same shape. No parameters.
    """

    def _mask_shape(self, x):
        return x.shape


class Dropout2d(_DropoutBase):
    """Channel dropout for ``(N, C, H, W)`` feature maps, as ``torch.nn.Dropout2d``.

    Zeroes whole channels: one Bernoulli draw per ``(n, c)``, shared by all
    ``H·W`` positions (neighbouring pixels are strongly correlated, so
    dropping single pixels would barely regularize a convolutional layer).
    Kept channels are scaled by ``1/(1 − drop_prob)``; identity at eval.

    Parameters
    ----------
    drop_prob : float in [0, 1]
        Probability of zeroing each channel.
    rng : Generator, int or None
    dtype : float32 or float64
    """

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected input of shape (N, C, H, W), got {tuple(shape)}")

    def _mask_shape(self, x):
        return x.shape[:2] + (1, 1)
