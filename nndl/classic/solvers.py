"""Batch, mini-batch and stochastic gradient descent for the linear models.

One loop serves linear, logistic and softmax regression and the linear SVM:
each supplies ``loss_and_grad(weight, bias, X_batch, Y_batch) -> (J, dW, db)``
for its objective, and the loop applies the notes' update

.. math::
    W ← W − η ∇_W J, \\qquad b ← b − η ∇_b J

over the whole training set per step (batch GD, ``batch_size=None``), over
mini-batches of ``batch_size`` samples (MBGD) or over single samples
(SGD, ``batch_size=1``). Mini-batches partition a fresh permutation of the
samples each epoch (sampling without replacement).
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from nndl.classic.base import ConvergenceWarning, check_positive

LossAndGrad = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def gradient_descent(loss_and_grad: LossAndGrad, weight: np.ndarray, bias: np.ndarray,
                     X: np.ndarray, Y: np.ndarray, *, lr: float, max_epochs: int,
                     batch_size: int | None, tol: float, rng: np.random.Generator,
                     shuffle: bool, owner: str):
    """Minimize ``J(W, b)`` in place by (mini-batch) gradient descent.

    Parameters
    ----------
    loss_and_grad : callable
        ``(W, b, X_batch, Y_batch) -> (J, ∂J/∂W, ∂J/∂b)`` on one batch.
    weight : ndarray, shape (D, K)
        ``W``, updated in place.
    bias : ndarray, shape (K,)
        ``b``, updated in place (left at 0 by callers without an intercept,
        whose ``loss_and_grad`` returns a zero ``db``).
    X : ndarray, shape (N, D)
    Y : ndarray, shape (N, ...)
        Targets in whatever form ``loss_and_grad`` expects, indexed by sample.
    lr : float
        Step size η.
    max_epochs : int
        Passes over the training set.
    batch_size : int or None
        ``None`` (or ``>= N``) for full-batch gradient descent.
    tol : float
        Stop when the epoch's objective changes by at most
        ``tol * max(1, |J|)`` from the previous epoch's.
    rng : Generator
        Shuffles the samples each epoch when ``shuffle``.
    owner : str
        Estimator name for messages.

    Returns
    -------
    loss_curve : list of float
        Objective per epoch (full batch: ``J`` before the epoch's step;
        mini-batch: mean of the batches' ``J`` during the epoch).
    converged : bool

    Raises
    ------
    FloatingPointError
        The objective became NaN or infinite: the step size is too large.
    """
    n_samples = X.shape[0]
    full_batch = batch_size is None or batch_size >= n_samples
    loss_curve: list[float] = []
    converged = False
    for epoch in range(max_epochs):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected and reported below
            loss = _run_epoch(loss_and_grad, weight, bias, X, Y, lr, batch_size, full_batch, rng, shuffle)
        if not np.isfinite(loss) or not np.all(np.isfinite(weight)):
            raise FloatingPointError(
                f"{owner}: gradient descent diverged at epoch {epoch + 1} (objective {loss}); "
                f"lower lr (currently {lr}) or standardize the features"
            )
        loss_curve.append(float(loss))
        if len(loss_curve) > 1 and abs(loss_curve[-2] - loss_curve[-1]) <= tol * max(1.0, abs(loss_curve[-1])):
            converged = True
            break
    if not converged:
        warnings.warn(
            f"{owner}: stopped at max_epochs={max_epochs} before the objective settled within "
            f"tol={tol}; raise max_epochs or lr, or standardize the features",
            ConvergenceWarning, stacklevel=3,
        )
    return loss_curve, converged


def _run_epoch(loss_and_grad, weight, bias, X, Y, lr, batch_size, full_batch, rng, shuffle) -> float:
    """One epoch of updates in place; returns the epoch's objective (see ``loss_curve``)."""
    if full_batch:
        loss, dweight, dbias = loss_and_grad(weight, bias, X, Y)
        weight -= lr * dweight
        bias -= lr * dbias
        return loss
    n_samples = X.shape[0]
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    total = 0.0
    for start in range(0, n_samples, batch_size):
        batch = order[start:start + batch_size]
        batch_loss, dweight, dbias = loss_and_grad(weight, bias, X[batch], Y[batch])
        weight -= lr * dweight
        bias -= lr * dbias
        total += batch_loss * len(batch)
    return total / n_samples


def check_gd_params(owner: str, *, lr, max_epochs, batch_size, tol) -> None:
    """Shared hyperparameter checks for the gradient-descent solvers."""
    check_positive(owner, "lr", lr)
    check_positive(owner, "max_epochs", max_epochs, integer=True)
    if batch_size is not None:
        check_positive(owner, "batch_size", batch_size, integer=True)
    check_positive(owner, "tol", tol, allow_zero=True)
