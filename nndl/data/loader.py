"""Mini-batches over in-memory arrays, one pass over the data per iteration."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from nndl.random import as_generator

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class DataLoader:
    """Iterate over ``(xb, yb)`` mini-batches; each ``for`` loop is one epoch.

    Every epoch visits each sample exactly once: with ``shuffle=True`` the
    order is a fresh permutation of ``range(N)`` drawn from ``rng`` at the
    start of the epoch (sampling *without* replacement), so batches of an
    epoch are disjoint and cover the data set.

    Parameters
    ----------
    x : ndarray, shape (N, ...)
        Inputs; the first axis indexes samples.
    y : ndarray, shape (N, ...), or None
        Targets; ``yb`` is None when ``y`` is None.
    batch_size : int
        Samples per batch; the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        Draw a new permutation every epoch; otherwise keep the stored order.
    drop_last : bool
        Skip the final, incomplete batch (``N % batch_size`` samples).
    rng : Generator, int or None
        Source of the permutations and of the transform's randomness. An int
        seed makes the whole sequence of epochs reproducible.
    transform : callable ``transform(xb, rng) -> xb``, optional
        Applied to each input batch after it is gathered (data augmentation,
        see ``nndl.data.augmentation``); receives the loader's generator.
        Targets are not transformed.

    Notes
    -----
    Each batch is gathered with a single fancy-indexing operation
    ``x[indices]``, so it is a fresh copy: a transform may modify it in place
    without touching ``x``.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, shuffle: bool = True,
                 drop_last: bool = False, rng=None, transform: Transform | None = None):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"DataLoader: x must be a numpy array, got {type(x).__name__}")
        if x.ndim == 0:
            raise ValueError("DataLoader: x must have a sample axis, got a 0-d array")
        if y is not None:
            if not isinstance(y, np.ndarray):
                raise TypeError(f"DataLoader: y must be a numpy array or None, got {type(y).__name__}")
            if y.ndim == 0 or len(y) != len(x):
                raise ValueError(f"DataLoader: x has {len(x)} samples (shape {x.shape}) but y has shape {y.shape}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable as transform(xb, rng), got "
                            f"{type(transform).__name__}")
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.transform = transform
        self.rng = as_generator(rng)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        n = len(self.x)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for batch in range(len(self)):
            indices = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            xb = self.x[indices]
            if self.transform is not None:
                xb = self.transform(xb, self.rng)
            yield xb, (None if self.y is None else self.y[indices])

    def __repr__(self) -> str:
        return (f"DataLoader(num_samples={len(self.x)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, transform={self.transform!r})")
