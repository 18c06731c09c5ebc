"""One forward and backward pass with hooks on every module: the per-layer facts the checks read.

The statistics are the ones the notes plot: the mean and standard deviation
of each layer's activations, the fraction of rectifier units that are dead
(0 for every example) and of saturating outputs in the flat tails, and the
size of the backpropagated signal ``‖δ‖ = ‖∂L/∂a‖`` at each layer's output,
whose shrinking or growing with depth is the vanishing or exploding
gradient. Hooks see the computation through ``module(x)`` and
``nn.backward(module, δ)``, so containers and zoo models are covered alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nndl.doctor.facts import activation_facts
from nndl.nn.core.hooks import backward as backward_entry


def is_leaf(module) -> bool:
    return not any(child is not None for child in module._modules.values())


def has_own_parameters(module) -> bool:
    return any(p is not None and p.requires_grad for p in module._parameters.values())


def activation_stats(output: np.ndarray, facts) -> dict:
    """``mean``, ``std`` of ``output`` and, for a registered activation, ``dead`` or ``saturated``.

    A *unit* is a feature of an ``(N, D)`` output or a channel (feature map)
    of an ``(N, C, ...)`` one: it is dead when it is 0 for every example and
    every position of the batch.
    """
    count = max(output.size, 1)
    # Two reductions without a float64 copy of the whole array: Σa in float64, Σa² by BLAS.
    mean = float(np.sum(output, dtype=np.float64)) / count
    flat = output.reshape(-1)
    square = float(np.vdot(flat, flat)) / count
    stats = {"mean": mean, "std": math.sqrt(max(square - mean * mean, 0.0))}
    if facts is None:
        return stats
    if facts.kind == "rectifier":
        axes = (0,) + tuple(range(2, output.ndim)) if output.ndim >= 2 else (0,)
        alive = np.any(output != 0, axis=axes)
        stats["dead"] = float(1.0 - np.count_nonzero(alive) / max(alive.size, 1))
    else:
        tails = np.count_nonzero((output <= facts.low) | (output >= facts.high))
        stats["saturated"] = float(tails / max(output.size, 1))
    return stats


def _all_finite(values) -> bool:
    if isinstance(values, np.ndarray):
        return values.dtype.kind != "f" or bool(np.isfinite(values).all())
    if isinstance(values, (tuple, list)):
        return all(_all_finite(v) for v in values)
    if isinstance(values, dict):
        return all(_all_finite(v) for v in values.values())
    return True


def signal_norm(delta: np.ndarray) -> float:
    """``‖δ‖`` per example: ``sqrt(Σ δ² / N)``, the size of one example's backpropagated signal."""
    flat = delta.reshape(-1)
    return float(math.sqrt(max(float(np.vdot(flat, flat)), 0.0) / max(len(delta), 1)))


@dataclass
class LayerRecord:
    """What one module showed during the probe pass."""

    name: str
    type: str
    leaf: bool
    parameters: bool
    order: int
    stats: dict = field(default_factory=dict)
    grad_norm: float | None = None

    def row(self) -> dict:
        return {"layer": self.name, "type": self.type, **self.stats,
                **({} if self.grad_norm is None else {"grad_norm": self.grad_norm})}


@dataclass
class ProbeResult:
    loss: float
    scores: object
    records: list[LayerRecord]
    first_nonfinite_forward: str | None = None
    first_nonfinite_backward: str | None = None
    nonfinite_parameter: str | None = None

    def by_name(self) -> dict[str, LayerRecord]:
        return {r.name: r for r in self.records}


def probe(model, loss_fn, x, y) -> ProbeResult:
    """Run ``loss_fn(model(x), y)`` and its backward once, with statistics hooks on every module.

    Gradients are *added* to ``.grad``: call on a model whose gradients were cleared (the caller restores them).
    """
    names = {id(m): name for name, m in model.named_modules()}
    records: dict[int, LayerRecord] = {}
    state = {"forward": None, "backward": None, "parameter": None}

    def record(module) -> LayerRecord:
        key = id(module)
        if key not in records:
            records[key] = LayerRecord(names[key], type(module).__name__, is_leaf(module),
                                       has_own_parameters(module), len(records))
        return records[key]

    def on_forward(module, inputs, output):
        rec = record(module)
        if state["forward"] is None and not _all_finite(output) and _all_finite(inputs):
            state["forward"] = rec.name
        if rec.leaf and isinstance(output, np.ndarray) and output.dtype.kind == "f":
            if _all_finite(output):
                rec.stats = activation_stats(output, activation_facts(module))
            else:
                rec.stats = {"mean": math.nan, "std": math.nan}

    def on_backward(module, grad_input, grad_output):
        rec = record(module)
        delta = grad_output[0]
        if isinstance(delta, np.ndarray) and rec.leaf:
            rec.grad_norm = signal_norm(delta) if _all_finite(delta) else math.nan
        if state["backward"] is None and _all_finite(grad_output) and not _all_finite(grad_input):
            state["backward"] = rec.name
        if state["parameter"] is None:
            for param in module._parameters.values():
                if param is not None and param.grad is not None and not _all_finite(param.grad):
                    state["parameter"] = rec.name
                    break

    handles = []
    for _, module in model.named_modules():
        handles.append(module.register_forward_hook(on_forward))
        handles.append(module.register_full_backward_hook(on_backward))
    try:
        with np.errstate(all="ignore"):  # non-finite values are reported as findings, not as warnings
            scores = model(x)
            try:
                loss = float(loss_fn(scores, y))
            except FloatingPointError:
                loss = math.nan
            if state["forward"] is None and math.isfinite(loss):
                backward_entry(model, loss_fn.backward(), need_input_grad=False)
    finally:
        for handle in handles:
            handle.remove()
    ordered = sorted(records.values(), key=lambda r: r.order)
    return ProbeResult(loss, scores, ordered, state["forward"], state["backward"], state["parameter"])
