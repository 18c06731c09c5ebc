"""Dropout: the ``Dropout`` / ``Dropout2d`` modules (kernels: ``dropout_forward`` / ``dropout_backward``).

In training every unit (``Dropout``) or every channel (``Dropout2d``) is
dropped with probability ``drop_prob``. In the *inverted* form (default) the
kept ones are scaled by ``1/(1 − drop_prob)`` and in evaluation the layer is
the identity; in the *standard* form they pass unscaled and evaluation
multiplies by the keep probability ``1 − drop_prob``. ``drop_prob`` is
PyTorch's ``p``, the probability of *dropping*. Each module draws its masks
from its own Generator, ``self.rng``.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core.module import Module
from nndl.nn.functional.dropout import check_dropout_mode
from nndl.random import as_generator


class _DropoutBase(Module):
    def __init__(self, drop_prob: float = 0.5, rng=None, dtype=np.float32, mode: str = "inverted"):
        super().__init__(dtype)
        self.mode = check_dropout_mode(mode, type(self).__name__)
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
        k = kernels()
        out, cache = k.dropout_forward(x, self.drop_prob, self.rng, self.training, self._mask_shape(x),
                                       mode=self.mode)
        self._cache = (k, cache, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, shape = self._saved()
        if dout.shape != shape:
            # The mask would broadcast against a wrongly shaped gradient without complaint.
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        return k.dropout_backward(dout, cache)

    def _check_shape(self, shape) -> None:
        pass

    def output_shape(self, input_shape):
        self._check_shape(tuple(input_shape))
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}" + ("" if self.mode == "inverted" else f", mode={self.mode!r}")

    train_eval_differs = True  # drops in training, the identity (or a scaling) in evaluation

    def macs(self, input_shape, output_shape) -> int:
        """0: a mask, no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise."""
        return ELEMENTWISE


class Dropout(_DropoutBase):
    """Dropout; the default inverted form is ``torch.nn.Dropout`` (``drop_prob`` is its ``p``).

    Inverted form. Training: ``y = x ⊙ m / (1 − drop_prob)`` with
    ``m_i ~ Bernoulli(1 − drop_prob)`` drawn afresh on every forward pass;
    backward multiplies by the same mask. Evaluation: ``y = x``.

    Standard form (the original paper's). Training: ``y = x ⊙ m``.
    Evaluation: ``y = (1 − drop_prob) x``, the expected training output.

    Both give ``E_train[y] = y_eval``; they differ only in where the factor
    ``1 − drop_prob`` is applied. The inverted form leaves the test-time
    network untouched, which is why it is the usual one.

    Parameters
    ----------
    drop_prob : float in [0, 1]
        Probability of zeroing each unit. ``1`` zeroes everything (and every
        gradient), as PyTorch does, instead of dividing by zero.
    rng : Generator, int or None
        Source of the masks (the module's own Generator, ``self.rng``): the
        same seed gives the same sequence of masks.
    dtype : float32 or float64
    mode : ``'inverted'`` (default) or ``'standard'``

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
    Kept channels are scaled by ``1/(1 − drop_prob)``; identity at eval
    (``mode='standard'``: unscaled in training, ``× (1 − drop_prob)`` at eval).

    Parameters
    ----------
    drop_prob : float in [0, 1]
        Probability of zeroing each channel.
    rng : Generator, int or None
    dtype : float32 or float64
    mode : ``'inverted'`` (default) or ``'standard'``
    """

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise ValueError(f"{self.describe()}: expected input of shape (N, C, H, W), got {tuple(shape)}")

    def _mask_shape(self, x):
        return x.shape[:2] + (1, 1)
