"""Base class and input checks shared by every loss.

A loss module checks its arguments (naming itself in the error) and computes
with the loss's kernel pair in the active kernel set; the formulas, the
reductions and the gradients are in :mod:`nndl.nn.functional.losses` and
:mod:`nndl.nn.functional.cross_entropy`.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.module import Module
from nndl.nn.functional.losses import REDUCTIONS


def as_class_weights(value, owner: str, name: str = "weight") -> np.ndarray:
    """Validate per-class weights: a non-empty 1-D array of finite, non-negative numbers.

    Returns a float copy (float arrays keep their dtype; integers become
    float64); forward passes convert it to the scores' dtype.
    """
    weights = np.array(value)
    if weights.dtype.kind in "iu":
        weights = weights.astype(np.float64)
    if weights.dtype.kind != "f" or weights.ndim != 1 or weights.size == 0:
        raise ValueError(f"{owner}: {name} must be a non-empty 1-D array of numbers, "
                         f"got shape {weights.shape} and dtype {weights.dtype}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"{owner}: {name} must be finite and non-negative, got {weights}")
    return weights


class Loss(Module):
    """A loss: ``forward(scores, target)`` returns a Python float, ``backward()`` returns ∂L/∂scores.

    Parameters
    ----------
    reduction : {'mean', 'sum', 'none'}
        How per-sample losses combine; ``'mean'`` divides by the number of
        samples (or of elements, for element-wise losses), as PyTorch.
        ``'none'`` returns the unreduced losses as an array, one per sample
        (per element for element-wise losses), and ``backward(dout)`` then
        takes their gradient ``dout`` of that shape (weight samples, mine
        hard examples, combine losses by hand).
    """

    #: Class-scoring losses (``(N, C, ...)`` scores, one loss per sample) drop this axis when unreduced.
    class_axis: int | None = None

    train_eval_differs = False  # a loss computes the same in both modes

    def expected_initial_loss(self, num_classes: int) -> float | None:
        """The loss of near-zero scores over ``num_classes`` classes (what a fresh classifier should start at).

        None when the loss has no such value (regression losses); the
        training doctor compares it with the loss at initialization.
        """
        return None

    def __init__(self, reduction: str = "mean", dtype=np.float32):
        super().__init__(dtype)
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: unknown reduction '{reduction}'; valid: {', '.join(REDUCTIONS)}")
        self.reduction = reduction
        self._cache = None

    def backward(self, dout=None):
        """∂L/∂scores. ``dout`` (default 1) scales it, for a loss inside a larger objective.

        With ``reduction='none'`` ``dout`` is required: the gradient of the
        per-sample losses, shaped like ``forward``'s result.
        """
        k, cache, scores_shape = self._saved()
        if self.reduction == "none":
            expected = self._unreduced_shape(scores_shape)
            if not isinstance(dout, np.ndarray) or dout.shape != expected:
                got = "nothing" if dout is None else f"shape {np.shape(dout)}"
                raise ValueError(f"{self.describe()}: reduction='none' gives one loss per sample; backward needs "
                                 f"their gradient dout of shape {expected}, got {got}")
        elif dout is None:
            dout = 1.0
        return self._backward(k, dout, cache)

    def _save(self, k, cache, scores_shape) -> None:
        """Keep what backward needs: the kernel set used, the kernel's cache and the scores' shape."""
        self._cache = (k, cache, tuple(scores_shape))

    def _unreduced_shape(self, scores_shape) -> tuple[int, ...]:
        """Shape of the ``reduction='none'`` result for scores of ``scores_shape``."""
        if self.class_axis is None:
            return tuple(scores_shape)
        return tuple(scores_shape[:self.class_axis]) + tuple(scores_shape[self.class_axis + 1:])

    def _backward(self, k, dout, cache):
        """∂(dout·L)/∂scores from the loss's backward kernel in the kernel set ``k``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _backward")

    def extra_repr(self) -> str:
        return f"reduction='{self.reduction}'"

    # ------------------------------------------------------------------ checks
    def _check_scores(self, scores, min_ndim: int = 1) -> np.ndarray:
        """Scores must be a finite float array (NaN or inf reaching a loss is an error)."""
        scores = self._check_input(scores, min_ndim=min_ndim)
        if not np.all(np.isfinite(scores)):
            bad = int(np.size(scores) - np.count_nonzero(np.isfinite(scores)))
            raise FloatingPointError(f"{self.describe()}: scores contain {bad} NaN or infinite value(s)")
        if scores.size == 0:
            # PyTorch returns NaN for the mean of nothing; an empty batch is a bug upstream.
            raise ValueError(f"{self.describe()}: scores of shape {scores.shape} are empty")
        return scores

    def _check_same_shape(self, scores: np.ndarray, target) -> np.ndarray:
        """An element-wise target: a finite float array of exactly the scores' shape, no broadcasting."""
        if not isinstance(target, np.ndarray):
            raise TypeError(f"{self.describe()}: target must be a numpy array, got {type(target).__name__}")
        if target.shape != scores.shape:
            raise ValueError(f"{self.describe()}: target shape {target.shape} differs from input shape {scores.shape}")
        if not np.issubdtype(target.dtype, np.floating):
            raise TypeError(f"{self.describe()}: target must be a float array, got dtype {target.dtype}")
        if target.dtype != scores.dtype:
            # Mixing would upcast the gradient silently (float32 scores, float64 target -> float64).
            raise TypeError(
                f"{self.describe()}: target dtype {target.dtype} differs from input dtype {scores.dtype}; "
                f"convert one of them")
        if not np.all(np.isfinite(target)):
            raise FloatingPointError(f"{self.describe()}: target contains NaN or infinite values")
        return target

    def _check_labels(self, labels, num_samples: int, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
        """Class labels: integers in ``[0, num_classes)`` (or equal to ``ignore_index``), one per sample."""
        if not isinstance(labels, np.ndarray):
            raise TypeError(f"{self.describe()}: labels must be a numpy array, got {type(labels).__name__}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"{self.describe()}: labels must be integers, got dtype {labels.dtype}")
        if labels.shape != (num_samples,):
            raise ValueError(f"{self.describe()}: expected labels of shape ({num_samples},), got {labels.shape}")
        checked = labels if ignore_index is None else labels[labels != ignore_index]
        if checked.size and (checked.min() < 0 or checked.max() >= num_classes):
            also = "" if ignore_index is None else f" (or equal ignore_index={ignore_index})"
            raise ValueError(
                f"{self.describe()}: labels must lie in [0, {num_classes}){also}, got values from "
                f"{checked.min()} to {checked.max()}")
        return labels
