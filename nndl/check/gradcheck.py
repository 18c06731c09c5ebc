"""Numerical gradient checking by central differences, in float64.

The check every backward in nndl is held to: for a module ``f`` and a fixed
random upstream gradient ``δ``, the scalar ``L = Σ f(x) ⊙ δ`` has
``∂L/∂x = backward(δ)``; each partial derivative is compared with the central
difference ``(L(x + h e_i) − L(x − h e_i)) / 2h``, whose error is
``O(h²)`` from truncation plus ``O(ε_machine / h)`` from rounding.
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from nndl.nn.losses.loss import Loss
from nndl.nn.core.module import Module
from nndl.random import as_generator


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """Largest entrywise difference relative to the larger of the two gradients' scales.

    .. math::
        \\mathrm{err}(a, b) = \\frac{\\max_i |a_i - b_i|}{\\max(\\max_i |a_i|, \\max_i |b_i|, \\text{floor})}

    Scaling by the tensor's largest entry (rather than entry by entry) keeps
    the rounding noise of near-zero entries from dominating, while any wrong
    entry of the tensor's own size still shows up as an error of order 1. The
    ``floor`` makes two gradients that are both below it compare as equal.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), floor)
    return float(np.max(np.abs(a - b)) / scale)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6,
                       indices: np.ndarray | None = None) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to the array ``x``.

    ``f`` takes no argument and reads ``x``, which is perturbed in place and
    restored after each coordinate.

    Parameters
    ----------
    f : callable returning float
    x : ndarray (float64 for meaningful results)
    eps : float
        Step ``h``; 1e-6 balances truncation and rounding in float64.
    indices : ndarray of int, optional
        Flat indices to differentiate; the others are left at 0. All by default.

    Returns
    -------
    grad : ndarray, same shape as ``x``
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat_x = x.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous so it can be perturbed in place")
    flat_grad = grad.reshape(-1)
    for i in (range(x.size) if indices is None else indices):
        original = flat_x[i]
        flat_x[i] = original + eps
        plus = f()
        flat_x[i] = original - eps
        minus = f()
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2.0 * eps)
    return grad


def _generators(module: Module) -> list[np.random.Generator]:
    found = []
    for sub in module.modules():
        found.extend(v for v in vars(sub).values() if isinstance(v, np.random.Generator))
    return found


def _to_float64(value):
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return np.ascontiguousarray(value, dtype=np.float64).copy()
    return value


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


DEFAULT_SEED = 271_828
"""Seed of gradcheck's own draws when no ``rng`` is given: fixed, so checks are reproducible,
and unlike 0 unlikely to be the seed that drew the inputs (an upstream gradient equal to the input
makes the check needlessly ill-conditioned)."""


def gradcheck(module: Module, *inputs, dout=None, eps: float = 1e-6, max_coords: int | None = 400,
              rng=None, check_inputs: bool = True) -> dict[str, float]:
    """Compare a module's (or loss's) backward pass with central differences, in float64.

    The module is deep-copied and converted to float64 first; the original is
    left untouched. Randomness inside the module (e.g. dropout masks drawn
    from its ``rng``) is held fixed by restoring every Generator's state
    before each forward pass.

    Parameters
    ----------
    module : Module or Loss
        For a ``Loss``, ``inputs`` are ``(scores, target)`` and only the
        scores are differentiated; ``L`` is the loss itself. For any other
        module, every float input is differentiated and ``L = Σ out ⊙ δ``.
    *inputs : ndarray
    dout : ndarray or tuple, optional
        Upstream gradient ``δ``; standard normal from ``rng`` by default.
    eps : float
        Finite-difference step.
    max_coords : int or None
        Tensors larger than this are checked on that many coordinates drawn
        from ``rng`` (without replacement); ``None`` checks all.
    rng : Generator, int or None
        Fixes ``δ`` and the sampled coordinates; ``None`` uses :data:`DEFAULT_SEED`.
    check_inputs : bool
        Also check ∂L/∂input (turn off for inputs that are indices).

    Returns
    -------
    dict
        ``{name: rel_error}`` for ``'input'`` (or ``'input0'``, ``'input1'``...)
        and every trainable parameter by its dotted name; see :func:`rel_error`.
    """
    rng = as_generator(DEFAULT_SEED if rng is None else rng)
    model = copy.deepcopy(module).to(np.float64)
    model.zero_grad()
    is_loss = isinstance(model, Loss)
    inputs = [_to_float64(x) for x in inputs]
    generators = _generators(model)
    states = [g.bit_generator.state for g in generators]

    def restore():
        for g, s in zip(generators, states):
            g.bit_generator.state = s

    restore()
    out = model(*inputs)
    if is_loss:
        analytic_inputs = (model.backward(),)
        differentiable = [0]

        def objective() -> float:
            restore()
            return float(model(*inputs))
    else:
        outs = _as_tuple(out)
        if dout is None:
            douts = tuple(rng.standard_normal(o.shape) for o in outs)
        else:
            douts = tuple(np.asarray(d, dtype=np.float64) for d in _as_tuple(dout))
        analytic_inputs = _as_tuple(model.backward(douts if isinstance(out, tuple) else douts[0]))
        differentiable = [i for i, x in enumerate(inputs)
                          if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)]

        def objective() -> float:
            restore()
            results = _as_tuple(model(*inputs))
            return float(sum(np.sum(r * d) for r, d in zip(results, douts)))

    def coords(size: int):
        if max_coords is None or size <= max_coords:
            return None
        return rng.choice(size, size=max_coords, replace=False)

    def compare(analytic: np.ndarray, target: np.ndarray) -> float:
        idx = coords(target.size)
        numeric = numerical_gradient(objective, target, eps, idx)
        if idx is None:
            return rel_error(analytic, numeric)
        return rel_error(np.asarray(analytic).reshape(-1)[idx], numeric.reshape(-1)[idx])

    errors: dict[str, float] = {}
    if check_inputs:
        for k in differentiable:
            name = "input" if len(differentiable) == 1 else f"input{k}"
            if analytic_inputs[k] is None:
                raise AssertionError(f"gradcheck: {module.describe()} returned no gradient for {name}")
            errors[name] = compare(analytic_inputs[k], inputs[k])
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        analytic = param.grad if param.grad is not None else np.zeros_like(param.data)
        errors[name] = compare(analytic.copy(), param.data)
    return errors


def assert_gradcheck(module: Module, *inputs, tol: float = 1e-7, **kwargs) -> dict[str, float]:
    """Run :func:`gradcheck` and raise ``AssertionError`` listing every tensor whose error exceeds ``tol``."""
    errors = gradcheck(module, *inputs, **kwargs)
    bad = {k: v for k, v in errors.items() if not v < tol}
    if bad:
        detail = ", ".join(f"{k}: {v:.2e}" for k, v in bad.items())
        raise AssertionError(f"gradcheck of {module.describe()} failed (tol {tol:.0e}): {detail}")
    return errors
