"""What the doctor knows about activations and losses: the facts its checks need.

Two small registries, keyed by class and looked up along the class's MRO
(so a subclass of ``nn.ReLU`` is a rectifier too). A user's own activation or
loss joins them with :func:`register_activation` / :func:`register_loss`; a
class that is not registered is simply not checked for dead units,
saturation or its initial loss (the checks say which layers they covered).

- A **rectifier** outputs exactly 0 on half its domain: a unit that outputs
  0 for every example of a batch gets no gradient and may never recover (a
  *dead* ReLU).
- A **saturating** activation has flat tails: ``tanh`` beyond ``|a| > 0.99``
  and ``σ`` beyond ``a < 0.01`` or ``a > 0.99``, where ``f'(z) < 0.02``
  and the δ recursion multiplies the gradient by almost nothing.
- A loss's **expected initial loss**: with small random weights every score
  is near 0 and the loss is ``ln C`` for softmax cross-entropy (a uniform
  guess over C classes), ``(C − 1)Δ`` for the multiclass hinge loss (every
  wrong class violates the margin Δ by Δ) and ``ln 2`` for binary
  cross-entropy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from nndl import nn


@dataclass(frozen=True)
class ActivationFacts:
    """How the doctor reads one activation's output.

    Attributes
    ----------
    kind : {'rectifier', 'saturating'}
    low, high : float
        For a saturating activation: outputs ``<= low`` or ``>= high`` are in a flat tail.
    """

    kind: str
    low: float = -math.inf
    high: float = math.inf


RECTIFIER = ActivationFacts("rectifier")

_ACTIVATIONS: dict[type, ActivationFacts] = {
    nn.ReLU: RECTIFIER,
    nn.Tanh: ActivationFacts("saturating", low=-0.99, high=0.99),
    nn.Sigmoid: ActivationFacts("saturating", low=0.01, high=0.99),
}


def _cross_entropy(num_classes: int, loss) -> float:
    return math.log(num_classes)


def _hinge(num_classes: int, loss) -> float:
    return (num_classes - 1) * float(getattr(loss, "margin", 1.0))


def _binary(num_classes: int, loss) -> float:
    # One output column or one per independent label: ln 2 per label, averaged.
    return math.log(2.0)


_LOSSES: dict[type, Callable[[int, object], float]] = {
    nn.SoftmaxCrossEntropy: _cross_entropy,
    nn.NLLLoss: _cross_entropy,  # after LogSoftmax: the same ln C
    nn.MulticlassHingeLoss: _hinge,
    nn.BCELoss: _binary,
    nn.BCEWithLogitsLoss: _binary,
}


def _lookup(table: dict, cls: type):
    for base in cls.__mro__:
        if base in table:
            return table[base]
    return None


def register_activation(cls: type, facts: ActivationFacts) -> None:
    """Tell the doctor (and ``Monitor``) how to read the outputs of activation class ``cls``."""
    if not isinstance(cls, type):
        raise TypeError(f"register_activation: expected a class, got {type(cls).__name__}")
    if facts.kind not in ("rectifier", "saturating"):
        raise ValueError(f"register_activation: kind must be 'rectifier' or 'saturating', got {facts.kind!r}")
    _ACTIVATIONS[cls] = facts


def register_loss(cls: type, expected_initial_loss: Callable[[int, object], float]) -> None:
    """Register ``expected_initial_loss(num_classes, loss_module) -> float`` for loss class ``cls``."""
    if not isinstance(cls, type) or not callable(expected_initial_loss):
        raise TypeError("register_loss: expected a class and a function (num_classes, loss) -> float")
    _LOSSES[cls] = expected_initial_loss


def activation_facts(module) -> ActivationFacts | None:
    """The registered facts of ``module``'s class, or None."""
    return _lookup(_ACTIVATIONS, type(module))


def expected_initial_loss(loss_fn, num_classes: int) -> float | None:
    """The loss a classifier with near-zero scores has for ``num_classes`` classes; None if unknown."""
    rule = _lookup(_LOSSES, type(loss_fn))
    if rule is None or num_classes < 1:
        return None
    if rule is not _binary and num_classes < 2:
        return None
    return float(rule(num_classes, loss_fn))
