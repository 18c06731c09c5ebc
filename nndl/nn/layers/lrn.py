"""Local response normalization across channels (AlexNet): the ``LocalResponseNorm`` module.

Kernels: ``local_response_norm_forward`` / ``local_response_norm_backward``.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.kernels import kernels
from nndl.nn.core.facts import ELEMENTWISE
from nndl.nn.core.module import Module


class LocalResponseNorm(Module):
    """Local response normalization across channels, as ``torch.nn.LocalResponseNorm`` (AlexNet).

    ``b_c = a_c / (k + α/n · Σ_{c' ∈ W(c)} a_{c'}²)^β`` over a window of
    ``n = size`` channels centred on ``c`` (see :func:`nndl.nn.functional.local_response_norm_forward`).
    The AlexNet paper writes ``k + α Σ a²`` with ``n=5, α=1e-4, β=0.75, k=2``;
    here (as in PyTorch) ``α`` is divided by ``n``, so the paper's layer is
    ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``.

    Parameters
    ----------
    size : int
        Number of channels in the window.
    alpha, beta, k : float

    Shapes
    ------
    input (N, C, *spatial) with at least 3 axes -> output of the same shape. No parameters.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0, dtype=np.float32):
        super().__init__(dtype)
        if isinstance(size, bool) or int(size) != size or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive integer, got {size!r}")
        if not k > 0:
            raise ValueError(f"LocalResponseNorm: k must be positive (it keeps the denominator away from 0), got {k!r}")
        if alpha < 0:
            raise ValueError(f"LocalResponseNorm: alpha must be non-negative, got {alpha!r}")
        self.size = int(size)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.k = float(k)
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        if x.ndim < 3:
            raise ValueError(f"{self.describe()}: expected input of shape (N, C, *spatial) with at least 3 axes, "
                             f"got {x.shape}")
        k = kernels()
        out, cache = k.local_response_norm_forward(x, self.size, self.alpha, self.beta, self.k)
        self._cache = (k, cache, x.shape)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        k, cache, shape = self._saved()
        if dout.shape != shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape {shape}")
        return k.local_response_norm_backward(dout, cache)

    def output_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.describe()}: expected input of shape (N, C, *spatial) with at least 3 axes, "
                             f"got {tuple(input_shape)}")
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

    train_eval_differs = False

    def macs(self, input_shape, output_shape) -> int:
        """0: a normalization without weights."""
        return 0

    def receptive_window(self, input_shape, output_shape):
        """Element-wise in space (it mixes neighbouring channels only)."""
        return ELEMENTWISE
