"""Reference kernels: dropout, inverted and standard.

Notes 000 §8.6: in training, every unit is dropped with probability
``drop_prob``. Two forms keep the expected activation the same in training
and at test time:

- *inverted* (the usual form, PyTorch's): the kept units are scaled by
  ``1/(1 − drop_prob)`` in training, so ``E[y] = x``; at test time the layer
  is the identity;
- *standard* (the original paper's): the kept units pass unscaled in
  training, so ``E[y] = (1 − drop_prob) x``; at test time every activation
  is multiplied by the keep probability ``1 − drop_prob`` to match.

``drop_prob`` is PyTorch's ``p``: the probability of *dropping* a unit. (The
notes' and CS231n's ``p`` is the probability of *keeping* it; the name here
avoids the ambiguity.) The randomness comes from the ``rng`` argument only:
the same Generator state gives the same mask.
"""

from __future__ import annotations

import numpy as np

from nndl.random import as_generator

__all__ = ["dropout_backward", "dropout_forward", "dropout_mask"]

DROPOUT_MODES = ("inverted", "standard")


def check_dropout_mode(mode, where: str) -> str:
    """``mode`` if it is one of :data:`DROPOUT_MODES`, else a ValueError naming ``where``."""
    if mode not in DROPOUT_MODES:
        raise ValueError(f"{where}: mode must be one of {', '.join(DROPOUT_MODES)}, got {mode!r}")
    return mode


def dropout_mask(shape: tuple[int, ...], drop_prob: float, rng, dtype=np.float32, scaled: bool = True) -> np.ndarray:
    """The mask ``m = 1[u ≥ drop_prob] / (1 − drop_prob)``, ``u ~ U[0, 1)`` i.i.d. (unscaled: ``1[u ≥ drop_prob]``).

    Each entry is ``1/(1 − drop_prob)`` with probability ``1 − drop_prob``
    and ``0`` otherwise, so ``E[m] = 1`` (with ``scaled=False``, 1 or 0 and
    ``E[m] = 1 − drop_prob``). Uniforms are drawn in ``dtype`` (float32
    draws are cheaper) from ``rng`` (a Generator, advanced; an int seed; or
    None for fresh entropy). ``drop_prob = 1`` gives an all-zero mask.
    """
    if drop_prob >= 1.0:
        return np.zeros(shape, dtype=dtype)
    mask = (as_generator(rng).random(shape, dtype=dtype) >= drop_prob).astype(dtype)
    if scaled:
        mask *= 1.0 / (1.0 - drop_prob)
    return mask


def dropout_forward(x: np.ndarray, drop_prob: float = 0.5, rng=None, training: bool = True, mask_shape=None,
                    mode: str = "inverted"):
    """Dropout: ``y = x ⊙ m`` with the mask ``m`` of :func:`dropout_mask` in training.

    Inverted (default): ``m`` scaled by ``1/(1 − drop_prob)``, ``y = x`` at
    test time. Standard: ``m ∈ {0, 1}``, ``y = (1 − drop_prob) x`` at test
    time. Either way ``E_train[y] = y_test``.

    Parameters
    ----------
    x : ndarray, any shape
    drop_prob : float in [0, 1]
        Probability of zeroing a unit (PyTorch's ``p``).
    rng : Generator, int or None
        Source of the mask.
    training : bool
        False (or ``drop_prob = 0``): the identity, nothing drawn.
    mask_shape : tuple or None
        Shape of the mask, broadcast over ``x`` (each axis ``x``'s size or
        1): ``(N, C, 1, 1)`` drops whole channels of images (``Dropout2d``).
        Default: ``x.shape``, one draw per unit.
    mode : ``'inverted'`` or ``'standard'``

    Returns
    -------
    out : ndarray, shape of ``x`` (``x`` itself when nothing is dropped)
    cache : ndarray, float or None
        What δ is multiplied by in backward: the mask, the test-time factor
        ``1 − drop_prob`` (standard form), or None for the identity.
    """
    check_dropout_mode(mode, "dropout_forward")
    if not training:
        if mode == "standard" and drop_prob != 0.0:
            keep = x.dtype.type(1.0 - drop_prob)
            return x * keep, keep                          # y = (1 − drop_prob) x: the expected training output
        return x, None
    if drop_prob == 0.0:
        return x, None
    mask_shape = x.shape if mask_shape is None else tuple(mask_shape)
    if len(mask_shape) != x.ndim or any(m not in (1, n) for m, n in zip(mask_shape, x.shape)):
        raise ValueError(f"dropout_forward: mask_shape {mask_shape} must have x's axes {x.shape}, each its size or 1")
    mask = dropout_mask(mask_shape, drop_prob, rng, x.dtype, scaled=(mode == "inverted"))
    return x * mask, mask                                  # y = x ⊙ m


def dropout_backward(dout: np.ndarray, cache) -> np.ndarray:
    """``∂L/∂x = δ ⊙ m``: a dropped unit passes no gradient, a kept one is scaled like its output.

    For the standard form at test time, ``∂L/∂x = (1 − drop_prob) δ``.
    """
    return dout if cache is None else dout * cache
