"""Class weights from counts, for imbalanced classification (scikit-learn's ``'balanced'``).

With ``N`` samples, ``C`` classes and ``n_c`` samples of class ``c``,

.. math::
    w_c = \\frac{N}{C \\, n_c},

so every class contributes the same total weight ``N / C`` to a weighted
loss ``Σ_i w_{y_i} ℓ_i``, as if the classes were balanced; a class half as
frequent as average weighs twice as much. Pass the result to
``nn.SoftmaxCrossEntropy(weight=...)`` or to a classical classifier's
``class_weight``.
"""

from __future__ import annotations

import numpy as np


def compute_class_weight(y, classes=None) -> np.ndarray:
    """``N / (C · n_c)`` for each class ``c``.

    Parameters
    ----------
    y : array_like, shape (N,)
        Class labels (any sortable values).
    classes : array_like, optional
        The classes to weigh, in the order of the result; every one must
        occur in ``y`` and every label of ``y`` must be among them. Default:
        the sorted distinct labels of ``y`` (``np.unique(y)``).

    Returns
    -------
    ndarray of float64, shape (C,)
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"compute_class_weight: expected a non-empty 1-D array of labels, got shape {y.shape}")
    present, counts = np.unique(y, return_counts=True)
    if classes is None:
        classes = present
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
        raise ValueError(f"compute_class_weight: classes must be distinct values in a 1-D array, got {classes!r}")
    missing = np.setdiff1d(classes, present)
    if missing.size:
        raise ValueError(f"compute_class_weight: classes {missing.tolist()} do not occur in y (a weight N/(C·0) "
                         f"is undefined)")
    extra = np.setdiff1d(present, classes)
    if extra.size:
        raise ValueError(f"compute_class_weight: labels {extra.tolist()} of y are not in classes")
    count_of = dict(zip(present.tolist(), counts.tolist()))
    n_c = np.array([count_of[c] for c in classes.tolist()], dtype=np.float64)
    return len(y) / (len(classes) * n_c)
