"""What the doctor reads from activations and losses: the facts their classes declare.

An activation class declares ``activation_facts`` (an
:class:`~nndl.nn.core.facts.ActivationFacts`: ReLU is a *rectifier* whose
units can die; tanh and σ *saturate* in flat tails); a loss class declares
``expected_initial_loss(num_classes)`` (``ln C`` for softmax cross-entropy,
``(C − 1)Δ`` for the multiclass hinge loss, ``ln 2`` for binary
cross-entropy). A user's own activation or loss joins the checks by
declaring the same; a layer that declares nothing is simply not checked for
dead units, saturation or its initial loss (the checks say which layers they
covered).
"""

from __future__ import annotations

from nndl.nn.core.facts import ActivationFacts


def activation_facts(module) -> ActivationFacts | None:
    """The facts ``module``'s class declares about its outputs, or None."""
    return getattr(module, "activation_facts", None)


def expected_initial_loss(loss_fn, num_classes: int) -> float | None:
    """The loss a classifier with near-zero scores has for ``num_classes`` classes; None if unknown."""
    rule = getattr(loss_fn, "expected_initial_loss", None)
    if rule is None or num_classes < 1:
        return None
    value = rule(num_classes)
    return None if value is None else float(value)
