"""Reference kernels: batch normalization, layer normalization and local response normalization.

Batch and layer normalization are one formula over different axes (notes
000 §7, 004): centre and scale the values of a group, then apply a learned
affine map,

.. math::
    x̂ = (x − μ) / \\sqrt{σ² + ε}, \\qquad y = γ x̂ + β,

with ``μ, σ²`` the mean and (biased) variance of the group: per channel over
the batch and the positions for batch norm, per sample over its trailing
axes for layer norm. Local response normalization (AlexNet) divides each
value by a power of the energy of its neighbouring channels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["batch_norm_backward", "batch_norm_forward", "layer_norm_backward", "layer_norm_forward",
           "local_response_norm_backward", "local_response_norm_forward"]


# ---------------------------------------------------------------------- batch normalization
class BatchNormCache(NamedTuple):
    """What :func:`batch_norm_backward` needs; ``mean`` and ``var`` are the statistics used, shape (C,)."""

    x_hat: np.ndarray
    inv_std: np.ndarray
    weight: np.ndarray | None
    mean: np.ndarray
    var: np.ndarray
    training: bool


def _channel_axes(x: np.ndarray):
    """The axes batch norm reduces over (all but the channels, axis 1) and the shape of a broadcast (C,) vector."""
    return (0, *range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float = 1e-5,
                       running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None):
    """Normalize each channel of ``x`` and apply ``y = γ x̂ + β``.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, *spatial)
    weight, bias : ndarray, shape (C,), or None
        ``γ`` and ``β``; ``None`` for no affine map (``γ = 1, β = 0``).
    eps : float
        ``ε`` added to the variance.
    running_mean, running_var : ndarray, shape (C,), or None
        Given both, normalize with them (evaluation mode). Omitted, use the
        batch statistics (training mode): ``μ_c`` the mean and ``σ_c²`` the
        *biased* variance over the ``m = N·H·W`` values of channel ``c``.
        (Updating the running estimates is the module's job.)

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : BatchNormCache
        ``cache.mean`` and ``cache.var`` are the statistics used.
    """
    axes, shape = _channel_axes(x)
    training = running_mean is None
    if training:
        if x.size // x.shape[1] < 2:
            raise ValueError(
                f"batch_norm_forward: expected more than 1 value per channel when training, got input shape {x.shape}")
        mean = x.mean(axis=axes)                                    # μ_c = (1/m) Σ_i x_i
        var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)      # σ_c² = (1/m) Σ_i (x_i − μ_c)²
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)                              # 1/σ with σ = √(σ² + ε)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)      # x̂ = (x − μ)/σ
    gamma = 1 if weight is None else weight.reshape(shape)
    beta = 0 if bias is None else bias.reshape(shape)
    out = gamma * x_hat + beta                                      # y = γ x̂ + β
    return out, BatchNormCache(x_hat, inv_std, weight, mean, var, training)


def batch_norm_backward(dout: np.ndarray, cache: BatchNormCache):
    """Gradients of batch normalization.

    With ``δ = ∂L/∂y`` and, per channel, ``m`` values and ``σ = √(σ² + ε)``:

    .. math::
        ∂L/∂β = Σ_i δ_i, \\qquad ∂L/∂γ = Σ_i δ_i x̂_i.

    *Evaluation mode* (fixed μ, σ): ``y`` is affine in ``x``, so
    ``∂L/∂x_i = (γ/σ) δ_i``.

    *Training mode* (μ, σ depend on every ``x_j`` of the channel). Write
    ``g_i = ∂L/∂x̂_i = γ δ_i``. From ``∂μ/∂x_j = 1/m``,
    ``∂σ²/∂x_j = 2 (x_j − μ)/m`` and ``x̂_i = (x_i − μ)/σ``:

    .. math::
        ∂x̂_i/∂x_j = \\frac{1}{σ}\\Big(1[i=j] − \\frac{1}{m} − \\frac{x̂_i x̂_j}{m}\\Big)

    (the last term is ``(x_i − μ) · (−½ σ^{-3}) · 2(x_j − μ)/m``; the
    ``Σ_i (x_i − μ)`` term from ``∂μ`` inside ``σ²`` vanishes). Summing
    ``g_i ∂x̂_i/∂x_j`` over ``i`` gives the compact form

    .. math::
        ∂L/∂x_j = \\frac{γ}{σ}\\Big(δ_j − \\overline{δ} − x̂_j\\,\\overline{δ x̂}\\Big),
        \\qquad \\overline{δ} = \\tfrac{1}{m}Σ_i δ_i = \\tfrac{∂L/∂β}{m},
        \\quad \\overline{δ x̂} = \\tfrac{1}{m}Σ_i δ_i x̂_i = \\tfrac{∂L/∂γ}{m}.

    Parameters
    ----------
    dout : ndarray, shape of the forward input
    cache : BatchNormCache from :func:`batch_norm_forward`

    Returns
    -------
    dx : ndarray, shape of the input
    dweight, dbias : ndarray, shape (C,), or None when there is no affine map (``weight`` None)
    """
    axes, shape = _channel_axes(dout)
    x_hat = cache.x_hat
    dbias = dout.sum(axis=axes)                                     # ∂L/∂β = Σ_i δ_i
    dweight = (dout * x_hat).sum(axis=axes)                         # ∂L/∂γ = Σ_i δ_i x̂_i
    gamma = 1 if cache.weight is None else cache.weight
    scale = (gamma * cache.inv_std).reshape(shape)                  # γ/σ
    if cache.training:
        m = dout.size // dout.shape[1]
        # ∂L/∂x = (γ/σ)(δ − mean(δ) − x̂ · mean(δ x̂))
        dx = scale * (dout - dbias.reshape(shape) / m - x_hat * (dweight.reshape(shape) / m))
    else:
        dx = scale * dout                                           # ∂L/∂x = (γ/σ) δ
    if cache.weight is None:
        return dx, None, None
    return dx, dweight, dbias


# ---------------------------------------------------------------------- layer normalization
def layer_norm_forward(x: np.ndarray, normalized_ndim: int, weight: np.ndarray | None, bias: np.ndarray | None,
                       eps: float = 1e-5):
    """Normalize every sample over its last ``normalized_ndim`` axes, then ``y = γ ⊙ x̂ + β``.

    .. math::
        μ = \\tfrac{1}{D} Σ_k x_k, \\quad σ² = \\tfrac{1}{D} Σ_k (x_k − μ)², \\quad
        x̂_k = (x_k − μ)/\\sqrt{σ² + ε}, \\quad y_k = γ_k x̂_k + β_k

    with ``k`` running over the ``D`` entries of the normalized axes (biased
    variance, as PyTorch).

    Parameters
    ----------
    x : ndarray, shape (*, *normalized_shape)
    normalized_ndim : int
        How many trailing axes to normalize over.
    weight, bias : ndarray, shape normalized_shape, or None
        ``γ`` and ``β`` (element-wise, not per channel); ``None`` for 1 and 0.
    eps : float

    Returns
    -------
    out : ndarray, shape of ``x``
    cache : tuple ``(x̂, 1/σ, weight, has_bias, normalized axes)``
    """
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)                         # μ = (1/D) Σ_k x_k
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)          # σ² = (1/D) Σ_k (x_k − μ)²
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std                                    # x̂ = (x − μ)/σ
    gamma = 1 if weight is None else weight
    beta = 0 if bias is None else bias
    out = gamma * x_hat + beta                                      # y = γ ⊙ x̂ + β
    return out, (x_hat, inv_std, weight, bias is not None, axes)


def layer_norm_backward(dout: np.ndarray, cache):
    """Gradients of layer normalization.

    Per sample, with ``δ = ∂L/∂y``, ``g = ∂L/∂x̂ = γ ⊙ δ`` and ``σ = √(σ² + ε)``
    (the derivation of batch normalization's, over the ``D`` normalized
    entries instead of over the batch):

    .. math::
        ∂L/∂x_k = \\frac{1}{σ}\\Big(g_k − \\overline{g} − x̂_k\\,\\overline{g x̂}\\Big), \\qquad
        ∂L/∂γ = Σ_{samples} δ ⊙ x̂, \\qquad ∂L/∂β = Σ_{samples} δ

    where the bars are means over the ``D`` entries of one sample.

    Returns
    -------
    dx : ndarray, shape of the input
    dweight, dbias : ndarray, shape normalized_shape, or None
    """
    x_hat, inv_std, weight, has_bias, axes = cache
    samples = tuple(range(dout.ndim - len(axes)))                   # the leading (batch) axes
    dweight = (dout * x_hat).sum(axis=samples) if weight is not None else None    # ∂L/∂γ = Σ δ ⊙ x̂
    dbias = dout.sum(axis=samples) if has_bias else None                           # ∂L/∂β = Σ δ
    g = dout if weight is None else dout * weight                   # g = ∂L/∂x̂ = γ ⊙ δ
    # ∂L/∂x = (1/σ)(g − mean(g) − x̂ · mean(g x̂))
    dx = inv_std * (g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
    return dx, dweight, dbias


# ---------------------------------------------------------------------- local response normalization
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


def local_response_norm_forward(x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
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
    denom = _window_sum(x * x, size, size // 2)                     # S_c = Σ_{c' ∈ W(c)} a_{c'}²
    denom *= alpha / size
    denom += k                                                      # D_c = k + (α/n) S_c
    inv_pow = denom ** -beta
    out = x * inv_pow                                               # b_c = a_c D_c^{−β}
    return out, (x, out, denom, inv_pow, size, 2.0 * alpha * beta / size)


def local_response_norm_backward(dout: np.ndarray, cache):
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
    scatter = _window_sum(dout * out / denom, size, (size - 1) // 2)    # Σ_{c ∈ W'(j)} δ_c b_c / D_c
    dx = dout * inv_pow
    dx -= coefficient * x * scatter
    return dx
