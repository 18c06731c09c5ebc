"""Weight initializers (the notes' Xavier and He schemes), with PyTorch's conventions.

Each function returns a new array of the requested ``shape`` and ``dtype``,
drawn from ``rng`` (a Generator, an int seed or None). Shapes follow PyTorch:
a linear weight is ``(out_features, in_features)``, a conv weight
``(out_channels, in_channels / groups, kh, kw)``.

Why the variances: for ``z = W a`` with independent zero-mean entries,
``Var(z) = fan_in Var(W) Var(a)``. Xavier (Glorot) keeps the variance of
activations *and* of gradients roughly constant for symmetric activations
(tanh, sigmoid near 0): ``Var(W) = 2 / (fan_in + fan_out)``. He (Kaiming)
accounts for ReLU zeroing half its inputs: ``Var(W) = 2 / fan_in``.
A uniform ``U(-b, b)`` has variance ``b² / 3``, so ``b = √3 · std``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable

import numpy as np

from nndl.random import as_generator

_LINEAR_LIKE = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain (std multiplier) for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ``1`` for linear/conv/sigmoid, ``5/3`` for tanh, ``√2`` for relu,
    ``√(2 / (1 + slope²))`` for leaky_relu (slope ``param``, default 0.01),
    ``3/4`` for selu.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    valid = ", ".join(sorted(set(_LINEAR_LIKE) | {"tanh", "relu", "leaky_relu", "selu"}))
    raise ValueError(f"calculate_gain: unknown nonlinearity '{nonlinearity}'; valid: {valid}")


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``.

    For ``(out, in, *kernel)``: ``fan_in = in · prod(kernel)``,
    ``fan_out = out · prod(kernel)``. Needs at least two axes.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"fan_in_and_fan_out: needs a weight with at least 2 axes, got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(shape, mode: str) -> int:
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got '{mode}'")


class AllocationLimitError(MemoryError):
    """A model under construction asked for more parameter elements than :func:`allocation_limit` allows."""


_elements_left: ContextVar[list[int] | None] = ContextVar("nndl_elements_left", default=None)


@contextmanager
def allocation_limit(elements: int):
    """Inside the block, the initializers below create at most ``elements`` elements in total.

    Every parameter and buffer nndl's layers create is drawn by one of the
    initializers here, so a model built inside the block (e.g. from a
    checkpoint's configuration, which is a few bytes that can declare
    ``Linear(16000, 16000)``) is refused by :class:`AllocationLimitError`
    at the first array that would exceed the limit, before it is allocated.
    """
    token = _elements_left.set([int(elements)])
    try:
        yield
    finally:
        _elements_left.reset(token)


def _reserve(shape) -> None:
    """Count ``shape``'s elements against the active :func:`allocation_limit` (no limit: nothing to do)."""
    left = _elements_left.get()
    if left is None:
        return
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    requested = math.prod(dims)
    if requested > left[0]:
        raise AllocationLimitError(f"an array of shape {dims} ({requested:,} elements) "
                                   f"exceeds the {left[0]:,} elements left of the allocation limit")
    left[0] -= requested


def uniform(shape, low: float = 0.0, high: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Entries from ``U(low, high)``."""
    _reserve(shape)
    return as_generator(rng).uniform(low, high, size=shape).astype(dtype)


def normal(shape, mean: float = 0.0, std: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Entries from ``N(mean, std²)``."""
    _reserve(shape)
    return as_generator(rng).normal(mean, std, size=shape).astype(dtype)


def constant(shape, value: float, rng=None, dtype=np.float32) -> np.ndarray:
    """Every entry equal to ``value`` (``rng`` is accepted for a uniform signature and unused)."""
    _reserve(shape)
    return np.full(shape, value, dtype=dtype)


def zeros(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """All zeros (the usual bias initialization)."""
    _reserve(shape)
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """All ones (e.g. BatchNorm's scale γ)."""
    _reserve(shape)
    return np.ones(shape, dtype=dtype)


def xavier_uniform(shape, gain: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Glorot uniform: ``U(-b, b)`` with ``b = gain · √(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng, dtype)


def xavier_normal(shape, gain: float = 1.0, rng=None, dtype=np.float32) -> np.ndarray:
    """Glorot normal: ``N(0, std²)`` with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return normal(shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def kaiming_uniform(shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    rng=None, dtype=np.float32) -> np.ndarray:
    """He uniform: ``U(-b, b)`` with ``b = √3 · gain / √fan``.

    ``gain = calculate_gain(nonlinearity, a)``; with the defaults (``a=0``,
    leaky_relu) that is ReLU's ``√2``, so ``b = √(6 / fan_in)``.
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    bound = math.sqrt(3.0) * std
    return uniform(shape, -bound, bound, rng, dtype)


def kaiming_normal(shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   rng=None, dtype=np.float32) -> np.ndarray:
    """He normal: ``N(0, std²)`` with ``std = gain / √fan`` (``√(2 / fan_in)`` for ReLU)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(shape, mode))
    return normal(shape, 0.0, std, rng, dtype)


def pytorch_default(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """PyTorch's default for Linear and Conv weights and biases: ``U(-1/√fan_in, 1/√fan_in)``.

    (PyTorch writes it as ``kaiming_uniform`` with ``a=√5``; the bound works
    out to ``1/√fan_in``.) For a bias pass the weight's fan-in via
    :func:`bias_uniform` instead.
    """
    fan_in, _ = fan_in_and_fan_out(shape)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(shape, -bound, bound, rng, dtype)


def bias_uniform(shape, fan_in: int, rng=None, dtype=np.float32) -> np.ndarray:
    """PyTorch's default bias: ``U(-1/√fan_in, 1/√fan_in)`` with the weight's fan-in."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(shape, -bound, bound, rng, dtype)


def he_uniform(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """He uniform for ReLU layers, ``U(-√(6/fan_in), √(6/fan_in))``: nndl's default weight init."""
    return kaiming_uniform(shape, nonlinearity="relu", rng=rng, dtype=dtype)


WEIGHT_INITS: dict[str, Callable[..., np.ndarray]] = {
    "he_uniform": he_uniform,
    "kaiming_uniform": lambda shape, rng=None, dtype=np.float32: kaiming_uniform(
        shape, nonlinearity="relu", rng=rng, dtype=dtype),
    "kaiming_normal": lambda shape, rng=None, dtype=np.float32: kaiming_normal(
        shape, nonlinearity="relu", rng=rng, dtype=dtype),
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "pytorch": pytorch_default,
    "zeros": zeros,
}
"""Names accepted by a layer's ``init=`` argument.

``he_uniform`` / ``kaiming_*`` use ReLU's gain ``√2`` with fan-in; ``xavier_*``
use gain 1; ``pytorch`` reproduces PyTorch's default layer initialization
(weights *and* biases ``U(±1/√fan_in)``). With every other name biases start
at zero.
"""


def resolve_weight_init(init) -> Callable[..., np.ndarray]:
    """Map ``init`` (a name from :data:`WEIGHT_INITS` or a callable) to a function.

    A callable is called as ``init(shape, rng=rng, dtype=dtype)``.
    """
    if callable(init):
        return init
    try:
        return WEIGHT_INITS[init]
    except (KeyError, TypeError):
        valid = ", ".join(WEIGHT_INITS)
        raise ValueError(f"unknown init '{init}'; valid: {valid}, or a callable(shape, rng, dtype)") from None


def init_weight_and_bias(init, weight_shape, bias_shape, rng, dtype):
    """Initial ``(weight, bias)`` arrays for a layer with ``init`` (``bias`` is None when ``bias_shape`` is).

    The weight is drawn before the bias, so the same seed gives the same
    weight whether or not the layer has a bias.
    """
    rng = as_generator(rng)
    weight = resolve_weight_init(init)(weight_shape, rng=rng, dtype=dtype)
    if bias_shape is None:
        return weight, None
    if init == "pytorch":
        fan_in, _ = fan_in_and_fan_out(weight_shape)
        return weight, bias_uniform(bias_shape, fan_in, rng, dtype)
    return weight, zeros(bias_shape, dtype=dtype)
