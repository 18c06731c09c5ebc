"""Reference kernels: softmax cross-entropy on scores (logits) and the negative log-likelihood on log-probabilities.

Scores are ``(N, C)`` or ``(N, C, d1, ...)`` (one class distribution per
sample and position, e.g. per pixel); the kernels move the class axis last and
treat every position as one more sample (``M = N·d1·…`` rows). Reductions,
``dout`` and the upstream factor follow :mod:`nndl.nn.functional.losses`;
with ``'none'`` the losses have the shape (N, d1, ...).
"""

from __future__ import annotations

import numpy as np

from nndl.nn.functional.losses import reduce_losses, upstream
from nndl.nn.functional.softmax_kernels import log_softmax

__all__ = ["nll_loss_backward", "nll_loss_forward", "softmax_cross_entropy_backward", "softmax_cross_entropy_forward"]


def _classes_last(x: np.ndarray) -> np.ndarray:
    """(N, C) as is; (N, C, d1, ...) -> (N·d1·..., C), one row per sample and position."""
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_classes_last`: rows (M, C) back to ``shape``, C-contiguous."""
    if len(shape) == 2:
        return rows
    return np.ascontiguousarray(np.moveaxis(rows.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1))


def _per_sample_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the unreduced losses: the scores' without the class axis."""
    return (shape[0],) + tuple(shape[2:])


def softmax_cross_entropy_forward(scores: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                  label_smoothing: float = 0.0, reduction: str = "mean", ignore_index: int = -100):
    """Cross-entropy of ``softmax(s)`` against a target distribution (``torch.nn.CrossEntropyLoss``).

    With ``log p_n = log_softmax(s_n)`` (log-sum-exp, no overflow) and the
    target distribution ``q_n`` of sample ``n`` — one-hot at ``y_n`` for a
    label, the given row for a probability target — mixed with the uniform
    ``1/C`` when ``ε > 0``:

    .. math::
        ℓ_n = −Σ_c a_{nc} \\ln p_{nc}, \\qquad a_{nc} = w_c ((1 − ε) q_{nc} + ε/C)

    and ``L = Σ_n ℓ_n / D``: ``D = Σ_n w_{y_n}`` for labels (N without
    weights), ``D = N`` for probability targets (PyTorch's rules).

    Parameters
    ----------
    scores : ndarray, shape (N, C) or (N, C, d1, ...)
    target : ndarray
        Integer labels (N,) / (N, d1, ...) in [0, C) (or equal to
        ``ignore_index``), or float probabilities of the scores' shape and dtype.
    weight : ndarray, shape (C,), or None
        Class weights ``w_c`` (unbalanced data sets).
    label_smoothing : float in [0, 1]
        ``ε``.
    reduction : {'mean', 'sum', 'none'}
    ignore_index : int
        Samples with this label add nothing: no loss, no gradient, not counted in ``D``.

    Returns
    -------
    loss : float, or ndarray of shape (N, d1, ...) for 'none'
    cache : tuple ``(log p, the target's coefficients a, D, reduction, scores' shape)``
    """
    log_p = log_softmax(_classes_last(scores), axis=1)
    num_rows, num_classes = log_p.shape
    eps = label_smoothing
    w = None if weight is None else weight.astype(log_p.dtype)
    if np.issubdtype(target.dtype, np.integer):
        # a_n = (1 − ε) w_{y_n} onehot(y_n) + (ε/C) w, kept as the label and its weight (no C-wide one-hot row).
        labels = target.reshape(-1)
        kept = (labels != ignore_index).astype(log_p.dtype)  # 0 for an ignored sample: no loss, no gradient
        labels = np.where(kept > 0, labels, 0)  # any valid class for an ignored sample (its weight is 0)
        label_weight = kept if w is None else w[labels] * kept  # w_{y_n}
        losses = -label_weight * log_p[np.arange(num_rows), labels]  # −w_{y_n} ln p_{n y_n}
        if eps:
            uniform = -(log_p.sum(axis=1) if w is None else log_p @ w) * kept  # −Σ_c w_c ln p_{nc}
            losses = (1 - eps) * losses + (eps / num_classes) * uniform
        count = float(np.sum(label_weight, dtype=np.float64))  # D = Σ_n w_{y_n}
        target_cache = ("labels", labels, label_weight, kept, w, eps)
    else:
        q = _classes_last(target)
        if eps:
            q = (1 - eps) * q + eps / num_classes
        a = q if w is None else q * w
        losses = -np.sum(a * log_p, axis=1)
        count = num_rows  # D = N
        target_cache = ("probabilities", a)
    if reduction == "none":
        losses = losses.reshape(_per_sample_shape(scores.shape))
    return reduce_losses(losses, reduction, count), (log_p, target_cache, count, reduction, scores.shape)


def softmax_cross_entropy_backward(dout, cache):
    """Gradient of the softmax cross-entropy.

    Since ``∂(−\\ln p_c)/∂s_k = p_k − [k = c]``:

    .. math::
        ∂ℓ_n/∂s_{nk} = p_{nk} Σ_c a_{nc} − a_{nk}

    which for a one-hot target without weights or smoothing is the notes'
    ``softmax(s) − y`` (then divided by N for 'mean').

    Returns
    -------
    dscores : ndarray, the scores' shape
    """
    log_p, target_cache, count, reduction, shape = cache
    p = np.exp(log_p)  # softmax(s)
    if target_cache[0] == "probabilities":
        a = target_cache[1]
        gradient = p * np.sum(a, axis=1, keepdims=True) - a
    else:
        labels, label_weight, kept, w, eps = target_cache[1:]
        num_classes = p.shape[1]
        # Σ_c a_nc = (1 − ε) w_{y_n} + (ε/C) Σ_c w_c for a sample that is not ignored (w_{y_n} when ε = 0).
        total = label_weight
        if eps:
            total = (1 - eps) * label_weight + (eps / num_classes) * (num_classes if w is None else w.sum()) * kept
        gradient = p * total[:, None]
        gradient[np.arange(labels.size), labels] -= (1 - eps) * label_weight  # − a_{n y_n}: the one-hot part
        if eps:
            gradient -= (eps / num_classes) * kept[:, None] * (1 if w is None else w)  # − a_{nc}, its uniform part
    if reduction == "none":
        gradient = gradient * dout.reshape(-1, 1)  # one upstream gradient per sample (and position)
    else:
        gradient = gradient * upstream(dout, reduction, count)
    return _classes_back(gradient, shape)


def nll_loss_forward(log_probs: np.ndarray, labels: np.ndarray, weight: np.ndarray | None = None,
                     reduction: str = "mean", ignore_index: int = -100):
    """Negative log-likelihood of the labels under given log-probabilities ``z`` (``torch.nn.NLLLoss``).

    .. math::
        ℓ_n = −w_{y_n} z_{n y_n}, \\qquad L = Σ_n ℓ_n / D, \\quad D = Σ_n w_{y_n}

    (``D = N`` without weights); ``nll_loss(log_softmax(s), y)`` is the
    softmax cross-entropy.

    Parameters
    ----------
    log_probs : ndarray, shape (N, C) or (N, C, d1, ...)
    labels : ndarray of ints, shape (N,) or (N, d1, ...), in [0, C) or equal to ``ignore_index``
    weight : ndarray, shape (C,), or None
    reduction : {'mean', 'sum', 'none'}
    ignore_index : int
        Samples with this label add nothing (weight 0).

    Returns
    -------
    loss : float, or ndarray of shape (N, d1, ...) for 'none'
    cache : tuple ``(labels, w_{y_n}, D, reduction, input shape)``
    """
    z = _classes_last(log_probs)
    labels = labels.reshape(-1)
    kept = labels != ignore_index
    labels = np.where(kept, labels, 0)  # any valid class: an ignored sample is weighted 0 below
    label_weight = kept.astype(z.dtype) if weight is None else weight.astype(z.dtype)[labels] * kept
    losses = -label_weight * z[np.arange(labels.size), labels]
    count = float(np.sum(label_weight, dtype=np.float64))
    if reduction == "none":
        losses = losses.reshape(_per_sample_shape(log_probs.shape))
    return reduce_losses(losses, reduction, count), (labels, label_weight, count, reduction, log_probs.shape)


def nll_loss_backward(dout, cache):
    """``∂ℓ_n/∂z_{nk} = −w_{y_n} [k = y_n]``: one nonzero entry per row.

    Returns
    -------
    dlog_probs : ndarray, the input's shape
    """
    labels, label_weight, count, reduction, shape = cache
    gradient = np.zeros((labels.size, shape[1]), dtype=label_weight.dtype)
    gradient[np.arange(labels.size), labels] = -label_weight
    if reduction == "none":
        gradient = gradient * dout.reshape(-1, 1)
    else:
        gradient = gradient * upstream(dout, reduction, count)
    return _classes_back(gradient, shape)
