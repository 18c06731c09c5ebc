"""Ensembles of networks: average the members' probabilities, or let them vote (notes 000, 001).

k models trained independently (other initial weights, other mini-batch
orders, other bootstrap samples) make partly independent errors; averaging
their predictions cancels part of them. If each member's error has variance
v and two members' errors have correlation c, the average's variance is
``v (c + (1 − c)/k)``: the gain is largest for uncorrelated members and
vanishes for identical ones. ``examples/ensembles.py`` measures it.
"""

from __future__ import annotations

import numpy as np

from nndl.nn.core.hooks import backward
from nndl.nn.core.module import Module
from nndl.nn.core.shapes import output_shape
from nndl.random import as_generator

METHODS = ("mean", "vote")
MEMBER_OUTPUTS = ("logits", "probabilities", "log_probabilities")


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class Ensemble(Module):
    """A classifier made of ``k`` member classifiers: mean of their probabilities, or a majority vote.

    ``method='mean'``: :math:`\\bar p = \\frac1k Σ_j p_j`, with
    ``p_j = softmax(z_j)`` the probabilities of member ``j``.
    ``method='vote'``: :math:`\\bar p_c` = fraction of members whose arg-max
    is ``c`` (ties go to the lowest class index, as ``np.argmax``).

    ``forward`` returns :math:`\\log \\bar p`, the form of a ``LogSoftmax``
    output, so the Trainer's ``evaluate`` with ``nn.NLLLoss()`` (or
    ``nn.SoftmaxCrossEntropy()``: softmax(log p̄) = p̄) gives the ensemble's
    cross-entropy, the arg-max its prediction, and ``predict_proba`` (or
    ``np.exp``) the probabilities. Probabilities below the dtype's smallest
    normal number (a class no member votes for) are raised to it, so the
    logarithm stays finite (about −87 in float32).

    Train the members, not the ensemble: each with its own seed, or on a
    bootstrap sample of the data (bagging), e.g. with :func:`fit_members`.
    ``backward`` exists for ``method='mean'`` (the gradient reaches every
    member through its softmax) so the ensemble can also be checked and
    fine-tuned jointly; a vote is piecewise constant and has none.

    Parameters
    ----------
    models : sequence of Module
        The members, each mapping ``x`` to scores of shape ``(N, C)`` with
        ``C ≥ 2``; children ``'0'``, ``'1'``, ... (state-dict keys ``'0.weight'``...).
    method : ``'mean'`` or ``'vote'``
    member_outputs : ``'logits'`` (default), ``'probabilities'`` or ``'log_probabilities'``
        What the members return (a member ending in ``Softmax`` returns
        probabilities; no softmax is applied to them again).

    Shapes
    ------
    ``(N, ...) -> (N, C)``.
    """

    def __init__(self, models, method: str = "mean", member_outputs: str = "logits"):
        models = list(models) if not isinstance(models, Module) else None
        if not models:
            raise ValueError("Ensemble: models must be a non-empty sequence of Modules")
        for index, member in enumerate(models):
            if not isinstance(member, Module):
                raise TypeError(f"Ensemble: member {index} must be a Module, got {type(member).__name__}")
            if any(member is other for other in models[:index]):
                raise ValueError(f"Ensemble: member {index} is the same instance as an earlier one; "
                                 "train and pass separate models")
        if method not in METHODS:
            raise ValueError(f"Ensemble: method must be one of {', '.join(METHODS)}, got {method!r}")
        if member_outputs not in MEMBER_OUTPUTS:
            raise ValueError(f"Ensemble: member_outputs must be one of {', '.join(MEMBER_OUTPUTS)}, "
                             f"got {member_outputs!r}")
        super().__init__(models[0].dtype)
        self.method = method
        self.member_outputs = member_outputs
        for index, member in enumerate(models):
            self.add_module(str(index), member)
        self._cache = None

    @property
    def members(self) -> list[Module]:
        return list(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, index: int) -> Module:
        return self.members[index]

    # ------------------------------------------------------------------ computation
    def _probabilities(self, index: int, scores) -> np.ndarray:
        if not isinstance(scores, np.ndarray) or scores.ndim != 2 or scores.shape[1] < 2:
            shape = getattr(scores, "shape", type(scores).__name__)
            raise ValueError(f"Ensemble: member {index} must return class scores of shape (N, C) with C >= 2, "
                             f"got {shape}")
        if self.member_outputs == "logits":
            return _softmax(scores)
        return np.exp(scores) if self.member_outputs == "log_probabilities" else scores

    def member_probabilities(self, x) -> list[np.ndarray]:
        """Each member's class probabilities ``p_j`` for ``x``, shape ``(N, C)`` each (in the current mode)."""
        probabilities = [self._probabilities(i, member(x)) for i, member in enumerate(self.members)]
        shapes = {p.shape for p in probabilities}
        if len(shapes) > 1:
            raise ValueError(f"Ensemble: members return different shapes {[p.shape for p in probabilities]}")
        return probabilities

    def forward(self, x):
        probabilities = self.member_probabilities(x)
        if self.method == "mean":
            mean = np.mean(probabilities, axis=0)                          # p̄ = (1/k) Σ_j p_j
        else:
            classes = probabilities[0].shape[1]
            votes = [np.eye(classes, dtype=probabilities[0].dtype)[np.argmax(p, axis=1)] for p in probabilities]
            mean = np.mean(votes, axis=0)                                  # fraction of votes per class
        floor = np.finfo(mean.dtype).tiny
        self._cache = (probabilities, mean, floor)
        return np.log(np.maximum(mean, floor))

    def backward(self, dout):
        """∂L/∂x through every member, for ``method='mean'`` with logit members.

        With ``y = log p̄`` and ``g = δ / p̄ = ∂L/∂p̄``, each member's logits get
        ``∂L/∂z_j = (1/k) p_j ⊙ (g − Σ_c p_jc g_c)`` (the softmax Jacobian),
        and since ``x`` feeds every member the input gradients add.
        """
        if self.method != "mean" or self.member_outputs != "logits":
            raise RuntimeError(f"Ensemble: backward needs method='mean' and member_outputs='logits' "
                               f"(got {self.method!r}, {self.member_outputs!r}); train the members instead")
        probabilities, mean, floor = self._saved()
        grad_mean = np.where(mean > floor, dout / np.maximum(mean, floor), 0.0)  # ∂L/∂p̄
        k = len(probabilities)
        dx = None
        for member, p in zip(self.members, probabilities):
            dz = p * (grad_mean - np.sum(p * grad_mean, axis=1, keepdims=True)) / k
            grad = backward(member, dz.astype(p.dtype, copy=False))
            dx = grad if dx is None else dx + grad
        return dx

    def predict_proba(self, x) -> np.ndarray:
        """The averaged probabilities (or vote fractions) ``p̄`` for ``x``, shape ``(N, C)``."""
        self.forward(x)
        return self._cache[1]

    def output_shape(self, input_shape):
        shapes = {tuple(output_shape(member, input_shape)) for member in self.members}
        if len(shapes) > 1:
            raise ValueError(f"Ensemble: members give different output shapes {sorted(shapes)}")
        return shapes.pop()

    def extra_repr(self) -> str:
        extra = f"method={self.method!r}"
        return extra if self.member_outputs == "logits" else f"{extra}, member_outputs={self.member_outputs!r}"


def fit_members(ensemble: Ensemble, make_trainer, x, y, bootstrap: bool = False, rng=None, **fit_kwargs) -> list:
    """Train every member of ``ensemble`` on its own, one after the other; return their ``History`` objects.

    Parameters
    ----------
    ensemble : Ensemble
    make_trainer : callable ``member -> Trainer``
        Builds each member's trainer (its own optimizer on its parameters).
    x, y : ndarray
        The training set.
    bootstrap : bool
        Bagging: each member trains on ``N`` rows drawn with replacement
        from the ``N`` rows of ``(x, y)`` (about 63 % distinct), another
        source of independence besides the members' seeds.
    rng : Generator, int or None
        Draws the bootstrap rows and drives each ``fit`` (shuffling).
    **fit_kwargs
        Passed to ``Trainer.fit`` (``epochs``, ``batch_size``, ``verbose``...).
    """
    if not isinstance(ensemble, Ensemble):
        raise TypeError(f"fit_members: expected an Ensemble, got {type(ensemble).__name__}")
    rng = as_generator(rng)
    histories = []
    for member in ensemble.members:
        rows = rng.integers(0, len(x), size=len(x)) if bootstrap else slice(None)
        histories.append(make_trainer(member).fit(x[rows], y[rows], rng=rng, **fit_kwargs))
    return histories
