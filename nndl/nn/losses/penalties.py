"""Weight penalties added to the loss: L2 (weight decay), L1 (sparsity) and elastic net.

The notes' regularized objective is ``L(W) = (1/N) Σ_i L_i + λ R(W)``. A
penalty object computes ``λR`` for the parameters it is given and, in
``backward``, *adds* ``λ ∂R/∂W`` into each parameter's ``.grad`` — call it
after the model's backward and before the optimizer step::

    loss = loss_fn(model(x), y) + l2.penalty(model)
    model.backward(loss_fn.backward())
    l2.backward(model)
    opt.step()

Which parameters are penalized
------------------------------
Given a ``Module`` (or ``(name, Parameter)`` pairs such as
``model.named_parameters()``), every trainable parameter is penalized except
biases, recognized by a name ending in ``'bias'`` (``fc.bias``,
``in_proj_bias``) unless ``include_bias=True``. Shifting a unit's output is no
source of overfitting, so biases are conventionally left free. Given a plain
list of ``Parameter`` objects, every one of them is penalized (no names, no
exclusion): the explicit choice. Frozen parameters (``requires_grad=False``)
are skipped both in the value and in the gradient; a parameter listed twice
counts once.

Relation to ``weight_decay``
----------------------------
``L2Penalty(λ)`` adds ``λW`` to the gradient, which is exactly what an SGD
optimizer with ``weight_decay=λ`` adds (``g ← g + λW``, PyTorch's
convention): the two are the same update *when applied to the same
parameters* (PyTorch's ``weight_decay`` applies to every parameter of its
group, biases included, unless they are put in a group of their own). With
adaptive optimizers the equivalence still holds for Adam's ``weight_decay``
(coupled), but not for AdamW, whose decoupled decay ``W ← W − γλW`` bypasses
the gradient and so is not an L2 penalty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from nndl.nn.core.module import Module
from nndl.nn.core.parameter import Parameter


def is_bias(name: str) -> bool:
    """Whether a parameter name denotes a bias: it ends in ``'bias'`` (PyTorch's naming)."""
    return name.endswith("bias")


def _check_strength(value, owner: str, name: str = "strength") -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value}")
    return value


class Penalty:
    """Base class: selection of the parameters and the add-to-``.grad`` contract.

    Subclasses implement ``_value(data) -> float`` (``λR`` of one array) and
    ``_gradient(data) -> ndarray`` (``λ ∂R/∂W``, a fresh array of ``data``'s dtype).

    Parameters
    ----------
    include_bias : bool
        Also penalize parameters whose name ends in ``'bias'``.
    """

    def __init__(self, include_bias: bool = False):
        self.include_bias = bool(include_bias)

    def parameters(self, params) -> list[Parameter]:
        """The trainable parameters this penalty acts on, from a Module, named pairs or a list."""
        owner = type(self).__name__
        if isinstance(params, Module):
            params = params.named_parameters()
        elif isinstance(params, Parameter):
            params = [params]
        elif not isinstance(params, Iterable):
            raise TypeError(f"{owner}: expected a Module, (name, Parameter) pairs or Parameters, "
                            f"got {type(params).__name__}")
        selected, seen = [], set()
        for item in params:
            if isinstance(item, Parameter):
                param = item
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Parameter):
                name, param = item
                if is_bias(str(name)) and not self.include_bias:
                    continue
            else:
                raise TypeError(f"{owner}: expected Parameters or (name, Parameter) pairs, "
                                f"got an item of type {type(item).__name__}")
            if param.requires_grad and id(param) not in seen:
                seen.add(id(param))
                selected.append(param)
        return selected

    def penalty(self, params) -> float:
        """``λR(W)`` summed over the selected parameters: the value to add to the loss."""
        return float(sum(self._value(param.data) for param in self.parameters(params)))

    __call__ = penalty

    def backward(self, params) -> None:
        """Add ``λ ∂R/∂W`` into each selected parameter's ``.grad`` (created if ``None``)."""
        for param in self.parameters(params):
            param.accumulate_grad(self._gradient(param.data))

    def _value(self, data: np.ndarray) -> float:
        raise NotImplementedError

    def _gradient(self, data: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return "include_bias=True" if self.include_bias else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def _sum_of_squares(data: np.ndarray) -> float:
    flat = data.reshape(-1).astype(np.float64, copy=False)  # accumulate in float64
    return float(np.dot(flat, flat))


def _sum_of_abs(data: np.ndarray) -> float:
    return float(np.sum(np.abs(data), dtype=np.float64))


class L2Penalty(Penalty):
    """L2 penalty (weight decay), the notes' form.

    .. math::
        λR(W) = \\frac{λ}{2} Σ_W \\|W\\|_F^2, \\qquad λ \\frac{∂R}{∂W} = λW

    Parameters
    ----------
    strength : float
        ``λ >= 0``. Equal to SGD's ``weight_decay`` on the same parameters
        (see the module docstring).
    include_bias : bool
    """

    def __init__(self, strength: float, include_bias: bool = False):
        super().__init__(include_bias)
        self.strength = _check_strength(strength, "L2Penalty")

    def _value(self, data):
        return 0.5 * self.strength * _sum_of_squares(data)

    def _gradient(self, data):
        return data * self.strength  # a Python float keeps data's dtype

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"strength={self.strength}", super().extra_repr()]))


class L1Penalty(Penalty):
    """L1 penalty (drives weights to exactly zero: sparsity), the notes' form.

    .. math::
        λR(W) = λ Σ_W Σ_k |W_k|, \\qquad λ \\frac{∂R}{∂W} = λ \\operatorname{sign}(W)

    ``|·|`` has no derivative at 0; the subgradient used there is
    ``sign(0) = 0``. Plain (sub)gradient steps make weights oscillate around 0
    rather than land on it; exact zeros need a proximal step (soft thresholding).

    Parameters
    ----------
    strength : float
        ``λ >= 0``.
    include_bias : bool
    """

    def __init__(self, strength: float, include_bias: bool = False):
        super().__init__(include_bias)
        self.strength = _check_strength(strength, "L1Penalty")

    def _value(self, data):
        return self.strength * _sum_of_abs(data)

    def _gradient(self, data):
        return np.sign(data) * self.strength

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"strength={self.strength}", super().extra_repr()]))


class ElasticNetPenalty(Penalty):
    """A mix of L1 and L2, parametrized as scikit-learn's ``ElasticNet`` (``alpha``, ``l1_ratio``).

    .. math::
        λR(W) = λρ Σ|W| + \\frac{λ(1 − ρ)}{2} Σ W^2, \\qquad
        λ\\frac{∂R}{∂W} = λρ \\operatorname{sign}(W) + λ(1 − ρ) W

    ``ρ = 1`` is :class:`L1Penalty`, ``ρ = 0`` is :class:`L2Penalty` (same λ).

    Parameters
    ----------
    strength : float
        ``λ >= 0`` (scikit-learn's ``alpha``).
    l1_ratio : float in [0, 1]
        ``ρ``.
    include_bias : bool
    """

    def __init__(self, strength: float, l1_ratio: float = 0.5, include_bias: bool = False):
        super().__init__(include_bias)
        self.strength = _check_strength(strength, "ElasticNetPenalty")
        l1_ratio = float(l1_ratio)
        if not 0.0 <= l1_ratio <= 1.0:
            raise ValueError(f"ElasticNetPenalty: l1_ratio must lie in [0, 1], got {l1_ratio}")
        self.l1_ratio = l1_ratio

    def _value(self, data):
        l1 = self.strength * self.l1_ratio
        l2 = self.strength * (1.0 - self.l1_ratio)
        return l1 * _sum_of_abs(data) + 0.5 * l2 * _sum_of_squares(data)

    def _gradient(self, data):
        l1 = self.strength * self.l1_ratio
        l2 = self.strength * (1.0 - self.l1_ratio)
        grad = np.sign(data) * l1
        grad += data * l2
        return grad

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"strength={self.strength}", f"l1_ratio={self.l1_ratio}",
                                       super().extra_repr()]))


PENALTIES = {"l1": L1Penalty, "l2": L2Penalty, "elastic_net": ElasticNetPenalty}


def make_penalty(name: str, **kwargs) -> Penalty:
    """Build a penalty from its registry name (``'l1'``, ``'l2'``, ``'elastic_net'``), e.g. from a config."""
    try:
        cls = PENALTIES[name]
    except KeyError:
        raise ValueError(f"unknown penalty '{name}'; valid: {', '.join(PENALTIES)}") from None
    return cls(**kwargs)
