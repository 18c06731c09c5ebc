"""``diagnose``: the notes' checks of a network before (or during) training, on one batch."""

from __future__ import annotations

import numpy as np

from nndl.doctor.checks import (Thresholds, check_activations, check_gradients, check_initial_loss,
                                check_nonfinite, check_update_ratio, num_classes)
from nndl.doctor.facts import expected_initial_loss
from nndl.doctor.findings import Diagnosis, Finding
from nndl.doctor.overfit import overfit, wrong_gradient_layer
from nndl.doctor.probe import probe
from nndl.doctor.snapshot import Snapshot
from nndl.nn.core.module import Module
from nndl.random import as_generator


def _check_arguments(model, loss_fn, x, y) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"diagnose: model must be an nndl Module, got {type(model).__name__}")
    if not isinstance(loss_fn, Module):
        raise TypeError(f"diagnose: loss_fn must be an nndl loss module, got {type(loss_fn).__name__}")
    if getattr(loss_fn, "reduction", "mean") == "none":
        raise ValueError(f"diagnose: the loss must reduce to one number; {loss_fn.describe()} has reduction='none'")
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, np.ndarray):
            raise TypeError(f"diagnose: {name} must be a numpy array, got {type(value).__name__}")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"diagnose: x and y must hold the same, non-zero number of samples; got {len(x)} and {len(y)}")


def diagnose(model, loss_fn, x, y, optimizer=None, rng=None, *, thresholds: Thresholds | None = None,
             overfit_samples: int = 16, overfit_steps: int = 300, overfit_lr: float = 1e-2) -> Diagnosis:
    """Run the notes' checks on the batch ``(x, y)`` and leave everything as it was.

    In training mode, one forward and backward pass measures every layer
    (activation statistics, dead and saturated units, the backpropagated
    gradient); one ``optimizer.step()`` measures the update-to-weight ratio;
    a short run of Adam tries to overfit ``overfit_samples`` examples. Then
    the model (weights, ``.grad``, buffers, mode, every attribute), the
    optimizer (state and hyperparameters) and every random generator of the
    model, the loss and ``rng`` are put back bit for bit.

    Parameters
    ----------
    model : Module
    loss_fn : Loss
    x, y : ndarray
        A batch: a few hundred examples make the dead-unit fraction meaningful.
    optimizer : Optimizer, optional
        Needed for the ``update_ratio`` check (skipped without it).
    rng : Generator, int or None
        Draws the overfitting batch and the gradient check's directions;
        None uses a fixed seed, so a diagnosis is repeatable.
    thresholds : Thresholds, optional
    overfit_samples, overfit_steps, overfit_lr : int, int, float
        The overfitting run: batch size, step budget and Adam's learning rate.

    Returns
    -------
    Diagnosis
        ``.findings`` (each with ``code``, ``layer``, ``value``,
        ``threshold``, ``message``, ``remedy``), ``.ok``, ``.checks``,
        ``.layers`` and ``.loss``.
    """
    _check_arguments(model, loss_fn, x, y)
    limits = thresholds or Thresholds()
    others = (loss_fn, rng) if isinstance(rng, np.random.Generator) else (loss_fn,)
    generator = as_generator(0 if rng is None else rng)
    diagnosis = Diagnosis()
    with Snapshot(model, optimizer, others):
        model.train()
        model.zero_grad()
        result = probe(model, loss_fn, x, y)
        diagnosis.loss = result.loss
        diagnosis.layers = [r.row() for r in result.records if r.leaf]
        nonfinite = check_nonfinite(result)
        diagnosis.checks["nonfinite"] = "found" if nonfinite else "ok"
        if nonfinite:
            diagnosis.findings += nonfinite
            for name in ("initial_loss", "gradients", "dead_relu", "saturated", "update_ratio", "cannot_overfit"):
                diagnosis.checks[name] = "skipped: non-finite values"
            return diagnosis
        found, diagnosis.checks["initial_loss"] = check_initial_loss(result, loss_fn, limits)
        diagnosis.findings += found
        found, diagnosis.checks["gradients"] = check_gradients(result, limits)
        diagnosis.findings += found
        dead, saturated, diagnosis.checks["dead_relu"], diagnosis.checks["saturated"] = \
            check_activations(result, limits)
        diagnosis.findings += dead + saturated
        found, diagnosis.checks["update_ratio"] = check_update_ratio(model, optimizer, limits)
        diagnosis.findings += found
    with Snapshot(model, optimizer, others):
        found, diagnosis.checks["cannot_overfit"] = _check_overfit(
            model, loss_fn, x, y, generator, limits, overfit_samples, overfit_steps, overfit_lr, result)
        diagnosis.findings += found
    return diagnosis


def _check_overfit(model, loss_fn, x, y, rng, limits, samples, steps, lr, result) -> tuple[list[Finding], str]:
    if steps <= 0:
        return [], "skipped: overfit_steps=0"
    if not any(p.requires_grad for p in model.parameters()):
        return [], "skipped: no trainable parameter"
    pick = np.sort(rng.choice(len(x), size=min(samples, len(x)), replace=False))
    xs, ys = x[pick], y[pick]
    expected = expected_initial_loss(loss_fn, num_classes(result.scores))
    target = limits.overfit_fraction * (expected if expected is not None else result.loss)
    model.train()
    best, taken = overfit(model, loss_fn, xs, ys, steps, lr, target)
    if best <= target:
        return [], "ok"
    with Snapshot(model):
        culprit = wrong_gradient_layer(model, xs, rng)
    if culprit is not None:
        name, analytic, numeric = culprit
        where = (f"; layer '{name}' backpropagates a wrong gradient (directional derivative {analytic:.4g} "
                 f"from its backward, {numeric:.4g} from its forward)")
        remedy = f"fix the backward of layer '{name}' (check it with nndl.check.gradcheck)"
    else:
        name, where = "", "; every layer's backward agrees with its forward"
        remedy = ("check that the labels match the inputs and the loss gets what it expects; raise the capacity "
                  "or the learning rate; remove regularization while debugging")
    return [Finding("cannot_overfit", name, best, target,
                    f"after {taken} Adam steps on {len(xs)} examples the loss is still {best:.4g} "
                    f"(target {target:.3g}){where}", remedy)], "found"
