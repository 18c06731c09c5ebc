"""``GaussianNoise``: noise injected into hidden units, a regularizer (kernels: ``gaussian_noise_forward/backward``).

The notes list noise injection with data augmentation: adding noise to the
*inputs* is augmentation (``nndl.data.GaussianNoise``); adding it to hidden
units makes the layers after it robust to small changes of the features,
much as dropout does with multiplicative noise. Like Keras's
``GaussianNoise`` layer, it acts in training only.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core.kernels import kernels
from nndl.nn.core.module import Module
from nndl.random import as_generator


class GaussianNoise(Module):
    """Add ``N(0, std²)`` noise to every unit in training; the identity in evaluation.

    Training: ``y = x + σ ε``, ``ε ~ N(0, I)`` drawn afresh on every forward
    pass from the module's own Generator ``self.rng``; backward passes
    ``∂L/∂y`` through unchanged. Evaluation: ``y = x``. ``E[y] = x`` in both.

    Parameters
    ----------
    std : float >= 0
        Standard deviation ``σ`` of the noise.
    rng : Generator, int or None
    dtype : float32 or float64

    Shapes
    ------
    any input -> output of the same shape. No parameters.
    """

    def __init__(self, std: float = 0.1, rng=None, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(std, bool) or not isinstance(std, (int, float, np.integer, np.floating)) or not std >= 0:
            raise ValueError(f"GaussianNoise: std must be a number >= 0, got {std!r}")
        self.std = float(std)
        self.rng = as_generator(rng)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x, min_ndim=1)
        k = kernels()
        out, cache = k.gaussian_noise_forward(x, self.std, self.rng, self.training)
        self._cache = (k, cache, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, shape = self._saved()
        if dout.shape != shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        return k.gaussian_noise_backward(dout, cache)

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"std={self.std}"

    train_eval_differs = True  # noisy in training, the identity in evaluation

    def macs(self, input_shape, output_shape) -> int:
        """0: an addition of noise, no weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise."""
        return ELEMENTWISE
