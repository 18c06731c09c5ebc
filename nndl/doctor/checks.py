"""The notes' checks, each turning measurements into findings.

Every check reads the per-layer records of one probe pass
(:mod:`nndl.doctor.probe`) and returns a list of :class:`Finding`; the
thresholds are the fields of :class:`Thresholds`, so a user can tighten or
relax one without touching the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nndl.doctor.facts import expected_initial_loss
from nndl.doctor.findings import Finding


@dataclass(frozen=True)
class Thresholds:
    """The limits of the checks.

    Attributes
    ----------
    initial_loss_factor : float
        Flag an initial loss above ``factor ×`` its expected value (``ln C``...).
        A loss *below* it is not flagged: a trained model starts lower.
    gradient_ratio : float
        Flag ``‖δ_first‖ / ‖δ_last‖`` (the backpropagated signal at the first
        and last layer with parameters) below ``1/ratio`` (vanishing) or
        above ``ratio`` (exploding).
    dead_fraction : float
        Flag a rectifier layer with more than this fraction of dead units.
    saturated_fraction : float
        Flag a tanh/sigmoid layer with more than this fraction of outputs in the flat tails.
    update_ratio_low, update_ratio_high : float
        Flag a weight whose ``‖Δθ‖/‖θ‖`` after one step lies outside this band around the notes' 1e-3.
    overfit_fraction : float
        The overfitting run succeeds when the loss falls below this fraction of
        the expected initial loss (of the first loss when none is known).
    """

    initial_loss_factor: float = 2.0
    gradient_ratio: float = 1e3
    dead_fraction: float = 0.4
    saturated_fraction: float = 0.25
    update_ratio_low: float = 1e-5
    update_ratio_high: float = 1e-1
    overfit_fraction: float = 0.05


def num_classes(scores) -> int:
    """The size of the class axis of the scores (1 for a single output column)."""
    if not isinstance(scores, np.ndarray) or scores.ndim < 1:
        return 0
    return int(scores.shape[1]) if scores.ndim >= 2 else 1


def check_nonfinite(result) -> list[Finding]:
    """NaN or inf in an activation, a backpropagated signal or a parameter gradient: the first layer it appears in."""
    for where, name in (("activation", result.first_nonfinite_forward),
                        ("backpropagated gradient", result.first_nonfinite_backward),
                        ("parameter gradient", result.nonfinite_parameter)):
        if name is not None:
            return [Finding("nonfinite", name, math.nan, 0.0,
                            f"the first non-finite {where} appears at layer '{name}' (its input was finite)",
                            "look for log(0), division by ~0 or overflow in that layer; lower the learning rate, "
                            "clip gradients, check the data for NaN")]
    if not math.isfinite(result.loss):
        return [Finding("nonfinite", "", result.loss, 0.0, f"the loss is {result.loss} although every activation "
                        "is finite", "check the targets and the loss's inputs (probabilities in (0, 1)?)")]
    return []


def check_initial_loss(result, loss_fn, limits: Thresholds) -> tuple[list[Finding], str]:
    expected = expected_initial_loss(loss_fn, num_classes(result.scores))
    if expected is None:
        return [], f"skipped: no expected value known for {type(loss_fn).__name__}"
    bound = limits.initial_loss_factor * expected
    if result.loss <= bound:
        return [], "ok"
    return [Finding("initial_loss", "", result.loss, bound,
                    f"loss {result.loss:.4g} at the current weights; expected about {expected:.4g} for "
                    f"{num_classes(result.scores)} classes with small random weights",
                    "the scores are too large at initialization: scale down the last layer's weights "
                    "(or all of them: Xavier/He init), check the loss gets raw scores, not probabilities")], "found"


def check_gradients(result, limits: Thresholds) -> tuple[list[Finding], str]:
    layers = [r for r in result.records if r.leaf and r.parameters and r.grad_norm is not None]
    if len(layers) < 2:
        return [], "skipped: fewer than two layers with parameters"
    first, last = layers[0], layers[-1]
    if last.grad_norm == 0.0:
        return [], "skipped: no gradient reaches the last layer"
    ratio = first.grad_norm / last.grad_norm
    if ratio < 1.0 / limits.gradient_ratio:
        smallest = min(layers, key=lambda r: r.grad_norm)
        return [Finding("vanishing_gradients", smallest.name, ratio, 1.0 / limits.gradient_ratio,
                        (f"the backpropagated gradient shrinks {1 / ratio:.3g}x from layer '{last.name}' to layer "
                         f"'{first.name}' (smallest at '{smallest.name}')" if ratio > 0 else
                         f"no gradient reaches layer '{first.name}' from layer '{last.name}' "
                         f"(it is 0 from '{smallest.name}' on)"),
                        "use He init for ReLU or Xavier for tanh (weights too small shrink δ at every layer), "
                        "ReLU instead of saturating activations, batch norm or residual connections")], "found"
    if ratio > limits.gradient_ratio:
        largest = max(layers, key=lambda r: r.grad_norm)
        return [Finding("exploding_gradients", largest.name, ratio, limits.gradient_ratio,
                        f"the backpropagated gradient grows {ratio:.3g}x from layer '{last.name}' to layer "
                        f"'{first.name}' (largest at '{largest.name}')",
                        "weights too large multiply δ at every layer: use Xavier/He init, clip the gradient "
                        "norm, add batch norm")], "found"
    return [], "ok"


def check_activations(result, limits: Thresholds) -> tuple[list[Finding], list[Finding], str, str]:
    dead, saturated = [], []
    rectifiers = [r for r in result.records if "dead" in r.stats]
    squashers = [r for r in result.records if "saturated" in r.stats]
    for rec in rectifiers:
        if rec.stats["dead"] > limits.dead_fraction:
            dead.append(Finding("dead_relu", rec.name, rec.stats["dead"], limits.dead_fraction,
                                f"{100 * rec.stats['dead']:.0f}% of the units of '{rec.name}' output 0 for every "
                                "example of the batch: they get no gradient",
                                "lower the learning rate, initialize biases at 0 (or a small positive value), "
                                "use He init, or a leaky ReLU"))
    for rec in squashers:
        if rec.stats["saturated"] > limits.saturated_fraction:
            saturated.append(Finding("saturated", rec.name, rec.stats["saturated"], limits.saturated_fraction,
                                     f"{100 * rec.stats['saturated']:.0f}% of the outputs of '{rec.name}' "
                                     f"({rec.type}) lie in its flat tails, where the derivative is ~0",
                                     "weights too large: use Xavier init (scale 1/sqrt(fan_in)), normalize the "
                                     "inputs, add batch norm before the activation"))

    def outcome(found, checked):
        return "found" if found else ("ok" if checked else "skipped: no such activation")

    return dead, saturated, outcome(dead, rectifiers), outcome(saturated, squashers)


def check_update_ratio(model, optimizer, limits: Thresholds) -> tuple[list[Finding], str]:
    """One ``optimizer.step()`` on the gradients in ``.grad``: ‖Δθ‖/‖θ‖ of every weight (ndim ≥ 2).

    Biases and normalization scales are left out: biases usually start at 0,
    where the ratio has no meaning, and the notes' 1e-3 rule is about weights.
    """
    if optimizer is None:
        return [], "skipped: no optimizer given"
    owners = {id(p): name for name, m in model.named_modules() for p in m._parameters.values() if p is not None}
    weights = [(name, p) for name, p in model.named_parameters()
               if p.requires_grad and p.grad is not None and p.data.ndim >= 2]
    before = [p.data.astype(np.float64) for _, p in weights]
    optimizer.step()
    findings = []
    for (name, param), old in zip(weights, before):
        norm = float(np.linalg.norm(old))
        if norm == 0.0:
            continue
        ratio = float(np.linalg.norm(param.data.astype(np.float64) - old)) / norm
        low, high = limits.update_ratio_low, limits.update_ratio_high
        if ratio < low or ratio > high or not math.isfinite(ratio):
            side = "large: the learning rate is too high" if not ratio < low else "small: the learning rate is too low"
            findings.append(Finding("update_ratio", owners.get(id(param), ""), ratio, high if not ratio < low else low,
                                    f"one step changes '{name}' by {ratio:.3g} of its norm; too {side}",
                                    "aim for ‖Δθ‖/‖θ‖ ≈ 1e-3: scale the learning rate by about "
                                    f"{1e-3 / ratio if ratio > 0 else math.inf:.3g}"))
    return findings, ("found" if findings else "ok") if weights else "skipped: no weight has a gradient"
