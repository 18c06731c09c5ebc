"""Rectifiers: ReLU, LeakyReLU and ELU.

All three are the identity for ``z > 0`` and differ on ``z ≤ 0``: zero
(ReLU), a fixed slope (LeakyReLU), a saturating exponential (ELU). At the
kink ``z = 0`` each takes the left-hand derivative, as PyTorch does:
``ReLU'(0) = 0``, ``LeakyReLU'(0) = slope``, ``ELU'(0) = α``. The formulas
are in :mod:`nndl.nn.functional.activations`. The learned-slope variant,
PReLU, is in :mod:`nndl.nn.activations.prelu`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.activations.activation import Activation, real_argument
from nndl.nn.core.facts import RECTIFIER


class ReLU(Activation):
    """``ReLU(z) = max(0, z)``; derivative ``1[z > 0]`` (0 at ``z = 0``, as PyTorch)."""

    activation_facts = RECTIFIER

    def _forward(self, k, x):
        return k.relu_forward(x)

    def _backward(self, k, dout, cache):
        return k.relu_backward(dout, cache)


class LeakyReLU(Activation):
    """``LeakyReLU(z) = z`` for ``z > 0``, else ``negative_slope · z``.

    Parameters
    ----------
    negative_slope : float
        Slope for ``z ≤ 0`` (PyTorch's default 0.01). One set of notes writes
        ``max(0.1z, z)`` and another "0.01 for negative inputs": the slope is
        a hyperparameter (a learned one is :class:`~nndl.nn.PReLU`).

    Notes
    -----
    Derivative 1 for ``z > 0`` and ``negative_slope`` for ``z ≤ 0``.
    """

    def __init__(self, negative_slope: float = 0.01, dtype=np.float32):
        super().__init__(dtype)
        self.negative_slope = real_argument("LeakyReLU", "negative_slope", negative_slope)

    def _forward(self, k, x):
        return k.leaky_relu_forward(x, self.negative_slope)

    def _backward(self, k, dout, cache):
        return k.leaky_relu_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """``ELU(z) = z`` for ``z > 0``, else ``α (e^z − 1)``; derivative 1, resp. ``α e^z``.

    Parameters
    ----------
    alpha : float >= 0
        Value ``−α`` that the output saturates to for ``z → −∞``.
    """

    def __init__(self, alpha: float = 1.0, dtype=np.float32):
        super().__init__(dtype)
        self.alpha = real_argument("ELU", "alpha", alpha, minimum=0.0)

    def _forward(self, k, x):
        return k.elu_forward(x, self.alpha)

    def _backward(self, k, dout, cache):
        return k.elu_backward(dout, cache)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
