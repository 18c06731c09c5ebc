"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download needed)."""

from __future__ import annotations

import numpy as np


def load_digits(flatten: bool = False, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical-recognition digits shipped with scikit-learn.

    Parameters
    ----------
    flatten : bool
        Return rows of 64 features instead of 1x8x8 images.
    dtype : float32 or float64
        Floating type of the images.

    Returns
    -------
    images : ndarray, shape (1797, 1, 8, 8), or (1797, 64) if ``flatten``
        Pixel counts 0..16 divided by 16, in [0, 1].
    labels : ndarray of int64, shape (1797,)
        The digit, 0 to 9.

    Raises
    ------
    ImportError
        scikit-learn is not installed (``pip install "nndl[data]"``).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"load_digits: dtype must be float32 or float64, got {dtype}")
    try:  # imported here so that `import nndl` never needs scikit-learn
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError('load_digits needs scikit-learn, which holds the data: pip install "nndl[data]"') from error
    bunch = sklearn_load_digits()
    images = bunch.data.astype(dtype) / dtype.type(16)
    if not flatten:
        images = images.reshape(-1, 1, 8, 8)
    return images, bunch.target.astype(np.int64)
