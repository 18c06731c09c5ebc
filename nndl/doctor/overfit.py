"""Can the model overfit one small batch? And if not, which layer's backward disagrees with its forward?

Karpathy's recipe and the notes agree: a network that cannot drive the loss
on a dozen examples to ~0 has a bug. When it cannot, each layer is checked on
its own: ``f(x, θ) = ⟨r, layer(x, θ)⟩`` for a random ``r``, the directional
derivative ``∂f/∂(x, θ) · v`` from the layer's backward against the central
difference ``(f(x + εv) − f(x − εv)) / 2ε`` in float64. A layer whose backward
returns the wrong sign (or the wrong anything) fails this and is named.
"""

from __future__ import annotations

import math

import numpy as np

from nndl.nn.core.hooks import backward as backward_entry
from nndl.doctor.probe import is_leaf


def overfit(model, loss_fn, x, y, steps: int, lr: float, target: float) -> tuple[float, int]:
    """Train on ``(x, y)`` with Adam(lr) for up to ``steps`` steps; return (the lowest loss seen, steps taken).

    Stops as soon as the loss is ``<= target`` or stops being finite.
    """
    from nndl.optim import Adam

    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return math.inf, 0
    optimizer = Adam(params, lr=lr)
    best = math.inf
    for step in range(steps + 1):
        try:
            loss = float(loss_fn(model(x), y))
        except FloatingPointError:
            return best, step
        if not math.isfinite(loss):
            return best, step
        best = min(best, loss)
        if loss <= target or step == steps:
            return best, step
        model.zero_grad()
        backward_entry(model, loss_fn.backward(), need_input_grad=False)
        optimizer.step()
    return best, steps


def _layer_inputs(model, x) -> list[tuple[str, object, np.ndarray]]:
    """(name, leaf module, its input) for every leaf that takes one float array, in forward order."""
    names = {id(m): name for name, m in model.named_modules()}
    seen: list[tuple[str, object, np.ndarray]] = []

    def grab(module, inputs):
        if len(inputs) == 1 and isinstance(inputs[0], np.ndarray) and inputs[0].dtype.kind == "f":
            seen.append((names[id(module)], module, inputs[0].copy()))

    handles = [m.register_forward_pre_hook(grab) for m in model.modules() if is_leaf(m)]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def directional_check(module, x: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """The layer's analytic and numerical directional derivatives and the tolerance between them.

    Runs in float64 on ``module`` itself (converted with ``to``) at ``x`` plus a
    little noise, which moves the input off the kinks of ReLU and the ties of
    max pooling where a finite difference is meaningless. Random generators
    of the module (dropout masks) are rewound before every forward so that
    every evaluation draws the same mask. The caller restores the module.
    """
    generators = [g for g in vars(module).values() if isinstance(g, np.random.Generator)]
    states = [g.bit_generator.state for g in generators]

    def run(inputs):
        for g, s in zip(generators, states):
            g.bit_generator.state = s
        return module(inputs)

    module.to(np.float64)
    x0 = x.astype(np.float64)
    scale = float(np.std(x0)) or 1.0
    x0 = x0 + 1e-2 * scale * rng.standard_normal(x0.shape)
    params = [p for p in module._parameters.values() if p is not None and p.requires_grad]
    out = run(x0)
    r = rng.standard_normal(out.shape)
    for param in params:
        param.grad = None
    dx = backward_entry(module, r, need_input_grad=True)
    vx = rng.standard_normal(x0.shape)
    vs = [rng.standard_normal(p.data.shape) for p in params]
    analytic = float(np.vdot(dx, vx)) + sum(float(np.vdot(p.grad, v)) for p, v in zip(params, vs)
                                            if p.grad is not None)
    start = [p.data.copy() for p in params]
    eps = 1e-6
    values = []
    for sign in (1.0, -1.0):
        for param, p0, v in zip(params, start, vs):
            param.data = p0 + sign * eps * v
        values.append(float(np.vdot(r, run(x0 + sign * eps * vx))))
    for param, p0 in zip(params, start):
        param.data = p0
    numeric = (values[0] - values[1]) / (2 * eps)
    # Relative agreement, plus the round-off of a difference quotient: ~1e-16 · Σ|r·out| / ε.
    tolerance = 1e-4 * (abs(analytic) + abs(numeric)) + 1e-9 * float(np.vdot(np.abs(r), np.abs(out)))
    return analytic, numeric, tolerance


def wrong_gradient_layer(model, x, rng) -> tuple[str, float, float] | None:
    """The first leaf module (in forward order) whose backward fails :func:`directional_check`.

    Returns ``(name, analytic, numeric)`` or None when every layer agrees.
    The caller restores the model afterwards.
    """
    for name, module, inputs in _layer_inputs(model, x):
        try:
            analytic, numeric, tolerance = directional_check(module, inputs, rng)
        except (NotImplementedError, TypeError, ValueError):
            continue  # a layer that cannot run in float64 on its own is not checked
        if not abs(analytic - numeric) <= tolerance:
            return name, analytic, numeric
    return None
