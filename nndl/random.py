"""Explicit randomness: every stochastic component takes ``rng``; one seed reaches the rest.

A component given ``rng=None`` draws its own generator from nndl's default
generator. That generator starts from fresh OS entropy, so by default every
run differs; :func:`manual_seed` reseeds it, after which every component built
with ``rng=None`` gets the same generator as in any other run seeded alike
(weights, dropout masks, shuffling), in the order the components are built.
"""

from __future__ import annotations

import numpy as np

RNGLike = "np.random.Generator | int | None"

_default = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator that every ``rng=None`` in nndl draws from (as ``torch.manual_seed``).

    Layers, models, data loaders and the Trainer built after this call with
    ``rng=None`` are reproducible: the same seed and the same sequence of
    constructions give bit-identical initial weights and random streams.
    An explicit ``rng`` (a Generator or an int) is never affected.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Examples
    --------
    >>> import nndl
    >>> nndl.manual_seed(0)
    >>> a = nndl.nn.Linear(3, 2).weight.data
    >>> nndl.manual_seed(0)
    >>> bool((nndl.nn.Linear(3, 2).weight.data == a).all())
    True
    """
    global _default
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"manual_seed: seed must be a non-negative int, got {seed!r}")
    _default = np.random.default_rng(int(seed))


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``rng``.

    Parameters
    ----------
    rng : Generator, int or None
        A Generator is used as is (its state advances); an int seeds a new
        one (same int, same stream); ``None`` gives a new generator spawned
        from nndl's default generator: independent of every other one, and
        reproducible after :func:`manual_seed`.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        # A child, not the default generator itself: a component that saves and restores its generator
        # (a checkpoint's dropout state) must not rewind the stream every other component draws from.
        return _default.spawn(1)[0]
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
