"""Local response normalization across channels (AlexNet): kernels and ``LocalResponseNorm``."""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module


def _window_sum(a: np.ndarray, size: int, before: int) -> np.ndarray:
    """``s_c = Σ_{c' = c − before}^{c − before + size − 1} a_{c'}`` along axis 1, zeros outside ``[0, C)``.

    A loop over the ``size`` offsets of the window (not over channels):
    exact, unlike differences of a cumulative sum, which lose precision in
    float32 when the values are large.
    """
    channels = a.shape[1]
    padded = np.zeros((a.shape[0], channels + size - 1) + a.shape[2:], dtype=a.dtype)
    padded[:, before:before + channels] = a
    total = padded[:, 0:channels].copy()
    for offset in range(1, size):
        total += padded[:, offset:offset + channels]
    return total


def lrn_forward(x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """Local response normalization across channels, PyTorch's formula.

    .. math::
        b_c = a_c \\Big/ \\Big(k + \\frac{α}{n} Σ_{c' ∈ W(c)} a_{c'}²\\Big)^{β},
        \\qquad W(c) = \\{c − ⌊n/2⌋, …, c + ⌊(n−1)/2⌋\\} ∩ [0, C)

    with ``n = size``: the window holds ``n`` channels centred on ``c`` (for
    even ``n`` it reaches one channel further back than forward), and the
    sum is divided by ``n`` even where the window is cut off at the edges.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
    size : int
        ``n``, the number of neighbouring channels.
    alpha, beta, k : float

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : tuple
        ``(x, out, D, D^{−β}, size, 2αβ/n)`` where ``D = k + (α/n) Σ a²``.
    """
    denom = _window_sum(x * x, size, size // 2)
    denom *= alpha / size
    denom += k
    inv_pow = denom ** -beta
    out = x * inv_pow
    return out, (x, out, denom, inv_pow, size, 2.0 * alpha * beta / size)


def lrn_backward(dout: np.ndarray, cache):
    """Gradient of local response normalization.

    With ``D_c = k + (α/n) S_c``, ``S_c = Σ_{c' ∈ W(c)} a_{c'}²`` and
    ``b_c = a_c D_c^{−β}``, the input ``a_j`` enters ``b_j`` directly and
    every ``D_c`` whose window holds ``j``, i.e. ``c ∈ W'(j) = {j − ⌊(n−1)/2⌋,
    …, j + ⌊n/2⌋}`` (the mirrored window):

    .. math::
        ∂L/∂a_j = δ_j D_j^{−β} − \\frac{2αβ}{n}\\, a_j Σ_{c ∈ W'(j)} δ_c\\, a_c D_c^{−β−1}
                = δ_j D_j^{−β} − \\frac{2αβ}{n}\\, a_j Σ_{c ∈ W'(j)} \\frac{δ_c b_c}{D_c}.

    The sum over the mirrored window is the forward window sum with the
    padding swapped (``⌊(n−1)/2⌋`` before, ``⌊n/2⌋`` after).

    Returns
    -------
    dx : ndarray, shape of the input
    """
    x, out, denom, inv_pow, size, coefficient = cache
    scatter = _window_sum(dout * out / denom, size, (size - 1) // 2)
    dx = dout * inv_pow
    dx -= coefficient * x * scatter
    return dx


class LocalResponseNorm(Module):
    """Local response normalization across channels, as ``torch.nn.LocalResponseNorm`` (AlexNet).

    ``b_c = a_c / (k + α/n · Σ_{c' ∈ W(c)} a_{c'}²)^β`` over a window of
    ``n = size`` channels centred on ``c`` (see :func:`lrn_forward`).
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
        out, self._cache = lrn_forward(x, self.size, self.alpha, self.beta, self.k)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        cache = self._saved()
        if dout.shape != cache[0].shape:
            raise ValueError(f"{self.describe()}: gradient shape {dout.shape} differs from the output shape "
                             f"{cache[0].shape}")
        return lrn_backward(dout, cache)

    def output_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.describe()}: expected input of shape (N, C, *spatial) with at least 3 axes, "
                             f"got {tuple(input_shape)}")
        return tuple(input_shape)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
